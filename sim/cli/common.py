"""What every ``sim`` command shares: the Typer app, the consoles, option types, loading a
scenario with ``--set``, plain-text messages and the exit-2 path for bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..errors import BadInput, Problem, near

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
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Replace what --out holds even when it is another kind of result "
        "(a sweep, a calibration, ...).",
    ),
]
WorkersOpt = Annotated[
    int | None, typer.Option(help="Local worker processes (default: all cores).", min=1)
]
ForceSweepOpt = Annotated[
    bool, typer.Option("--force", help="Replace a different (foreign) sweep in --out.")
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        help='Dask scheduler address, "local" (a LocalCluster of --workers), '
        'or "mpi" (under mpiexec). Default: local processes.'
    ),
]
ShardOpt = Annotated[
    str | None, typer.Option(help="Run only shard I/N (1-based) into DIR/shards/I-of-N.")
]
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
    from ..scenario import load_scenario, parse_assignment

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


def _prepare(scenario: Any, *, intent: bool = False) -> None:
    """Compile the model's kernels if no cached copy exists, saying so on stderr (one line
    before, one after: a first run never sits silent; :mod:`sim.core.prepare`). None: an
    experiment's own model, which may not use the engine at all."""
    if scenario is None:
        return
    from ..core.prepare import prepare

    prepare(echo=lambda line: _say(err, line), national=scenario.is_national, intent=intent)


def _interrupted(folder: Path) -> typer.Exit:
    """Ctrl-C during a run: one line, nothing half-written, exit status 130."""
    _say(err, f"interrupted; nothing was written to {folder}/")
    return typer.Exit(130)


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


def _check_rule(rule: str | None, valid: tuple[str, ...], key: str = "--rule") -> None:
    if rule is not None and rule not in valid:
        raise BadInput.one(
            key, "", f"unknown rule {rule!r}{near(rule, valid)}; valid: {', '.join(valid)}"
        )


def _parse_rules(text: str | None, valid: tuple[str, ...]) -> tuple[str, ...]:
    if text is None:
        return valid
    names = tuple(r.strip() for r in text.split(",") if r.strip())
    bad = [r for r in names if r not in valid]
    if bad or not names or len(set(names)) != len(names):
        hint = "".join(f"; {r!r}{near(r, valid)}" for r in bad if near(r, valid))
        raise BadInput.one(
            "--rules", text, f"expected distinct rules among {', '.join(valid)}{hint}"
        )
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
