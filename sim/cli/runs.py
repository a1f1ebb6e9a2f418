"""``sim run`` and ``sim compare``: one run, and the rules on paired seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import BadInput
from ..params import RULES
from .common import (
    ForceOpt,
    MaxMemoryOpt,
    OutOpt,
    ScenarioArg,
    SeedOpt,
    SetOpt,
    _check_rule,
    _fail,
    _fmt,
    _interrupted,
    _load,
    _parse_rules,
    _prepare,
    _print_summary,
    _say,
    _transient_bar,
    app,
    out,
)


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
    force: ForceOpt = False,
) -> None:
    """Run one scenario once; print a summary and write its outputs."""
    from .. import limits
    from ..io import write_csv, write_json
    from ..outputs import check_out, safe_name, staged
    from ..provenance import provenance
    from ..run import run as run_once

    try:
        limits.set_memory_limit(max_memory)
        s = _load(scenario, set_)
        _check_rule(rule, s.valid_rules)
        limits.check(limits.run_estimate(s), str(scenario), "size")
        name = f"{rule or s.rule}-seed{s.seed if seed is None else seed}"
        folder = out_dir or Path("results") / safe_name(s.name) / name
        check_out(folder, kind="run", force=force)
        _prepare(s)
        result = run_once(s, rule=rule, seed=seed)
        with staged(folder, kind="run", force=force) as tmp:
            write_csv(tmp / "timeseries.csv", result.timeseries)
            write_csv(tmp / "agents.csv", result.agents)
            write_json(tmp / "outcomes.json", result.outcomes)
            written = ["timeseries.csv", "agents.csv", "outcomes.json"]
            if result.provinces is not None:
                write_csv(tmp / "provinces.csv", result.provinces)
                written.append("provinces.csv")
            from ..interactive.maps import boundaries_for, run_map

            if boundaries_for(s) is not None:  # real counties or provinces: the run's map
                run_map(result, s, tmp / "map.png")
                written.append("map.png")
            write_json(tmp / "scenario.json", {"path": str(scenario), **s.model_dump(mode="json")})
            write_json(
                tmp / "provenance.json",
                provenance(kind="run", scenario=str(scenario), rule=result.rule, seed=result.seed),
            )
    except BadInput as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:  # the run steps in chunks, so this comes within a second
        raise _interrupted(folder) from None
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
    force: ForceOpt = False,
) -> None:
    """Run the rules on the same seeds; print means, 95% intervals and paired differences.

    With --match OUTCOME --by PARAM, first set PARAM for --rule by bisection on common random
    numbers until its mean OUTCOME equals the first other rule's within 1%, then compare."""

    from .. import limits
    from ..experiments.compare import BLOCK, plot
    from ..io import write_csv, write_json
    from ..outputs import check_out, safe_name, staged
    from ..provenance import provenance

    try:
        limits.set_memory_limit(max_memory)
        s = _load(scenario, set_)
        chosen = _parse_rules(rules, s.valid_rules)
        if match_ is not None:
            _check_rule(rule, s.valid_rules)
        if match_ is not None or by is not None:
            from ..experiments.match import check_match

            if match_ is None or by is None:
                raise BadInput.one("--match", "", "--match and --by go together")
            check_match(s, match_, by, rule, chosen)
        estimate = limits.compare_estimate(s, rules=len(chosen), replicates=replicates, block=BLOCK)
        limits.check(estimate, str(scenario), "--replicates")
        folder = out_dir or Path("results") / safe_name(s.name) / "compare"
        check_out(folder, kind="comparison", force=force)
    except BadInput as exc:
        raise _fail(exc) from None
    try:
        _prepare(s)
        cmp, matched = _compare_runs(s, chosen, replicates, seed, match_, by, rule)
    except KeyboardInterrupt:  # runs step in chunks, so this comes within a second
        raise _interrupted(folder) from None
    summary = cmp.summary()
    panels = ("coverage", "duplicate_developments", "cost", "gini")
    files = ["compare.csv", "runs.csv", "coverage.png", "panels.png", "provenance.json"]
    from ..interactive.maps import boundaries_for, compare_maps

    try:
        with staged(folder, kind="comparison", force=force) as tmp:
            write_csv(tmp / "compare.csv", summary)
            write_csv(tmp / "runs.csv", cmp.outcomes)
            plot(cmp, tmp / "coverage.png")
            plot(cmp, tmp / "panels.png", columns=panels)
            write_json(
                tmp / "provenance.json",
                provenance(kind="comparison", scenario=str(scenario), seeds=list(cmp.seeds)),
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


def _compare_runs(
    s: Any,
    chosen: tuple[str, ...],
    replicates: int,
    seed: int | None,
    match_: str | None,
    by: str | None,
    rule: str,
) -> tuple[Any, Any]:
    """The runs of ``sim compare`` behind a progress bar: the comparison, and the match
    when --match is given (else None)."""
    from ..experiments.compare import compare as run_compare

    if match_ is not None and by is not None:
        from ..experiments.match import compare_matched, match

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
            return compare_matched(
                s, matched, rules=chosen, replicates=replicates, seed=seed
            ), matched
    with _transient_bar() as bar:
        task = bar.add_task("runs", total=replicates * len(chosen))
        cmp = run_compare(
            s,
            rules=chosen,
            replicates=replicates,
            seed=seed,
            progress=lambda: bar.advance(task),
        )
    return cmp, None
