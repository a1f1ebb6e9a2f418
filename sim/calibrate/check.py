"""Does the calibration pick the right rule and cover the truth? (``--check N``, ``[check]``)

N truths per rule are drawn from the priors (rule, parameters, seed: :mod:`.reference`
with its own ``key`` and ``[check] seed``), each run once, and each run's statistics
calibrated as if they were the observed data:

* with ``method = "rf"`` by the forests already trained on the reference table — the
  check costs N x rules runs and a prediction each, little more than the calibration;
* with ``method = "smc"`` by a full ABC-SMC calibration per truth (same ``[abc]``
  settings, no predictive runs), N x rules times the cost of one.

Per truth, ``check.csv`` holds the rule chosen, its probability, the verdict, and for
each parameter the posterior's distribution function at the true value (under the true
rule): simulation-based calibration (Talts et al. 2018) says these are uniform on [0, 1]
when the posterior is calibrated, so the truth lies in the central 50% interval of half
of the truths and in the 90% interval of 90% of them.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import Calibration
from .verdict import Answer, verdict


def truths(calib: Calibration, n: int) -> pd.DataFrame:
    """n truths per rule, run: the columns of a reference table."""
    from . import reference

    table, _ = reference.build(
        calib, n * len(calib.rules), seed=calib.spec.check.seed, key=reference.TRUTH_KEY
    )
    return table


def _coverage_columns(name: str, cdf: np.ndarray) -> dict[str, np.ndarray]:
    cdf = np.asarray(cdf, dtype=float)
    ok = np.isfinite(cdf)
    return {
        f"{name}:cdf": cdf,
        f"{name}:in50": ok & (cdf >= 0.25) & (cdf <= 0.75),
        f"{name}:in90": ok & (cdf >= 0.05) & (cdf <= 0.95),
    }


def check_rf(
    calib: Calibration, forests: dict[str, Any], n: int, *, table: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The check of an ABC-RF calibration, reusing its forests (see the module docstring);
    ``table``: the truths, already run (default: :func:`truths`)."""
    from .forest import judge

    table = truths(calib, n) if table is None else table.reset_index(drop=True)
    keys = calib.targets.keys
    x = table[keys].to_numpy(float)
    judged = judge(forests, x)
    frame = table[["rule", "seed", *calib.names]].copy()
    frame.insert(0, "truth", range(len(frame)))
    frame["selected"] = [a.selected for a, _ in judged]
    frame["probability"] = [a.probability for a, _ in judged]
    frame["verdict"] = ["decided" if v.decided else "undecided" for _, v in judged]
    frame["correct"] = frame.selected == frame.rule
    for name in calib.names:
        cdf = np.full(len(frame), np.nan)
        for rule in calib.rules:
            rows = np.flatnonzero(frame.rule.to_numpy() == rule)
            if len(rows):
                forest = forests["params"][rule, name]
                cdf[rows] = forest.cdf(x[rows], frame[name].to_numpy(float)[rows])
        for col, values in _coverage_columns(name, cdf).items():
            frame[col] = values
    return frame


def check_smc(
    calib: Calibration,
    n: int,
    *,
    calibrate: Callable[..., Any],
    workers: int | None = 1,
    table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The check of an ABC-SMC calibration: one full calibration per truth (``calibrate``:
    :func:`sim.calibrate.run.calibrate`, passed in so that this module does not import
    the one that imports it; ``table``: the truths, already run)."""

    table = truths(calib, n) if table is None else table.reset_index(drop=True)
    rows = []
    abc = calib.spec.abc.model_copy(update={"predictive": 0})
    spec = calib.spec.model_copy(update={"abc": abc})
    with tempfile.TemporaryDirectory(prefix="sim-check-") as tmp:
        for i, truth in enumerate(table.itertuples(index=False)):
            t = truth._asdict()
            observed = [dataclasses.replace(x, value=float(table.iloc[i][x.key]), sd=x.sd)
                        for x in calib.targets]  # fmt: skip
            targets = dataclasses.replace(calib.targets, items=tuple(observed))
            one = dataclasses.replace(calib, spec=spec, targets=targets, truth=None)
            folder = Path(tmp) / f"truth-{i}"
            result = calibrate(one, folder, workers=workers, figures=False, check=0)
            p = result.probabilities
            selected = max(p, key=lambda r: p[r])
            answer = Answer(selected, p)
            decided = verdict(answer).decided
            post = pd.read_csv(folder / "posterior.csv")
            post = post[post.rule == t["rule"]]
            row = {"truth": i, "rule": t["rule"], "seed": t["seed"],
                   **{name: table.iloc[i][name] for name in calib.names},
                   "selected": selected, "probability": p[selected],
                   "verdict": "decided" if decided else "undecided",
                   "correct": selected == t["rule"]}  # fmt: skip
            for name in calib.names:
                value = float(table.iloc[i][name])
                if len(post):
                    w = post.weight.to_numpy(float)
                    theta = post[name].to_numpy(float)
                    cdf = float((w * (theta < value)).sum() + 0.5 * (w * (theta == value)).sum())
                    cdf /= w.sum()
                else:
                    cdf = float("nan")  # the true rule died out
                row.update({k: v[0] for k, v in _coverage_columns(name, np.array([cdf])).items()})
            rows.append(row)
            shutil.rmtree(folder, ignore_errors=True)
    return pd.DataFrame(rows)


def write_smc_check(
    calib: Calibration,
    folder: Path,
    n: int,
    *,
    calibrate: Callable[..., Any],
    workers: int | None,
) -> int:
    """Run the check of an ABC-SMC calibration into ``folder`` (``check.csv`` and a section
    appended to ``report.md``); the number of runs it made is not counted (each truth's
    calibration runs its own): returns the truths' runs."""
    from ..io import write_csv, write_text

    frame = check_smc(calib, n, calibrate=calibrate, workers=workers)
    write_csv(folder / "check.csv", frame)
    text = (folder / "report.md").read_text(encoding="utf-8")
    write_text(
        folder / "report.md", text + "\n" + "\n".join(section(calib, frame, method="smc")) + "\n"
    )
    return len(frame)


def summary(calib: Calibration, frame: pd.DataFrame) -> dict[str, Any]:
    """Accuracy, confusion matrix, share decided and accuracy among them, coverage."""
    from scipy import stats

    confusion = pd.crosstab(
        pd.Categorical(frame.rule, calib.rules), pd.Categorical(frame.selected, calib.rules),
        dropna=False,
    )  # fmt: skip
    decided = frame[frame.verdict == "decided"]
    coverage = {}
    for name in calib.names:
        cdf = frame[f"{name}:cdf"].to_numpy(float)
        finite = cdf[np.isfinite(cdf)]
        ks = float(stats.kstest(finite, "uniform").pvalue) if len(finite) > 1 else float("nan")
        coverage[name] = {"in50": float(frame[f"{name}:in50"].mean()),
                          "in90": float(frame[f"{name}:in90"].mean()), "ks_p": ks}  # fmt: skip
    return {
        "truths": len(frame),
        "accuracy": float(frame.correct.mean()),
        "confusion": confusion,
        "decided": float(len(decided) / max(1, len(frame))),
        "accuracy_decided": float(decided.correct.mean()) if len(decided) else float("nan"),
        "coverage": coverage,
    }


def section(calib: Calibration, frame: pd.DataFrame, *, method: str) -> list[str]:
    """The report.md section of a check."""
    s = summary(calib, frame)
    n = len(frame) // max(1, len(calib.rules))
    how = ("the forests trained on the reference table (no new calibration per truth)"
           if method == "rf" else "a full ABC-SMC calibration per truth")  # fmt: skip
    lines = [
        "## Check: does it pick the right rule and cover the truth?",
        "",
        f"{n} truths per rule drawn from the priors (`[check] seed` "
        f"{calib.spec.check.seed}), each run once and calibrated by {how}; per truth: "
        "`check.csv`.",
        "",
        f"Accuracy of the rule choice: **{s['accuracy']:.3f}** over {s['truths']} truths. "
        f"The verdict named a winner for {s['decided']:.0%} of them"
        + (f", and was right for {s['accuracy_decided']:.3f} of those."
           if np.isfinite(s["accuracy_decided"]) else "."),
        "",
        "| true \\ chosen | " + " | ".join(calib.rules) + " |",
        "| --- |" + " ---: |" * len(calib.rules),
        *[f"| {r} | " + " | ".join(str(int(s["confusion"].at[r, c])) for c in calib.rules)
          + " |" for r in calib.rules],
        "",
        "Coverage of the credible intervals under the true rule (simulation-based "
        "calibration: nominal 0.50 and 0.90; KS p: uniformity of the posterior CDF at the "
        "truth):",
        "",
        "| parameter | 50% interval | 90% interval | KS p |",
        "| --- | ---: | ---: | ---: |",
        *[f"| `{k}` | {v['in50']:.3f} | {v['in90']:.3f} | {v['ks_p']:.2g} |"
          for k, v in s["coverage"].items()],
    ]  # fmt: skip
    return lines


__all__ = ["check_rf", "check_smc", "section", "summary", "truths", "write_smc_check"]
