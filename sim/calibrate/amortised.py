"""``[abc] method = "rf"``: a calibration by ABC random forests, written into a folder.

One reference table from the priors of every rule (:mod:`.reference`), forests trained on
it once (:mod:`.forest`), then evaluated at the observed statistics — and, with a check,
at N truths per rule drawn from the same priors, for the cost of N x rules more runs and a
prediction each (:mod:`.check`). The verdict on the rule comes from :mod:`.verdict`.

Outputs (next to ``calibration.json``, ``calibration.toml``, ``targets.csv``,
``provenance.json``, as for ABC-SMC):

* ``reference.csv`` — the table: ``rule,seed``, the parameters, one column per target;
* ``model_choice.csv`` — ``rule,votes,probability,selected``;
* ``confusion.csv`` — out-of-bag confusion matrix (rows: true rule; columns: chosen);
* ``importance.csv`` — ``statistic,importance`` (mean decrease in impurity);
* ``posterior_summary.csv`` — per rule and parameter: mean and 5/25/50/75/95% quantiles;
* ``check.csv`` (with a check) and ``report.md``.

The folder is written as ABC-SMC's is: in a temporary folder beside ``--out``, renamed
into place at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import write_csv, write_text
from .config import Calibration, prior_bounds
from .forest import ChoiceForest, fit, judge
from .verdict import Answer, Verdict


def posterior_summary(calib: Calibration, forests: dict[str, Any], x: np.ndarray) -> pd.DataFrame:
    rows = []
    for (rule, name), forest in forests["params"].items():
        s = forest.summary(x)[0]
        lo, hi = prior_bounds(calib.spec.parameters[name])
        width = (s["q95"] - s["q05"]) / _prior_width(forest.theta)
        rows.append({"rule": rule, "parameter": name, **s, "prior_low": lo, "prior_high": hi,
                     "width_vs_prior": width})  # fmt: skip
    return pd.DataFrame(rows)


def _prior_width(theta: np.ndarray) -> float:
    """The prior's 90% width, from the table's own draws."""
    lo, hi = np.quantile(theta, [0.05, 0.95])
    return float(hi - lo) if hi > lo else float("nan")


def calibrate_rf(
    calib: Calibration,
    folder: Path,
    *,
    check: int,
    progress: Callable[[int, int, int], None] | None = None,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Write an ABC-RF calibration's tables and report into ``folder`` (a temporary folder:
    :mod:`.run` adds the manifest and inputs and publishes it); returns what
    :class:`~sim.calibrate.run.CalibrationResult` needs. ``executor``: where the reference
    table's chunks run (None: this process)."""
    from . import check as checks
    from . import reference

    started = time.time()

    def table_progress(done: int, total: int) -> None:
        if progress is not None:
            progress(-1, done, total)

    table, seconds = reference.build(
        calib, calib.abc.reference, seed=calib.abc.seed, progress=table_progress,
        executor=executor,
    )  # fmt: skip
    write_csv(folder / "reference.csv", table)
    forests = fit(calib, table)
    x = np.array([[calib.targets.observed[k] for k in calib.targets.keys]])
    ((answer, decision),) = judge(forests, x)
    choice: ChoiceForest = forests["choice"]
    votes = choice.choose_many(x)[0].votes
    write_csv(folder / "model_choice.csv", pd.DataFrame([
        {"rule": r, "votes": votes[r], "probability": answer.probabilities[r],
         "selected": r == answer.selected} for r in calib.rules
    ]))  # fmt: skip
    confusion = choice.confusion()
    write_csv(folder / "confusion.csv", confusion.reset_index())
    importance = choice.importance()
    write_csv(folder / "importance.csv", pd.DataFrame(
        {"statistic": importance.index, "importance": importance.to_numpy()}))  # fmt: skip
    summary = posterior_summary(calib, forests, x)
    write_csv(folder / "posterior_summary.csv", summary)
    section: list[str] = []
    runs = len(table)
    if check > 0:
        frame = checks.check_rf(calib, forests, check)
        write_csv(folder / "check.csv", frame)
        runs += len(frame)
        section = checks.section(calib, frame, method="rf")
    outside = outside_table(calib, table)
    text = report(
        calib,
        answer,
        decision,
        votes,
        confusion,
        importance,
        summary,
        table_runs=len(table),
        table_seconds=seconds,
        accuracy=choice.accuracy,
        outside=outside,
    )
    write_text(folder / "report.md", text + ("\n" + "\n".join(section) + "\n" if section else ""))
    return {"probabilities": dict(answer.probabilities), "runs": runs,
            "seconds": time.time() - started, "verdict": decision}  # fmt: skip


def outside_table(calib: Calibration, table: pd.DataFrame) -> list[str]:
    """Target keys whose observed value lies outside the range of the reference table:
    no run from the priors came near it, and forests do not extrapolate (they answer as
    for the nearest runs), so the choice there is not evidence."""
    out = []
    for key, value in calib.targets.observed.items():
        col = table[key].to_numpy(float)
        col = col[np.isfinite(col)]
        if len(col) and not col.min() <= value <= col.max():
            out.append(key)
    return out


def _g(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:.3g}"


def report(
    calib: Calibration,
    answer: Answer,
    decision: Verdict,
    votes: dict[str, float],
    confusion: pd.DataFrame,
    importance: pd.Series,
    summary: pd.DataFrame,
    *,
    table_runs: int,
    table_seconds: float,
    accuracy: float,
    outside: list[str] = (),  # type: ignore[assignment]
) -> str:
    a = calib.abc
    *head, start = calib.report_head()
    lines = [
        *head,
        start + "ABC random forests (Pudlo et al. 2016; Raynal et "
        f"al. 2019): a reference table of {table_runs:,} runs from the priors "
        f"({table_seconds:.0f} s, {table_runs / max(table_seconds, 1e-9):.0f} runs/s), "
        f"{a.trees} trees per forest, seed {a.seed}.",
        "",
        "## Which rule explains the data?",
        "",
        "| rule | votes | P(rule \\| data) |",
        "| --- | ---: | ---: |",
        *[f"| {r} | {votes[r]:.3f} | {answer.probabilities[r]:.3f} |" for r in calib.rules],
        "",
        decision.sentence(),
        "",
        *(
            [
                "**The data lie outside the reference table** for "
                + ", ".join(f"`{k}`" for k in outside)
                + ": "
                "no run drawn from the priors came that far, and forests answer as for the nearest "
                "runs. Widen the priors, or read the choice as the model straining to fit.",
                "",
            ]
            if outside
            else []
        ),
        f"The forest selects the rule with most votes; P({answer.selected} | data) is "
        "Pudlo et al.'s estimate (one minus the predicted out-of-bag error at the data); the "
        "other rules share the rest in proportion to their votes.",
        "",
        f"Out-of-bag confusion matrix over the reference table (rows: true rule; columns: "
        f"chosen), accuracy {accuracy:.3f}:",
        "",
        "| true \\ chosen | " + " | ".join(calib.rules) + " |",
        "| --- |" + " ---: |" * len(calib.rules),
        *[
            f"| {r} | " + " | ".join(str(int(confusion.at[r, c])) for c in calib.rules) + " |"
            for r in calib.rules
        ],
        "",
        "Statistics that mattered (mean decrease in impurity; LD = linear discriminant axis): "
        + ", ".join(f"`{k}` {v:.3f}" for k, v in importance.head(8).items())
        + ".",
        "",
        "## Parameters",
        "",
        "Posterior of each parameter under each rule (quantile regression forest): mean, "
        "median and the 90% credible interval; *width vs prior* is its width over the "
        "prior's 90% width (near 1: the data say little about it under that rule).",
        "",
        "| rule | parameter | mean | median | 90% interval | width vs prior |",
        "| --- | --- | ---: | ---: | --- | ---: |",
    ]
    for r in summary.itertuples():
        lines.append(f"| {r.rule} | `{r.parameter}` | {_g(r.mean)} | {_g(r.q50)} | "
                     f"[{_g(r.q05)}, {_g(r.q95)}] | {_g(r.width_vs_prior)} |")  # fmt: skip
    if calib.truth is not None:
        true_rule = calib.truth["rule"]
        lines += [
            "",
            "## Recovery",
            "",
            f"- The data were made under `{true_rule}`; the verdict is {decision.text}.",
        ]
        for name, value in calib.truth["parameters"].items():
            row = summary[(summary.rule == true_rule) & (summary.parameter == name)]
            if len(row):
                r = row.iloc[0]
                inside = r.q05 <= value <= r.q95
                lines.append(
                    f"- `{name}` = {value:g}: "
                    f"{'inside' if inside else '**outside**'} [{_g(r.q05)}, {_g(r.q95)}]"
                )
    return "\n".join(lines) + "\n"


__all__ = ["calibrate_rf", "posterior_summary", "report"]
