"""Does the calibration choose the right rule on the shipped Zhejiang? (issue 20)

On ``experiments/calibrate_zhejiang_choice.toml`` (Zhejiang, three rules, priors on the
innovation rate and the contractor's capacity): one reference table drawn from the priors
(its size and runs per second), then ABC random forests with two sets of statistics —

* ``basic``: coverage and duplicate developments at years 1-8 (the statistics with which
  issue 20 found the wrong rule winning);
* ``all``: those plus the statistics that tell the rules apart (source shares, first
  platform year, gradients across governments);

each checked on N truths per rule drawn from the priors (accuracy of the rule choice,
confusion matrix, share of verdicts that name a winner, coverage of the 50% and 90%
intervals), and applied to the shipped synthetic data (truth: contractor, capacity 300,
innovation rate 0.06). Then ABC-SMC on the same statistics, on the first ``--smc-truths``
truths per rule and on the shipped data, for the choice of the default method.

    python benchmarks/choice_recovery.py --quick   # minutes: 900 runs, 3 truths per rule
    python benchmarks/choice_recovery.py           # 10,000 runs, 20 truths per rule

Writes benchmarks/choice-recovery-results.json (read by docs/make_calibration.py, which
puts the numbers into docs/calibration.md and README.md) and prints a summary.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = ROOT / "experiments" / "calibrate_zhejiang_choice.toml"
RESULTS = ROOT / "benchmarks" / "choice-recovery-results.json"
BASIC = ("coverage", "duplicate_developments")


def subset(calib: Any, keep: Any) -> Any:
    """The calibration with only the targets ``keep(target)`` accepts."""
    items = tuple(t for t in calib.targets if keep(t))
    return dataclasses.replace(calib, targets=dataclasses.replace(calib.targets, items=items))


def summarise(calib: Any, frame: pd.DataFrame) -> dict[str, Any]:
    from sim.calibrate.check import summary

    s = summary(calib, frame)
    return {
        "truths": s["truths"],
        "accuracy": s["accuracy"],
        "decided": s["decided"],
        "accuracy_decided": s["accuracy_decided"],
        "confusion": s["confusion"].to_numpy().tolist(),
        "coverage": s["coverage"],
    }


def rf_case(calib: Any, table: pd.DataFrame, truths: pd.DataFrame) -> dict[str, Any]:
    from sim.calibrate.check import check_rf
    from sim.calibrate.forest import fit, judge

    started = time.perf_counter()
    forests = fit(calib, table)
    fitted = time.perf_counter() - started
    frame = check_rf(calib, forests, 0, table=truths)
    x = np.array([[calib.targets.observed[k] for k in calib.targets.keys]])
    ((answer, decision),) = judge(forests, x)
    imp = forests["choice"].importance()
    observed = {"selected": answer.selected, "probabilities": dict(answer.probabilities),
                "verdict": decision.sentence()}  # fmt: skip
    for name in calib.names:
        s = forests["params"][calib.truth["rule"], name].summary(x)[0]
        observed[name] = [s["q05"], s["q95"]]
    return {
        "statistics": len(calib.targets),
        "fit_seconds": fitted,
        "oob_accuracy": forests["choice"].accuracy,
        "oob_confusion": forests["choice"].confusion().to_numpy().tolist(),
        "importance": {k: float(v) for k, v in imp.head(8).items()},
        "check": summarise(calib, frame),
        "observed": observed,
    }


def smc_case(calib: Any, truths: pd.DataFrame, k: int, population: int, generations: int):
    from sim.calibrate.check import check_smc
    from sim.calibrate.run import calibrate

    abc = calib.spec.abc.model_copy(
        update={
            "method": "smc",
            "population": population,
            "generations": generations,
            "predictive": 0,
        }
    )
    smc = dataclasses.replace(calib, spec=calib.spec.model_copy(update={"abc": abc}))
    picks = pd.concat([truths[truths.rule == r].head(k) for r in calib.rules])
    started = time.perf_counter()
    frame = check_smc(smc, 0, calibrate=calibrate, workers=1, table=picks)
    seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        result = calibrate(smc, Path(tmp) / "obs", workers=1, figures=False, check=0)
        post = pd.read_csv(Path(tmp) / "obs" / "posterior.csv")
    from sim.calibrate.report import weighted_quantiles

    observed: dict[str, Any] = {"probabilities": result.probabilities}
    rows = post[post.rule == calib.truth["rule"]]
    for name in calib.names:
        observed[name] = (weighted_quantiles(rows[name], rows.weight, (0.05, 0.95))
                          if len(rows) else None)  # fmt: skip
    return {"population": population, "generations": generations, "seconds": seconds,
            "check": summarise(smc, frame), "observed": observed}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=int, default=10_000)
    parser.add_argument("--truths", type=int, default=20, help="truths per rule")
    parser.add_argument("--trees", type=int, default=500)
    parser.add_argument("--smc-truths", type=int, default=3, help="truths per rule for SMC")
    parser.add_argument("--smc-population", type=int, default=200)
    parser.add_argument("--smc-generations", type=int, default=4)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.reference, args.truths, args.trees = 900, 3, 100
        args.smc_truths, args.smc_population, args.smc_generations = 1, 60, 2

    from sim.calibrate import load_calibration, reference
    from sim.calibrate.check import truths as draw_truths

    calib = load_calibration(CALIBRATION)
    abc = calib.spec.abc.model_copy(update={"reference": args.reference, "trees": args.trees})
    calib = dataclasses.replace(calib, spec=calib.spec.model_copy(update={"abc": abc}))
    reference.build(calib, 12, seed=99)  # compile and warm up, not timed
    table, seconds = reference.build(calib, args.reference, seed=calib.abc.seed)
    started = time.perf_counter()
    truths = draw_truths(calib, args.truths)
    truth_seconds = time.perf_counter() - started
    print(f"reference table: {len(table)} runs in {seconds:.1f} s "
          f"({len(table) / seconds:.0f} runs/s)", flush=True)  # fmt: skip
    out: dict[str, Any] = {
        "command": "python benchmarks/choice_recovery.py" + (" --quick" if args.quick else ""),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "rules": calib.rules,
        "parameters": calib.names,
        "reference": {"runs": len(table), "seconds": seconds, "runs_per_s": len(table) / seconds},
        "truths_per_rule": args.truths,
        "truth_seconds": truth_seconds,
        "trees": args.trees,
        "truth": calib.truth,
        "rf": {},
    }
    cases = {"basic": subset(calib, lambda t: t.statistic in BASIC), "all": calib}
    for name, sub in cases.items():
        cols = ["rule", "seed", *calib.names, *sub.targets.keys]
        out["rf"][name] = rf_case(sub, table[cols], truths[cols])
        c = out["rf"][name]["check"]
        cover = ", ".join(f"{k}: {v['in50']:.2f}/{v['in90']:.2f}" for k, v in c["coverage"].items())
        print(f"rf {name}: accuracy {c['accuracy']:.3f}, coverage {cover}", flush=True)
    if args.smc_truths > 0:
        out["smc"] = smc_case(calib, truths, args.smc_truths, args.smc_population,
                              args.smc_generations)  # fmt: skip
        print(f"smc all: accuracy {out['smc']['check']['accuracy']:.3f}", flush=True)
    args.out.write_text(json.dumps(out, indent=1, default=float) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
