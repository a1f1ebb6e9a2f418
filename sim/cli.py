"""The ``sim`` command line: ``run``, ``compare``, ``validate``, ``params``.

Exit status: 0 on success, 2 on bad input or usage (one message naming the file and key,
no traceback, nothing written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
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


def _fail(exc: BadInput) -> typer.Exit:
    for problem in exc.problems:
        err.print(f"[bold red]error:[/] {problem}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _fmt(x: float) -> str:
    if x != x:  # NaN
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"


@app.command()
def run(
    scenario: ScenarioArg,
    rule: Annotated[
        str | None, typer.Option(help=f"One of {', '.join(RULES)} (default: the scenario's).")
    ] = None,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    out_dir: OutOpt = None,
) -> None:
    """Run one scenario once; print a summary and write its outputs."""
    from .io import write_csv, write_json
    from .provenance import provenance
    from .run import run as run_once

    try:
        s = _load(scenario, set_)
        result = run_once(s, rule=rule, seed=seed)
    except BadInput as exc:
        raise _fail(exc) from None
    folder = out_dir or Path("results") / s.name / f"{result.rule}-seed{result.seed}"
    write_csv(folder / "timeseries.csv", result.timeseries)
    write_csv(folder / "agents.csv", result.agents)
    write_json(folder / "outcomes.json", result.outcomes)
    write_json(folder / "scenario.json", {"path": str(scenario), **s.model_dump(mode="json")})
    write_json(
        folder / "provenance.json",
        provenance(scenario=str(scenario), rule=result.rule, seed=result.seed),
    )
    table = Table(title=f"{s.name} · rule {result.rule} · seed {result.seed}", title_justify="left")
    table.add_column("outcome")
    table.add_column("value", justify="right")
    for name, value in result.outcomes.items():
        table.add_row(name, _fmt(value))
    out.print(table)
    out.print(
        f"wrote {folder}/ "
        "(timeseries.csv, agents.csv, outcomes.json, scenario.json, provenance.json)"
    )


@app.command()
def compare(
    scenario: ScenarioArg,
    replicates: Annotated[
        int, typer.Option(help="Paired replicates (seeds SEED .. SEED+R-1).", min=1)
    ] = 20,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    out_dir: OutOpt = None,
) -> None:
    """Run every rule on the same seeds; print means, 95% intervals and paired differences."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from .compare import compare as run_compare
    from .compare import plot
    from .io import write_csv, write_json
    from .provenance import provenance

    try:
        s = _load(scenario, set_)
    except BadInput as exc:
        raise _fail(exc) from None
    folder = out_dir or Path("results") / s.name / "compare"
    columns = [
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("runs", total=replicates * len(RULES))
        cmp = run_compare(s, replicates=replicates, seed=seed, progress=lambda: bar.advance(task))
    summary = cmp.summary()
    write_csv(folder / "compare.csv", summary)
    write_csv(folder / "runs.csv", cmp.outcomes)
    plot(cmp, folder / "coverage.png")
    plot(cmp, folder / "panels.png", columns=("coverage", "duplicate_developments", "cost", "gini"))
    write_json(
        folder / "provenance.json", provenance(scenario=str(scenario), seeds=list(cmp.seeds))
    )
    _print_summary(
        summary,
        cmp.rules,
        f"{s.name}: {replicates} paired replicates, seeds {cmp.seeds[0]}..{cmp.seeds[-1]}",
    )
    out.print(f"wrote {folder}/ (compare.csv, runs.csv, coverage.png, panels.png, provenance.json)")


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
                star = " *" if name in contrasts and excludes_zero else ""
                half = (row.ci_high - row.ci_low) / 2
                cells.append(f"{_fmt(row['mean'])} ± {_fmt(half)}{star}")
            table.add_row(str(outcome), *cells)
        out.print(table)


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
        out.print(f"[green]ok[/] {path} ({s.name}, rule {s.rule})", highlight=False)
    if bad:
        raise typer.Exit(2)


@app.command()
def params() -> None:
    """Print the parameter reference (Markdown)."""
    from .reference import markdown

    out.print(markdown(), markup=False, highlight=False, soft_wrap=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
