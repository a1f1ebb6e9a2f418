"""The engine against the frozen outcome distributions of the engine it replaced.

``tests/baselines/`` holds, for each pinned scenario copy and rule, every scalar outcome
of the previous engine (per-step draws, NumPy) on seeds 0..199
(``tests/baselines/make_baseline.py`` made them). The current engine draws its random
numbers differently (one clock per pair), so single runs differ; the *distributions*
must not. For each (scenario, rule, outcome) a Welch z compares the means.

Threshold: about 300 comparisons (5 scenarios x 3 rules x 20 outcomes, plus the national
scenario). A Bonferroni bound keeps the chance of any false alarm, if the models agree,
at 1% in total: |z| < Phi^-1(1 - 0.005 / m), about 4.2 for m = 300. A real change of
mechanism moves some mean by far more (the tests below were checked to fail when, for
example, the catalogue's visibility is ignored or the peer rate is halved).

Definitions changed since the baseline was frozen (issue 12, CHANGELOG "a fair
comparison") are not compared where they change the numbers, and only there:

* outcomes the baseline does not have (new outcomes) are skipped;
* under the contractor rule (and nationally under "mixed", whose Guangdong runs it):
  ``reuses`` and ``reuse_ratio`` (a module's first deployment is no longer a reuse),
  ``best_solution_quality`` (only solutions in use at the end: undeployed modules no
  longer count) and ``service_quality``, ``total_cost``, ``cost_per_service`` (the fix:
  ``support.standardization`` no longer acts under the contractor rule). Under the
  grassroots and hybrid rules these definitions give the old numbers (every solution is
  in use, no module is built), so they are still compared there.

Every new mechanism is off at its default, so every other comparison is as before.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim.core.engine import Engine, run_batched

BASE = Path(__file__).resolve().parent / "baselines"
PROVINCE_SCENARIOS = ("zhejiang", "guangdong", "teaching", "bass", "linear_rollout")
N_COMPARISONS = 6 * 4 * len(sim.OUTCOMES)  # an upper bound on the comparisons made
Z_MAX = float(stats.norm.ppf(1 - 0.005 / N_COMPARISONS))


CHANGED_UNDER_CONTRACTOR = frozenset(
    {
        "reuses",
        "reuse_ratio",
        "best_solution_quality",
        "service_quality",
        "total_cost",
        "cost_per_service",
    }
)


def compared(old: pd.DataFrame, rule: str) -> list[str]:
    """The outcomes whose definitions did not change for ``rule`` (see the docstring)."""
    names = [n for n in sim.OUTCOMES if n in old.columns]
    if rule in ("contractor", "mixed"):
        names = [n for n in names if n not in CHANGED_UNDER_CONTRACTOR]
    return names


def welch_failures(old: pd.DataFrame, new: pd.DataFrame, label: str) -> list[str]:
    """Outcomes whose means differ beyond Z_MAX (or, without variance, at all)."""
    bad = []
    for name in compared(old, label.rsplit("/", 1)[-1]):
        a, b = old[name].to_numpy(float), new[name].to_numpy(float)
        se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        diff = b.mean() - a.mean()
        if se == 0:
            if not np.isclose(diff, 0.0, atol=1e-12):
                bad.append(f"{label} {name}: {a.mean():.4g} -> {b.mean():.4g} (no variance)")
        elif abs(diff / se) > Z_MAX:
            bad.append(f"{label} {name}: {a.mean():.4g} -> {b.mean():.4g}, z = {diff / se:.1f}")
    return bad


@pytest.mark.parametrize("name", PROVINCE_SCENARIOS)
def test_outcome_means_match_the_frozen_baseline(name: str) -> None:
    old = pd.read_csv(BASE / f"{name}.csv")
    scenario = sim.load_scenario(BASE / "scenarios" / f"{name}.toml")
    seeds = sorted(old["seed"].unique())
    bad = []
    for rule in sim.RULES:
        engines = run_batched([Engine(scenario, rule, seed) for seed in seeds])
        new = pd.DataFrame([e.outcomes() for e in engines])
        bad += welch_failures(old[old["rule"] == rule], new, f"{name}/{rule}")
    assert not bad, "\n".join(bad)


def test_national_outcome_means_match_the_frozen_baseline() -> None:
    path = BASE / "china.csv"
    if not path.exists():
        pytest.skip("no national baseline")
    old = pd.read_csv(path)
    scenario = sim.load_scenario(BASE / "scenarios" / "china.toml")
    seeds = range(60)  # 60 of the 200 seeds: a national run costs about 30 province runs
    bad = []
    for rule in ("mixed", "contractor"):
        new = pd.DataFrame([sim.run_outcomes(scenario, rule, seed) for seed in seeds])
        bad += welch_failures(old[old["rule"] == rule], new, f"china/{rule}")
    assert not bad, "\n".join(bad)
