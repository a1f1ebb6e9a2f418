"""The ``sim`` command line: ``run``, ``compare``, ``sweep``, ``merge``, ``analyze``,
``calibrate``, ``validate``, ``params``, ``viz``, ``animate``.

Exit status: 0 on success, 2 on bad input or usage (one message naming the file and key,
no traceback, nothing written), 130 when a sweep is interrupted (finished chunks are kept;
continue with ``--resume``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .errors import BadInput, Problem
from .params import RULES

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Simulate how digital-government reforms diffuse among local governments.",
)
out = Console()
err = Console(stderr=True)

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario file (TOML).", show_default=False)]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a parameter: KEY=VALUE (a TOML literal). Repeatable."),
]
SeedOpt = Annotated[int | None, typer.Option(help="Root seed (default: the scenario's).", min=0)]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Output folder.")]
MaxMemoryOpt = Annotated[
    str | None,
    typer.Option(
        "--max-memory",
        envvar="SIM_MAX_MEMORY",
        help="Refuse work estimated to need more memory than this (8G, 512M; 0: no check). "
        "Default: the memory available.",
        show_default=False,
    ),
]


def _load(path: Path, assignments: list[str] | None) -> Any:
    from .scenario import load_scenario, parse_assignment

    overrides: dict[str, Any] = {}
    problems: list[Problem] = []
    for text in assignments or []:
        try:
            key, value = parse_assignment(text)
            overrides[key] = value
        except BadInput as exc:
            problems += exc.problems
    if problems:
        raise BadInput(problems)
    return load_scenario(path, overrides)


def _say(console: Console, text: str) -> None:
    """Print plain text: never read as Rich markup (paths, names and messages that users
    wrote may contain [brackets]), no highlighting."""
    console.print(text, markup=False, highlight=False)


def _fail(exc: BadInput) -> typer.Exit:
    for problem in exc.problems:
        err.print(f"[bold red]error:[/] {escape(str(problem))}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _fmt(x: float, digits: int = 3) -> str:
    if x != x:  # NaN
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}" if abs(x) < 10 else f"{x:.1f}"


@app.command()
def run(
    scenario: ScenarioArg,
    rule: Annotated[
        str | None,
        typer.Option(
            help=f"One of {', '.join(RULES)}, or mixed for a national scenario "
            "(default: the scenario's)."
        ),
    ] = None,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    out_dir: OutOpt = None,
    max_memory: MaxMemoryOpt = None,
) -> None:
    """Run one scenario once; print a summary and write its outputs."""
    from . import limits
    from .io import write_csv, write_json
    from .outputs import check_out, safe_name, staged
    from .provenance import provenance
    from .run import run as run_once

    try:
        limits.set_memory_limit(max_memory)
        s = _load(scenario, set_)
        limits.check(limits.run_estimate(s), str(scenario), "size")
        name = f"{rule or s.rule}-seed{s.seed if seed is None else seed}"
        folder = out_dir or Path("results") / safe_name(s.name) / name
        check_out(folder)
        result = run_once(s, rule=rule, seed=seed)
        with staged(folder) as tmp:
            write_csv(tmp / "timeseries.csv", result.timeseries)
            write_csv(tmp / "agents.csv", result.agents)
            write_json(tmp / "outcomes.json", result.outcomes)
            written = ["timeseries.csv", "agents.csv", "outcomes.json"]
            if result.provinces is not None:
                write_csv(tmp / "provinces.csv", result.provinces)
                written.append("provinces.csv")
            from .interactive.maps import boundaries_for, run_map

            if boundaries_for(s) is not None:  # real counties or provinces: the run's map
                run_map(result, s, tmp / "map.png")
                written.append("map.png")
            write_json(tmp / "scenario.json", {"path": str(scenario), **s.model_dump(mode="json")})
            write_json(
                tmp / "provenance.json",
                provenance(scenario=str(scenario), rule=result.rule, seed=result.seed),
            )
    except BadInput as exc:
        raise _fail(exc) from None
    title = f"{escape(s.name)} · rule {result.rule} · seed {result.seed}"
    table = Table(title=title, title_justify="left")
    table.add_column("outcome")
    table.add_column("value", justify="right")
    for name, value in result.outcomes.items():
        table.add_row(name, _fmt(value))
    out.print(table)
    written += ["scenario.json", "provenance.json"]
    _say(out, f"wrote {folder}/ ({', '.join(written)})")


@app.command()
def compare(
    scenario: ScenarioArg,
    replicates: Annotated[
        int, typer.Option(help="Paired replicates (seeds SEED .. SEED+R-1).", min=1)
    ] = 20,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    out_dir: OutOpt = None,
    rules: Annotated[
        str | None,
        typer.Option(
            help=f"Comma-separated rules to compare (default: all: {','.join(RULES)}; "
            "national scenarios add mixed)."
        ),
    ] = None,
    match_: Annotated[
        str | None,
        typer.Option(
            "--match",
            help="Equal-outcome contrast: an outcome (e.g. lifecycle_cost) that --rule must "
            "match against the first other rule, by adjusting --by (writes match.json).",
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(help="With --match: the parameter adjusted (e.g. drive.contractor_capacity)."),
    ] = None,
    rule: Annotated[
        str, typer.Option(help="With --match: the rule whose parameter is adjusted.")
    ] = "contractor",
    max_memory: MaxMemoryOpt = None,
) -> None:
    """Run the rules on the same seeds; print means, 95% intervals and paired differences.

    With --match OUTCOME --by PARAM, first set PARAM for --rule by bisection on common random
    numbers until its mean OUTCOME equals the first other rule's within 1%, then compare."""

    from . import limits
    from .experiments.compare import BLOCK, plot
    from .experiments.compare import compare as run_compare
    from .io import write_csv, write_json
    from .outputs import check_out, safe_name, staged
    from .provenance import provenance

    matched = None
    try:
        limits.set_memory_limit(max_memory)
        s = _load(scenario, set_)
        chosen = _parse_rules(rules, s.valid_rules)
        if match_ is not None or by is not None:
            from .experiments.match import check_match

            if match_ is None or by is None:
                raise BadInput.one("--match", "", "--match and --by go together")
            check_match(s, match_, by, rule, chosen)
        estimate = limits.compare_estimate(s, rules=len(chosen), replicates=replicates, block=BLOCK)
        limits.check(estimate, str(scenario), "--replicates")
        folder = out_dir or Path("results") / safe_name(s.name) / "compare"
        check_out(folder)
    except BadInput as exc:
        raise _fail(exc) from None
    if match_ is not None and by is not None:
        from .experiments.match import compare_matched, match

        with _transient_bar() as bar:
            bar.add_task(f"matching {match_} by {by}", total=None)
            matched = match(
                s,
                outcome=match_,
                param=by,
                rule=rule,
                rules=chosen,
                replicates=replicates,
                seed=seed,
            )
            cmp = compare_matched(s, matched, rules=chosen, replicates=replicates, seed=seed)
    else:
        with _transient_bar() as bar:
            task = bar.add_task("runs", total=replicates * len(chosen))
            cmp = run_compare(
                s,
                rules=chosen,
                replicates=replicates,
                seed=seed,
                progress=lambda: bar.advance(task),
            )
    summary = cmp.summary()
    panels = ("coverage", "duplicate_developments", "cost", "gini")
    files = ["compare.csv", "runs.csv", "coverage.png", "panels.png", "provenance.json"]
    from .interactive.maps import boundaries_for, compare_maps

    try:
        with staged(folder) as tmp:
            write_csv(tmp / "compare.csv", summary)
            write_csv(tmp / "runs.csv", cmp.outcomes)
            plot(cmp, tmp / "coverage.png")
            plot(cmp, tmp / "panels.png", columns=panels)
            write_json(
                tmp / "provenance.json",
                provenance(scenario=str(scenario), seeds=list(cmp.seeds)),
            )
            if boundaries_for(s) is not None:  # real counties or provinces, side by side
                compare_maps(cmp, tmp / "maps.png")
                files.append("maps.png")
            if matched is not None:
                write_json(tmp / "match.json", matched.as_dict())
                files.append("match.json")
    except BadInput as exc:
        raise _fail(exc) from None
    _print_summary(
        summary,
        cmp.rules,
        f"{escape(s.name)}: {replicates} paired replicates, seeds {cmp.seeds[0]}..{cmp.seeds[-1]}",
    )
    if matched is not None:
        lo, hi = matched.interval
        _say(
            out,
            f"matched {matched.outcome}: {matched.rule} at {matched.param} = "
            f"{_fmt(matched.value)} (95% interval {_fmt(lo)} .. {_fmt(hi)}; scenario: "
            f"{_fmt(matched.original)}) gives {_fmt(matched.achieved)} against "
            f"{matched.reference}'s {_fmt(matched.target)}"
            + ("" if matched.converged else " [NOT within 1%: the closest value found]"),
        )
    _say(out, f"wrote {folder}/ ({', '.join(files)})")


def _one_province(s: Any, command: str) -> Any:
    """The map views show one province: refuse a national scenario with a clear message."""
    if s.is_national:
        raise BadInput.one(
            s.path or s.name,
            "national.source",
            f"sim {command} shows one province; run national scenarios with sim run, "
            "sim compare or sim sweep",
        )
    return s


def _transient_bar() -> Any:
    """A progress bar on stderr (description, bar, done/total, time left) that vanishes."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = ["[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn()]  # fmt: skip
    return Progress(*columns, console=err, transient=True)


def _parse_rules(text: str | None, valid: tuple[str, ...]) -> tuple[str, ...]:
    if text is None:
        return valid
    names = tuple(r.strip() for r in text.split(",") if r.strip())
    bad = [r for r in names if r not in valid]
    if bad or not names or len(set(names)) != len(names):
        raise BadInput.one("--rules", text, f"expected distinct rules among {', '.join(valid)}")
    return names


def _print_summary(summary: Any, rules: tuple[str, ...], title: str) -> None:
    """Two tables: each rule's mean, then the paired differences between rules."""
    contrasts = [r for r in summary["rule"].unique() if " - " in r]
    for names, heading, caption in (
        (list(rules), title, "mean ± half-width of the 95% interval"),
        (
            contrasts,
            "paired differences (same seeds)",
            "mean difference ± half-width of its 95% interval; * the interval excludes 0",
        ),
    ):
        if not names:
            continue
        table = Table(title=heading, title_justify="left", caption=caption, caption_justify="left")
        table.add_column("outcome")
        for name in names:
            table.add_column(name, justify="right")
        for outcome, rows in summary.groupby("outcome", sort=False):
            cells = []
            for name in names:
                row = rows[rows["rule"] == name].iloc[0]
                excludes_zero = row.ci_low > 0 or row.ci_high < 0
                star = "* " if name in contrasts and excludes_zero else ""
                half = (row.ci_high - row.ci_low) / 2
                cells.append(f"{star}{_fmt(row['mean'])} ± {_fmt(half, digits=2)}")
            table.add_row(str(outcome), *cells)
        out.print(table)


@app.command()
def sweep(
    experiment: Annotated[Path, typer.Argument(help="Experiment file (TOML).", show_default=False)],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: results/<experiment>).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Local worker processes (default: all cores).", min=1)
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an unfinished sweep.")] = False,
    extend: Annotated[
        int | None, typer.Option("--extend", help="Grow a Sobol' sweep to this n.", min=1)
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a different (foreign) sweep in --out.")
    ] = False,
    analyze_after: Annotated[
        bool, typer.Option("--analyze/--no-analyze", help="Analyse when the runs are done.")
    ] = True,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help='Dask scheduler address, "local" (a LocalCluster of --workers), '
            'or "mpi" (under mpiexec). Default: local processes.'
        ),
    ] = None,
    shard: Annotated[
        str | None, typer.Option(help="Run only shard I/N (1-based) into DIR/shards/I-of-N.")
    ] = None,
    batch: Annotated[
        bool,
        typer.Option(
            "--batch/--no-batch",
            help="Step runs of one rule and shape together as one array computation "
            "(same numbers, faster).",
        ),
    ] = True,
    max_memory: MaxMemoryOpt = None,
) -> None:
    """Run an experiment's design in parallel into a folder; resumable; then analyse it."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from . import limits
    from .experiments.executors import executor_for
    from .experiments.experiment import load_experiment
    from .experiments.scheduler import failure_summary
    from .experiments.sizing import workers_that_fit
    from .experiments.sweep import sweep as run_sweep

    try:
        limits.set_memory_limit(max_memory)
        exp = load_experiment(experiment)
        part = _parse_shard(shard) if shard is not None else None
        if scheduler in (None, "local"):
            workers, note = workers_that_fit(exp, workers)
            if note:
                _say(err, note)
    except BadInput as exc:
        raise _fail(exc) from None
    folder = out_dir or Path("results") / experiment.stem
    columns = [
        TextColumn("runs"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]
    start = {"t": None, "done": 0}

    def report(done: int, total: int) -> None:
        import time

        now = time.monotonic()
        if start["t"] is None:
            start["t"], start["done"] = now, done
        elapsed = now - start["t"]
        rate = (done - start["done"]) / elapsed if elapsed > 0 else 0.0
        bar.update(task, completed=done, total=total, rate=f"{rate:,.0f} runs/s")

    try:
        with (
            executor_for(scheduler, workers) as (pool, in_flight),
            Progress(*columns, console=err) as bar,
        ):
            task = bar.add_task("runs", total=None, rate="")
            result = run_sweep(
                exp,
                folder,
                workers=workers,
                resume=resume,
                extend=extend,
                force=force,
                progress=report,
                executor=pool,
                shard=part,
                in_flight=in_flight,
                batch=batch,
            )
    except BadInput as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        _say(
            err,
            f"interrupted; finished chunks are kept in {folder}/. Continue with:\n"
            f"  sim sweep {experiment} --out {folder} --resume",
        )
        raise typer.Exit(130) from None
    rate = result.ran / result.seconds if result.seconds > 0 else 0.0
    _say(
        out,
        f"{result.ran:,} runs in {result.seconds:.1f} s ({rate:,.0f} runs/s); "
        f"{result.n_runs:,} runs, {result.n_points:,} sample points in {folder}/",
    )
    if result.failed:  # the runs that failed, and what to do (exit 1: not bad input)
        again = f"sim sweep {experiment} --out {folder}" + (f" --shard {shard}" if shard else "")
        for line in failure_summary(result.failures, result.folder, again):
            _say(err, line)
        raise typer.Exit(1)
    if part is not None:
        _say(
            out,
            f"shard {part[0]}/{part[1]} {'complete' if result.complete else 'unfinished'}"
            f"; when every shard is done: sim merge {folder}",
        )
    elif analyze_after and result.complete:
        _analyze(folder)


@app.command()
def calibrate(
    calibration: Annotated[
        Path, typer.Argument(help="Calibration file (TOML).", show_default=False)
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.", show_default=False)],
    workers: Annotated[
        int | None, typer.Option(help="Local worker processes (default: all cores).", min=1)
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help='Dask scheduler address, or "local" (a LocalCluster of --workers).'),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the calibration in --out.")
    ] = False,
) -> None:
    """Fit the parameters to observed data and weigh the rules (ABC-SMC, pyabc)."""
    from .calibrate.config import load_calibration

    try:
        calib = load_calibration(calibration)
        if scheduler == "mpi":
            raise BadInput.one("--scheduler", "mpi", "calibrations run on Dask or local processes")
        try:
            from .calibrate.run import calibrate as run_calibration
        except ImportError as exc:
            raise BadInput.one(
                "sim calibrate", "", f"needs the calibrate extra ({exc.name} is missing): "
                "pip install 'reform-diffusion-sim[calibrate]'"
            ) from None  # fmt: skip
    except BadInput as exc:
        raise _fail(exc) from None
    with _transient_bar() as bar:
        tasks: dict[int, Any] = {}

        def report(t: int, accepted: int, n: int) -> None:
            if t not in tasks:
                label = "calibration sample" if t < 0 else f"generation {t}"
                tasks[t] = bar.add_task(label, total=n)
            bar.update(tasks[t], completed=accepted)

        try:
            result = run_calibration(
                calib, out_dir, workers=workers, scheduler=scheduler, resume=resume,
                progress=report,
            )  # fmt: skip
        except BadInput as exc:
            raise _fail(exc) from None
        except KeyboardInterrupt:
            err.print(
                f"interrupted; finished generations are kept in {out_dir}/. Continue with:\n"
                f"  sim calibrate {calibration} --out {out_dir} --resume",
                highlight=False,
            )
            raise typer.Exit(130) from None
    probs = ", ".join(f"{r} {p:.3f}" for r, p in result.probabilities.items())
    out.print(
        f"{result.ran} generation(s) run ({result.generations} in all), "
        f"{result.evaluations:,} runs in {result.seconds:.1f} s; P(rule | data): {probs}",
        highlight=False,
    )
    out.print(
        f"wrote {out_dir}/ (abc.db, model_probabilities.csv, posterior.csv, predictive.csv, "
        "figures/, report.md)",
        highlight=False,
    )


def _parse_shard(text: str) -> tuple[int, int]:
    i, sep, n = text.partition("/")
    if not (sep and i.isdigit() and n.isdigit() and 1 <= int(i) <= int(n)):
        raise BadInput.one("--shard", text, "expected I/N with 1 <= I <= N, e.g. --shard 2/8")
    return int(i), int(n)


@app.command()
def merge(
    folder: Annotated[Path, typer.Argument(help="The sweep folder the shards ran into.")],
    analyze_after: Annotated[
        bool, typer.Option("--analyze/--no-analyze", help="Analyse the merged sweep.")
    ] = True,
) -> None:
    """Combine the shards of a sharded sweep into DIR/runs.parquet (then analyse it)."""
    from .experiments.sweep import merge as run_merge

    try:
        result = run_merge(folder)
    except BadInput as exc:
        raise _fail(exc) from None
    _say(
        out,
        f"merged {result.n_runs:,} runs ({result.n_points:,} sample points) into "
        f"{folder}/runs.parquet",
    )
    if analyze_after:
        _analyze(folder)


@app.command()
def analyze(
    folder: Annotated[Path, typer.Argument(help="A sweep folder.", show_default=False)],
) -> None:
    """Sensitivity indices, convergence, figures and a report for a finished sweep."""
    _analyze(folder)


def _analyze(folder: Path) -> None:
    from .analysis import analyze as run_analysis

    try:
        run_analysis(folder)
    except BadInput as exc:
        raise _fail(exc) from None
    written = ["indices.csv"]
    if (folder / "convergence.csv").exists():
        written.append("convergence.csv")
    _say(out, f"wrote {folder}/ ({', '.join([*written, 'figures/', 'report.md'])})")


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files.", show_default=False)],
) -> None:
    """Check scenario files without running them."""
    from .scenario import load_scenario

    bad = False
    for path in files:
        try:
            s = load_scenario(path)
        except BadInput as exc:
            _fail(exc)
            bad = True
            continue
        out.print(f"[green]ok[/] {escape(f'{path} ({s.name}, rule {s.rule})')}", highlight=False)
    if bad:
        raise typer.Exit(2)


@app.command()
def params() -> None:
    """Print the parameter reference (Markdown)."""
    from .reference import markdown

    out.print(markdown(), markup=False, highlight=False, soft_wrap=True)


@app.command()
def viz(
    scenario: Annotated[
        Path | None,
        typer.Argument(help="Scenario file (TOML).  [default: scenarios/teaching.toml]"),
    ] = None,
    port: Annotated[int, typer.Option(help="Port (0: any free port).", min=0, max=65535)] = 8765,
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0: reachable from the classroom).")
    ] = "127.0.0.1",
    set_: SetOpt = None,
) -> None:
    """Teaching app in the browser: map, live curves, sliders, the rules side by side."""
    import json
    import os
    import socket

    from .scenario import parse_assignment

    if scenario is None:  # from the current folder, else this repository's copy
        scenario = Path("scenarios/teaching.toml")
        bundled = Path(__file__).resolve().parent.parent / scenario
        if not scenario.exists() and bundled.exists():
            scenario = bundled
    try:
        loaded = _load(scenario, set_)
        _one_province(loaded, "viz")
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
    if os.environ.get("SIM_VIZ_SHAPES"):  # boundaries to draw: checked before serving
        from .interactive import live
        from .interactive.app import TeachingModel

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
    from .interactive import room
    from .interactive.app import serve

    os.environ["SIM_VIZ_URLS"] = json.dumps(room.urls(host, port) if host in room.ANY else [])
    out.print(room.banner(host, port), markup=False, highlight=False, soft_wrap=True)
    serve(host=host, port=port)


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

    from . import limits
    from .interactive.animate import animate as run_animate
    from .interactive.animate import check_output, frame_steps
    from .outputs import check_file_out

    try:
        limits.set_memory_limit(max_memory)
        if side_by_side and rule is not None:
            raise BadInput.one("--rule", "", "give either --rule or --side-by-side, not both")
        if rule is not None and rule not in RULES:
            raise BadInput.one("--rule", "", f"unknown rule {rule!r}; valid: {', '.join(RULES)}")
        writer = check_output(out_file)
        check_file_out(out_file)
        s = _one_province(_load(scenario, set_), "animate")
        rules = RULES if side_by_side else (rule or s.rule,)
        frames = len(frame_steps(s.n_steps, every)) if writer == "pillow" else 1  # GIF: all
        limits.check_animation(s, rules=len(rules), frames=frames, dpi=dpi)
    except BadInput as exc:
        raise _fail(exc) from None
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
