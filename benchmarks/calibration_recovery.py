"""Does ``sim calibrate`` recover the truth? Repeated over many synthetic data sets.

For each rule and each data set: draw true parameter values from the priors (or take the
scenario's own values with ``--truth fixed``), make targets from one run with them
(``experiments/make_synthetic_targets.py``), calibrate over all the rules, and record
whether the true rule got the highest posterior probability and whether each true value
lies inside its 90% credible interval under the true rule. Over many data sets with
truths drawn from the prior, a calibrated 90% interval covers the truth about 90% of the
time (above 90%: conservative, wider than needed; below: overconfident).

    python benchmarks/calibration_recovery.py --quick   # a few minutes: 2 data sets per rule
    python benchmarks/calibration_recovery.py           # 20 per rule (long: see the results)
    python benchmarks/calibration_recovery.py --rules grassroots --truth fixed \\
        --steps-per-year 2 --population 150 --generations 3 --datasets 10 --first-seed 101

The last line repeats the setup of tests/test_calibrate.py over data seeds 101-110.
Writes benchmarks/calibration-recovery-results.md (or --out) and a CSV with every data set
beside it, and prints the table.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PRIORS = {"collaboration.innovation_rate": (0.02, 0.2), "drive.contractor_capacity": (20.0, 200.0)}
YEARS = {"coverage": [1, 2, 3, 4, 5, 6, 7, 8], "duplicate_developments": [2, 4, 8]}


def _script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "make_synthetic_targets", ROOT / "experiments" / "make_synthetic_targets.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def one(task: dict[str, Any]) -> dict[str, Any]:
    """Make one synthetic data set and calibrate it; the recovery record."""
    import pandas as pd

    from sim.calibrate import calibrate
    from sim.calibrate.report import weighted_quantiles

    with tempfile.TemporaryDirectory(prefix="recovery-") as tmp:
        d = Path(tmp)
        scenario = d / "scenario.toml"
        extra = f"\n[time]\nsteps_per_year = {task['spy']}\n" if task["spy"] else "\n"
        scenario.write_text(f'extends = "{task["scenario"]}"\nname = "recovery"{extra}')
        script = _script()
        rows, truth = script.make_targets(
            scenario, rule=task["rule"], values=task["truth"], seed=task["data_seed"],
            statistics=YEARS,
        )  # fmt: skip
        script.write(d / "targets.csv", rows, truth, "synthetic")
        params = "\n".join(
            f'"{k}" = {{ low = {lo}, high = {hi} }}' for k, (lo, hi) in PRIORS.items()
        )
        rules = ", ".join(f'"{r}"' for r in task["rules"])
        (d / "calib.toml").write_text(
            f'scenario = "scenario.toml"\nrules = [{rules}]\ntargets = "targets.csv"\n'
            f"[abc]\npopulation = {task['population']}\ngenerations = {task['generations']}\n"
            f"seed = {task['abc_seed']}\npredictive = 0\n[parameters]\n{params}\n"
        )
        started = time.perf_counter()
        result = calibrate(d / "calib.toml", d / "out", workers=1, figures=False)
        seconds = time.perf_counter() - started
        posterior = pd.read_csv(d / "out" / "posterior.csv")
    p = result.probabilities
    record = {
        "rule": task["rule"], "dataset": task["dataset"], "data_seed": task["data_seed"],
        "winner": max(p, key=lambda r: p[r]), "p_true": p.get(task["rule"], 0.0),
        "runs": result.runs, "seconds": seconds,
        **{f"p_{r}": p.get(r, 0.0) for r in task["rules"]},
    }  # fmt: skip
    mine = posterior[posterior.rule == task["rule"]]
    for name, true in task["truth"].items():
        record[f"true:{name}"] = true
        if len(mine):
            lo, hi = weighted_quantiles(mine[name].to_numpy(), mine.weight.to_numpy(), (0.05, 0.95))
            record[f"inside:{name}"] = bool(lo <= true <= hi)
            record[f"width:{name}"] = (hi - lo) / (0.9 * (PRIORS[name][1] - PRIORS[name][0]))
        else:
            record[f"inside:{name}"] = None
            record[f"width:{name}"] = None
    return record


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion (95%)."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def table(records: list[dict[str, Any]], rules: list[str]) -> list[str]:
    lines = [
        "| true rule | data sets | true rule wins | mean P(true rule) | "
        + " | ".join(f"`{n}` inside 90% CI (mean width / prior)" for n in PRIORS)
        + " | seconds per calibration |",
        "| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in PRIORS) + " | ---: |",
    ]
    for rule in rules:
        rs = [r for r in records if r["rule"] == rule]
        if not rs:
            continue
        wins = sum(r["winner"] == rule for r in rs)
        lo, hi = wilson(wins, len(rs))
        cells = []
        for name in PRIORS:
            known = [r for r in rs if r[f"inside:{name}"] is not None]
            k = sum(bool(r[f"inside:{name}"]) for r in known)
            clo, chi = wilson(k, len(known))
            width = np.mean([r[f"width:{name}"] for r in known]) if known else float("nan")
            cells.append(f"{k}/{len(known)} [{clo:.2f}, {chi:.2f}] ({width:.2f})")
        lines.append(
            f"| {rule} | {len(rs)} | {wins}/{len(rs)} [{lo:.2f}, {hi:.2f}] | "
            f"{np.mean([r['p_true'] for r in rs]):.2f} | " + " | ".join(cells)
            + f" | {np.mean([r['seconds'] for r in rs]):.1f} |"
        )  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 data sets per rule, small ABC")
    parser.add_argument("--datasets", type=int, default=20, help="per rule")
    parser.add_argument(
        "--rules",
        default="grassroots,contractor,hybrid",
        help="true rules to make data with (all three are calibrated)",
    )
    parser.add_argument("--truth", choices=("prior", "fixed"), default="prior")
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "teaching.toml")
    parser.add_argument("--steps-per-year", type=int, default=None)
    parser.add_argument("--population", type=int, default=200)
    parser.add_argument("--generations", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=1000, help="data seed of data set 0")
    parser.add_argument("--seed", type=int, default=1, help="truth draws and ABC seed")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "calibration-recovery-results.md"
    )
    args = parser.parse_args(argv)  # fmt: skip
    if args.quick:
        args.datasets, args.population, args.generations = 2, 60, 2
        args.steps_per_year = args.steps_per_year or 2
        if args.out == parser.get_default("out"):
            args.out = args.out.with_name("calibration-recovery-quick.md")
    rules = [r.strip() for r in args.rules.split(",") if r.strip()]
    import sim

    base = sim.load_scenario(args.scenario)
    fixed = {
        "collaboration.innovation_rate": base.collaboration.innovation_rate,
        "drive.contractor_capacity": base.drive.contractor_capacity,
    }
    tasks = []
    for ri, rule in enumerate(rules):
        for j in range(args.datasets):
            rng = np.random.default_rng(np.random.SeedSequence(args.seed, spawn_key=(ri, j)))
            truth = fixed if args.truth == "fixed" else {
                k: float(rng.uniform(lo, hi)) for k, (lo, hi) in PRIORS.items()
            }  # fmt: skip
            tasks.append({
                "rule": rule, "dataset": j, "data_seed": args.first_seed + j, "truth": truth,
                "scenario": str(args.scenario.resolve()), "spy": args.steps_per_year,
                "rules": ["grassroots", "contractor", "hybrid"], "abc_seed": args.seed,
                "population": args.population, "generations": args.generations,
            })  # fmt: skip
    started = time.perf_counter()
    records = []
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
        for k, record in enumerate(pool.map(one, tasks), start=1):
            records.append(record)
            print(
                f"[{k}/{len(tasks)}] {record['rule']} data set {record['dataset']}: "
                f"winner {record['winner']}, P(true) {record['p_true']:.2f}",
                file=sys.stderr,
            )
    wall = time.perf_counter() - started
    import pandas as pd

    csv = args.out.with_suffix(".csv")
    pd.DataFrame(records).to_csv(csv, index=False)
    command = "python benchmarks/calibration_recovery.py " + " ".join(argv or sys.argv[1:])
    lines = [
        "# Calibration: recovery over synthetic data sets",
        "",
        f"`{command.strip()}` — {len(tasks)} calibrations in {wall / 60:.1f} min on "
        f"{args.workers} worker(s) ({platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}).",
        "",
        f"Scenario `{args.scenario.name}`"
        + (f" at {args.steps_per_year} steps a year" if args.steps_per_year else "")
        + "; targets: coverage at years 1-8, duplicate developments at 2, 4, 8; truths "
        + ("drawn from the priors" if args.truth == "prior" else "fixed at the scenario's values")
        + f" {json.dumps({k: list(v) for k, v in PRIORS.items()})}; all three rules "
        f"calibrated, {args.population} particles, {args.generations} generations, "
        "adaptive distance. Brackets: 95% Wilson intervals. Coverage is counted under the "
        "true rule (data sets where it died out are left out); width: the 90% interval's "
        "width over the prior's 90% width. Every data set: "
        f"`{csv.relative_to(ROOT) if csv.is_relative_to(ROOT) else csv}`.",
        "",
        *table(records, rules),
        "",
    ]  # fmt: skip
    text = "\n".join(lines)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
