"""``sim viz`` (the teaching page) and ``sim animate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..errors import BadInput
from ..params import RULES
from .common import (
    MaxMemoryOpt,
    ScenarioArg,
    SeedOpt,
    SetOpt,
    _check_rule,
    _fail,
    _load,
    _one_province,
    _prepare,
    _say,
    _transient_bar,
    app,
    err,
    out,
)


@app.command()
def viz(
    scenario: Annotated[
        Path | None,
        typer.Argument(help="Scenario file (TOML).  \\[default: scenarios/teaching.toml]"),
    ] = None,
    port: Annotated[int, typer.Option(help="Port (0: any free port).", min=0, max=65535)] = 8765,
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0: reachable from the classroom).")
    ] = "127.0.0.1",
    set_: SetOpt = None,
    class_mode: Annotated[
        bool,
        typer.Option(
            "--class",
            help="Class mode: each student plays a county; the teacher runs the rounds.",
        ),
    ] = False,
) -> None:
    """Teaching app in the browser: map, live curves, sliders, the rules side by side."""
    import json
    import os
    import socket

    from ..scenario import parse_assignment

    if scenario is None:  # from the current folder, else this repository's copy
        scenario = Path("scenarios/teaching.toml")
        bundled = Path(__file__).resolve().parents[2] / scenario
        if not scenario.exists() and bundled.exists():
            scenario = bundled
    try:
        loaded = _load(scenario, set_)
        _one_province(loaded, "viz")
        from .safety import check_listen

        check_listen(host, port)
    except BadInput as exc:
        raise _fail(exc) from None
    overrides = dict(parse_assignment(a) for a in set_ or [])
    os.environ["SIM_VIZ_SCENARIO"] = str(scenario.resolve())
    os.environ["SIM_VIZ_SET"] = json.dumps(overrides)
    # Solara reads its settings when imported: no telemetry, no banner over the plots
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")
    os.environ.setdefault("SOLARA_THEME_SHOW_BANNER", "false")
    # a browser session whose connection dropped (laptop closed, no "tab closed" signal)
    # ends after 10 minutes, not Solara's 24 hours: its models are released (sim.interactive.app)
    os.environ.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", "10m")
    try:
        import solara  # noqa: F401
    except ImportError:
        err.print(
            "[bold red]error:[/] "
            + escape("sim viz needs the viz extra: pip install 'reform-diffusion-sim[viz]'"),
            highlight=False,
        )
        raise typer.Exit(2) from None
    # before serving: a first page (or a first class round) never waits on a silent compile
    _prepare(loaded, intent=class_mode)
    if os.environ.get("SIM_VIZ_SHAPES"):  # boundaries to draw: checked before serving
        from ..interactive import live
        from ..interactive.app import TeachingModel

        check = TeachingModel(loaded, loaded.rule)
        try:
            live.shapes_for(next(iter(check.runs.values())))
        except BadInput as exc:
            raise _fail(exc) from None
        finally:
            check.release()
    if port == 0:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    import secrets

    from ..interactive import room
    from ..interactive.app import serve

    # off the machine's own address, the page needs the join token (in the printed
    # addresses and the QR code); class mode always has one (sim.interactive.guard)
    join = secrets.token_urlsafe(9) if class_mode or not room.is_loopback(host) else None
    os.environ["SIM_VIZ_URLS"] = json.dumps(
        [room.with_token(u, join) for u in room.urls(host, port)] if host in room.ANY else []
    )
    if class_mode:  # the tokens: students need the join token, the teacher their own
        os.environ["SIM_VIZ_CLASS"] = "1"
        os.environ["SIM_VIZ_URLS"] = json.dumps(
            room.urls(host, port) or [f"http://127.0.0.1:{port}/"]
        )
        os.environ["SIM_VIZ_JOIN"] = str(join)
        os.environ["SIM_VIZ_TEACHER"] = secrets.token_urlsafe(12)
        banner = room.class_banner(
            host, port, join=str(join), teacher=os.environ["SIM_VIZ_TEACHER"]
        )
    else:
        banner = room.banner(host, port, token=join)
    out.print(banner, markup=False, highlight=False, soft_wrap=True)
    teacher = os.environ.get("SIM_VIZ_TEACHER") if class_mode else None
    serve(host=host, port=port, token=join, also=(teacher,) if teacher else ())


@app.command()
def animate(
    scenario: ScenarioArg,
    out_file: Annotated[Path, typer.Option("--out", help="Output file: .gif or .mp4 (ffmpeg).")],
    rule: Annotated[
        str | None, typer.Option(help=f"One of {', '.join(RULES)} (default: the scenario's).")
    ] = None,
    side_by_side: Annotated[
        bool, typer.Option("--side-by-side", help="Every rule on the same seed, side by side.")
    ] = False,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    fps: Annotated[int, typer.Option(help="Frames per second.", min=1, max=60)] = 8,
    every: Annotated[int, typer.Option(help="Draw every N-th step.", min=1)] = 1,
    dpi: Annotated[int, typer.Option(help="Resolution (80: 1024 px wide).", min=30)] = 80,
    max_memory: MaxMemoryOpt = None,
) -> None:
    """Animate the map and the curves for slides (GIF, or MP4 when ffmpeg is installed)."""

    from .. import limits
    from ..interactive.animate import animate as run_animate
    from ..interactive.animate import check_output, frame_steps
    from ..outputs import check_file_out

    try:
        limits.set_memory_limit(max_memory)
        if side_by_side and rule is not None:
            raise BadInput.one("--rule", "", "give either --rule or --side-by-side, not both")
        _check_rule(rule, RULES)
        writer = check_output(out_file)
        check_file_out(out_file)
        s = _one_province(_load(scenario, set_), "animate")
        rules = RULES if side_by_side else (rule or s.rule,)
        frames = len(frame_steps(s.n_steps, every)) if writer == "pillow" else 1  # GIF: all
        limits.check_animation(s, rules=len(rules), frames=frames, dpi=dpi)
    except BadInput as exc:
        raise _fail(exc) from None
    _prepare(s)
    with _transient_bar() as bar:
        task = bar.add_task("frames", total=None)
        frames = run_animate(
            s,
            out_file,
            rules=rules,
            seed=seed,
            fps=fps,
            every=every,
            dpi=dpi,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    _say(out, f"wrote {out_file} ({frames} frames at {fps} fps)")
