"""``sim sweep``, ``calibrate``, ``merge``, ``analyze``, ``validate`` and ``params``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ..errors import BadInput
from .common import (
    ForceSweepOpt,
    MaxMemoryOpt,
    SchedulerOpt,
    ShardOpt,
    WorkersOpt,
    _fail,
    _prepare,
    _say,
    _transient_bar,
    app,
    err,
    out,
)


@app.command()
def sweep(
    experiment: Annotated[Path, typer.Argument(help="Experiment file (TOML).", show_default=False)],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: results/<experiment>).")
    ] = None,
    workers: WorkersOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an unfinished sweep.")] = False,
    extend: Annotated[
        int | None, typer.Option("--extend", help="Grow a Sobol' sweep to this n.", min=1)
    ] = None,
    force: ForceSweepOpt = False,
    analyze_after: Annotated[
        bool, typer.Option("--analyze/--no-analyze", help="Analyse when the runs are done.")
    ] = True,
    scheduler: SchedulerOpt = None,
    shard: ShardOpt = None,
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
    from .. import limits
    from ..experiments.experiment import load_experiment

    try:
        limits.set_memory_limit(max_memory)
        exp = load_experiment(experiment)
    except BadInput as exc:
        raise _fail(exc) from None
    folder = out_dir or Path("results") / experiment.stem
    result, part = run_with_progress(
        exp, folder, experiment=experiment, workers=workers, resume=resume, extend=extend,
        force=force, scheduler=scheduler, shard=shard, batch=batch, command="sweep",
    )  # fmt: skip
    if part is None and analyze_after and result.complete:
        _analyze(folder)


def run_with_progress(
    exp: Any,
    folder: Path,
    *,
    experiment: Path,
    workers: int | None,
    resume: bool,
    extend: int | None,
    force: bool,
    scheduler: str | None,
    shard: str | None,
    batch: bool,
    command: str,
) -> tuple[Any, tuple[int, int] | None]:
    """Run ``exp``'s sweep into ``folder`` with a progress bar (shared by ``sim sweep`` and
    ``sim atlas``); report the runs, failures (exit 1), a shard's state, an interrupt (exit
    130). Returns the sweep result and the shard (or None)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from ..experiments.executors import executor_for
    from ..experiments.scheduler import failure_summary
    from ..experiments.sizing import workers_that_fit
    from ..experiments.sweep import sweep as run_sweep

    try:
        part = _parse_shard(shard) if shard is not None else None
        if scheduler in (None, "local"):
            workers, note = workers_that_fit(exp, workers)
            if note:
                _say(err, note)
    except BadInput as exc:
        raise _fail(exc) from None
    _prepare(exp.scenario)  # once here, not in every worker at the same time
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
            f"  sim {command} {experiment} --out {folder} --resume",
        )
        raise typer.Exit(130) from None
    rate = result.ran / result.seconds if result.seconds > 0 else 0.0
    _say(
        out,
        f"{result.ran:,} runs in {result.seconds:.1f} s ({rate:,.0f} runs/s); "
        f"{result.n_runs:,} runs, {result.n_points:,} sample points in {folder}/"
        + (f"; and {result.match_runs:,} runs to match" if result.match_runs else ""),
    )
    if result.failed:  # the runs that failed, and what to do (exit 1: not bad input)
        again = f"sim {command} {experiment} --out {folder}" + (
            f" --shard {shard}" if shard else ""
        )
        for line in failure_summary(result.failures, result.folder, again):
            _say(err, line)
        raise typer.Exit(1)
    if part is not None:
        after = (
            "sim merge"
            if command == "sweep"
            else f"sim merge --no-analyze {folder} && sim atlas {experiment} --out"
        )
        _say(
            out,
            f"shard {part[0]}/{part[1]} {'complete' if result.complete else 'unfinished'}"
            f"; when every shard is done: {after} {folder}",
        )
    return result, part


@app.command()
def calibrate(
    calibration: Annotated[
        Path, typer.Argument(help="Calibration file (TOML).", show_default=False)
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.", show_default=False)],
    workers: WorkersOpt = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help='Dask scheduler address, or "local" (a LocalCluster of --workers).'),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the calibration in --out.")
    ] = False,
    check: Annotated[
        int | None,
        typer.Option(
            "--check",
            help="Recovery check: N truths per rule from the prior, each calibrated "
            "(check.csv, report.md); default: truths of the file's check table.",
            min=0,
        ),
    ] = None,
) -> None:
    """Fit the parameters to observed data and weigh the rules (ABC random forests or
    ABC-SMC, as the file's abc method says)."""
    from ..calibrate.config import load_calibration

    try:
        calib = load_calibration(calibration)
        if scheduler == "mpi":
            raise BadInput.one("--scheduler", "mpi", "calibrations run on Dask or local processes")
        try:
            from ..calibrate.run import ReportFailed
            from ..calibrate.run import calibrate as run_calibration

            if calib.abc.method == "rf":
                import sklearn  # noqa: F401 (the forests)
        except ImportError as exc:
            raise BadInput.one(
                "sim calibrate", "", f"needs the calibrate extra ({exc.name} is missing): "
                "pip install 'reform-diffusion-sim[calibrate]'"
            ) from None  # fmt: skip
    except BadInput as exc:
        raise _fail(exc) from None
    _prepare(calib.scenario)
    with _transient_bar() as bar:
        tasks: dict[int, Any] = {}

        def report(t: int, accepted: int, n: int) -> None:
            if t not in tasks:
                first = "reference table" if calib.abc.method == "rf" else "calibration sample"
                label = first if t < 0 else f"generation {t}"
                tasks[t] = bar.add_task(label, total=n)
            bar.update(tasks[t], completed=accepted)

        try:
            result = run_calibration(
                calib, out_dir, workers=workers, scheduler=scheduler, resume=resume,
                progress=report, check=check,
            )  # fmt: skip
        except BadInput as exc:
            raise _fail(exc) from None
        except ReportFailed as exc:
            _say(err, f"error: {exc}")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            if (out_dir / "abc.db").is_file():
                _say(
                    err,
                    f"interrupted; finished generations are kept in {out_dir}/. Continue "
                    f"with:\n  sim calibrate {calibration} --out {out_dir} --resume",
                )
            else:
                _say(err, f"interrupted before a generation finished; nothing was written to "
                     f"{out_dir}/")  # fmt: skip
            raise typer.Exit(130) from None
    probs = ", ".join(f"{r} {p:.3f}" for r, p in result.probabilities.items())
    if calib.abc.method == "rf":
        out.print(
            f"{result.runs:,} runs in {result.seconds:.1f} s; P(rule | data): {probs}\n"
            f"wrote {out_dir}/ (reference.csv, model_choice.csv, confusion.csv, "
            "posterior_summary.csv, report.md)",
            highlight=False,
        )
        return
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
    from ..experiments.sweep import merge as run_merge

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
    from ..analysis import analyze as run_analysis

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
    files: Annotated[
        list[Path],
        typer.Argument(help="Scenario, experiment or calibration files.", show_default=False),
    ],
) -> None:
    """Check scenario, experiment and calibration files without running them (an
    experiment file has a \\[design] table and is checked as sim sweep checks it, \\[match]
    included; an atlas file has priors or \\[atlas] too and is checked as sim atlas checks
    it; a calibration file has an \\[abc] table)."""
    from ..calibrate.config import load_calibration
    from ..io import read_toml
    from ..scenario import load_scenario

    bad = False
    for path in files:
        try:
            data = read_toml(path)
            if "design" in data and ("priors" in data or "atlas" in data):
                what = "atlas " + _experiment_summary(path, atlas=True)
            elif "design" in data:
                what = _experiment_summary(path)
            elif "abc" in data:
                what = f"calibration of {', '.join(load_calibration(path).rules)}"
            else:
                s = load_scenario(path)
                what = f"{s.name}, rule {s.rule}"
        except BadInput as exc:
            _fail(exc)
            bad = True
            continue
        out.print(f"[green]ok[/] {escape(f'{path} ({what})')}", highlight=False)
    if bad:
        raise typer.Exit(2)


def _experiment_summary(path: Path, *, atlas: bool = False) -> str:
    """An experiment (or atlas) file loaded and checked; what it will run, in words."""
    from ..experiments.atlas import load_atlas
    from ..experiments.experiment import load_experiment
    from ..experiments.match_spec import TYPICAL_EVALUATIONS

    exp = load_atlas(path).experiment if atlas else load_experiment(path)
    points = exp.build_design(exp.design.n).n_points
    reps = exp.design.replicates
    text = (
        f"experiment: {points:,} sample points x {reps} replicate(s) x {len(exp.rules)} "
        f"rule(s) = {points * reps * len(exp.rules):,} runs"
    )
    m = exp.spec.match
    if m is not None:
        text += (
            f"; matching {m.outcome} by {m.by} for {m.rule} adds about "
            f"{points * reps * (TYPICAL_EVALUATIONS + 1):,} runs"
        )
    return text


@app.command()
def params() -> None:
    """Print the parameter reference (Markdown)."""
    from ..reference import markdown

    out.print(markdown(), markup=False, highlight=False, soft_wrap=True)
