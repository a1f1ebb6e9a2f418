"""Make synthetic targets for ``sim calibrate``: one run with a known rule and known
parameter values, read like observed data, with the truth written next to it.

    python experiments/make_synthetic_targets.py            # the shipped example (below)
    python experiments/make_synthetic_targets.py --scenario scenarios/zhejiang.toml \\
        --rule contractor --set drive.contractor_capacity=400 --seed 5 \\
        --out experiments/targets/zhejiang_contractor.csv

Writes ``OUT`` (``statistic,year,value``: each statistic read at each year of ``--years``
by the same linear interpolation the calibration uses) and ``OUT`` with ``_truth.json``
in place of ``.csv`` (the rule, the parameter values, the seed and the scenario), which
a calibration file names with ``truth = "..."`` to get recovery checks in its report.

The shipped ``experiments/targets/synthetic.csv`` is the default call: the teaching
scenario under the grassroots rule, ``collaboration.innovation_rate = 0.08`` and
``drive.contractor_capacity = 80`` (the scenario's own values), seed 101, coverage at
years 1 to 8 and the cumulative duplicate developments at years 2, 4 and 8.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULTS: dict[str, Any] = {
    "scenario": HERE.parent / "scenarios" / "teaching.toml",
    "rule": "grassroots",
    "set": ["collaboration.innovation_rate=0.08", "drive.contractor_capacity=80"],
    "seed": 101,
    "statistics": "coverage,duplicate_developments",
    "years": "1,2,3,4,5,6,7,8",
    "statistic_years": {"duplicate_developments": "2,4,8"},
    "out": HERE / "targets" / "synthetic.csv",
}


def make_targets(
    scenario_path: Path,
    *,
    rule: str,
    values: dict[str, float],
    seed: int,
    statistics: dict[str, list[float]],
    outcomes: list[str] = (),  # type: ignore[assignment]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(target rows, truth) of one run of ``scenario_path`` with ``values`` set."""
    import numpy as np

    import sim

    scenario = sim.load_scenario(scenario_path, overrides=values)
    result = sim.run(scenario, rule=rule, seed=seed)
    ts = result.timeseries
    rows = []
    for stat, years in statistics.items():
        for year in years:
            value = float(np.interp(year, ts["year"], ts[stat]))
            rows.append({"statistic": stat, "year": f"{year:g}", "value": round(value, 6)})
    for name in outcomes:
        rows.append({"statistic": f"outcome:{name}", "year": "", "value": result.outcomes[name]})
    truth = {
        "rule": rule,
        "parameters": values,
        "seed": seed,
        "scenario": str(scenario_path),
        "note": "synthetic: one run of the model with these values; made by "
        "experiments/make_synthetic_targets.py",
    }
    return rows, truth


def write(out: Path, rows: list[dict[str, Any]], truth: dict[str, Any], header: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines.append("statistic,year,value")
    lines += [f"{r['statistic']},{r['year']},{r['value']:.6g}" for r in rows]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    truth_path = out.with_name(out.stem + "_truth.json")
    truth_path.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return truth_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", type=Path, default=DEFAULTS["scenario"])
    parser.add_argument("--rule", default=DEFAULTS["rule"])
    parser.add_argument(
        "--set", action="append", dest="set_", metavar="KEY=VALUE",
        help="a true parameter value (repeatable; default: the shipped example's)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    parser.add_argument("--statistics", default=DEFAULTS["statistics"],
                        help="comma-separated time-series columns")  # fmt: skip
    parser.add_argument("--years", default=DEFAULTS["years"], help="comma-separated years")
    parser.add_argument("--outcomes", default="", help="comma-separated outcomes to add")
    parser.add_argument("--out", type=Path, default=DEFAULTS["out"])
    args = parser.parse_args(argv)

    from sim.scenario import parse_assignment

    assignments = args.set_ if args.set_ is not None else DEFAULTS["set"]
    values = dict(parse_assignment(a) for a in assignments)
    shipped = args.set_ is None and args.years == DEFAULTS["years"]
    statistics = {}
    for stat in (s.strip() for s in args.statistics.split(",") if s.strip()):
        years = DEFAULTS["statistic_years"].get(stat, args.years) if shipped else args.years
        statistics[stat] = [float(y) for y in years.split(",")]
    outcomes = [o.strip() for o in args.outcomes.split(",") if o.strip()]
    rows, truth = make_targets(
        args.scenario, rule=args.rule, values=values, seed=args.seed,
        statistics=statistics, outcomes=outcomes,
    )  # fmt: skip
    try:
        scenario_ref = args.scenario.resolve().relative_to(HERE.parent)
    except ValueError:
        scenario_ref = args.scenario
    truth["scenario"] = str(scenario_ref)
    settings = ", ".join(f"{k} = {v}" for k, v in values.items())
    header = (
        "SYNTHETIC targets (not observed data): one run of the model with known values.\n"
        f"scenario {scenario_ref}, rule {args.rule}, {settings}, seed {args.seed}.\n"
        "Made by experiments/make_synthetic_targets.py; the truth is in the _truth.json "
        "file beside this one."
    )
    truth_path = write(args.out, rows, truth, header)
    print(f"wrote {args.out} ({len(rows)} targets) and {truth_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
