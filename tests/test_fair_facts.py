"""The fair comparison's facts (issue 12), asserted on the shipped province scenarios.

``docs/stylized-facts.md`` ("A fair comparison" and the sweep after it) reports, for the
shipped ``scenarios/zhejiang.toml`` and ``scenarios/guangdong.toml`` with every symmetric
mechanism of issue 12 on, which contrasts of the study hold, which reverse, and where.
These tests assert the robust ones, and the reversals the sweep found, with seeds
independent of the doc's (the doc uses ``scenario.seed + r``, 2014.. and 2017..; these use
``SEED + r``), so they confirm the doc rather than re-run it.

Every point runs both rules on the same ``R`` seeds (common random numbers) and tests the
mean paired difference ``grassroots - contractor``. Tolerance: the two-sided 95%
Student-t interval of that mean (:func:`sim.experiments.compare.interval`, as in the doc)
must lie on the asserted side of 0. Only contrasts whose mean was at least ~3.5 interval
half-widths from 0 in the doc (40 replicates) *and* with these seeds are asserted, so a
change that only reshuffles random draws does not flip a test, while swapped rules, an
inert mechanism (capacity, local failures, operating costs, absorption, the crew) or a
wrong outcome definition does. Contrasts that are marginal on the shipped scenarios (the
speed ranking in Guangdong, the best solution in use, the mean service loss) are not
asserted there; they are asserted where the sweep put them clearly on one side.

About 2,600 runs of ~10 ms (a third of them in the two matches): ~20 s on two busy cores
after the kernels are compiled.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.core.engine import run_batched
from sim.experiments.compare import interval
from sim.experiments.match import match
from sim.run import engine_for

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
PROVINCES = ("zhejiang", "guangdong")
RULES = ("grassroots", "contractor")
SEED = 90_000  # the doc uses scenario.seed + r (2014-2056): disjoint
R = 40  # paired replicates per point, as in the doc; the half-width shrinks as 1/sqrt(R)


def scenario(province: str, **overrides: object) -> sim.Scenario:
    return sim.load_scenario(SCENARIOS / f"{province}.toml", overrides=overrides or None)


@cache
def _paired(province: str, overrides: tuple[tuple[str, object], ...]) -> dict[str, np.ndarray]:
    """outcome -> (2, R) array, grassroots then contractor, on seeds SEED + r (one batch)."""
    s = scenario(province, **dict(overrides))
    engines = [engine_for(s, rule=rule, seed=SEED + r) for rule in RULES for r in range(R)]
    run_batched(engines)
    rows = [e.outcomes() for e in engines]
    return {o: np.array([row[o] for row in rows]).reshape(len(RULES), R) for o in rows[0]}


def g_minus_c(province: str, outcome: str, **overrides: object) -> np.ndarray:
    """Paired differences grassroots - contractor; overrides use ``__`` for the dot."""
    key = tuple(sorted((k.replace("__", "."), v) for k, v in overrides.items()))
    g, c = _paired(province, key)[outcome]
    return g - c


def assert_side(d: np.ndarray, sign: int, what: str) -> None:
    """The 95% interval of the mean of ``d`` lies strictly on the ``sign`` side of 0."""
    mean, _, lo, hi = interval(np.asarray(d, float))
    ok = lo > 0 if sign > 0 else hi < 0
    side = "> 0" if sign > 0 else "< 0"
    assert ok, f"{what}: expected {side}; mean {mean:+.4g}, 95% CI [{lo:+.4g}, {hi:+.4g}]"


# ---- at the shipped values -----------------------------------------------------------------
# (outcome, sign of grassroots - contractor): service quality, equality and the worst year
# hold in both provinces, duplicates in Guangdong; grassroots costs more over the life cycle.
# Doc figures: the shipped scenarios since issues 19 and 22 (docs/stylized-facts.md, fair).
SHIPPED = [
    ("duplicate_developments", +1),  # doc: Guangdong +68, half-width 4 (Zhejiang below)
    ("service_quality", +1),  # +0.077, +0.032; half-widths 0.006, 0.008
    ("adoption_gap_years", +1),  # +0.29, +1.8 years; half-widths 0.05, 0.08
    ("worst_year_loss", -1),  # -0.060, -0.093; half-widths 0.012, 0.021
    ("lifecycle_cost", +1),  # +475, +336; half-widths 10, 16
]


MARGINAL = {("zhejiang", "duplicate_developments")}
"""Since issues 19 and 22 (crowding-out follows the contractor's plan in the shipped
provinces, docs/mechanisms.md) Zhejiang's duplicates contrast is near 0, slightly reversed
(doc: -5.1 [-8.5, -1.8], 3 half-widths, below the 3.5 this file asks): not asserted."""


@pytest.mark.parametrize(
    ("province", "outcome", "sign"),
    [(p, o, s) for p in PROVINCES for o, s in SHIPPED if (p, o) not in MARGINAL],
)
def test_shipped_contrast_holds(province: str, outcome: str, sign: int) -> None:
    assert_side(g_minus_c(province, outcome), sign, f"{province}, {outcome}, g - c")


def test_shipped_zhejiang_grassroots_is_faster() -> None:
    # Speed reverses at Zhejiang's shipped capacity (250 a year): grassroots reaches half
    # coverage ~1 year first (doc: -1.00 [-1.06, -0.95]; -1.29 before issues 19 and 22).
    assert_side(g_minus_c("zhejiang", "t50_years"), -1, "t50, g - c")
    assert_side(g_minus_c("zhejiang", "coverage_mean"), +1, "coverage_mean, g - c")


def test_shipped_guangdong_contractor_covers_more_on_average() -> None:
    # In Guangdong the two speed measures disagree: t50 is level (doc: -0.03, n.s.; not
    # asserted), but the contractor's mean coverage is higher (doc: -0.041 [-0.049, -0.033],
    # 5 half-widths).
    assert_side(g_minus_c("guangdong", "coverage_mean"), -1, "coverage_mean, g - c")


# ---- speed reverses with the contractor's capacity -----------------------------------------
@pytest.mark.parametrize(("province", "shipped"), [("zhejiang", 250.0), ("guangdong", 320.0)])
def test_speed_reverses_with_contractor_capacity(province: str, shipped: float) -> None:
    assert scenario(province).drive.contractor_capacity == shipped
    # Half the shipped capacity: grassroots first (doc: t50 -3.5 and -3.7 years) ...
    slow = {"drive__contractor_capacity": shipped / 2}
    assert_side(g_minus_c(province, "t50_years", **slow), -1, "t50 at half capacity")
    assert_side(g_minus_c(province, "coverage_mean", **slow), +1, "coverage at half capacity")
    # ... four times: the contractor first (doc: +0.55 and +2.5 years).
    fast = {"drive__contractor_capacity": shipped * 4}
    assert_side(g_minus_c(province, "t50_years", **fast), +1, "t50 at 4x capacity")
    assert_side(g_minus_c(province, "coverage_mean", **fast), -1, "coverage at 4x capacity")
    # Where the contractor is fast, grassroots still has the better best solution in use
    # (marginal at the shipped capacity) and the contractor is still more equal.
    if province == "guangdong":  # Zhejiang: marginal since issues 19 and 22
        assert_side(g_minus_c(province, "best_solution_quality", **fast), +1, "best at 4x")
    assert_side(g_minus_c(province, "adoption_gap_years", **fast), +1, "gap at 4x")


# ---- risk: the mean loss reverses with the local failure rate, the concentration does not --
@pytest.mark.parametrize("province", PROVINCES)
def test_mean_loss_reverses_with_local_failures(province: str) -> None:
    none = {"risk__local_failure_rate": 0.0}  # only the platform fails
    assert np.all(_paired(province, (("risk.local_failure_rate", 0.0),))["service_loss"][0] == 0)
    assert_side(g_minus_c(province, "service_loss", **none), -1, "service_loss, no local")
    # Four times the platform's rate per county: grassroots loses more on average (doc:
    # reverses from 0.6 in both provinces; these seeds: ~8-10 half-widths at 1.2).
    many = {"risk__local_failure_rate": 1.2}
    assert_side(g_minus_c(province, "service_loss", **many), +1, "service_loss at 1.2/yr")


@pytest.mark.parametrize("rate", [0.3, 1.2])
@pytest.mark.parametrize("province", PROVINCES)
def test_platform_losses_are_concentrated_local_ones_scattered(province: str, rate: float) -> None:
    # Systemic against scattered risk, whatever the mean: the worst year's loss relative to
    # the mean loss (worst_year_loss / service_loss) is larger under the contractor, also
    # where grassroots loses more on average (1.2/yr). Paired on the log of the ratio, which
    # tames the heavy tail of a ratio (these seeds: 5-6 half-widths from 0); replicates
    # without any outage under a rule (no ratio) are left out, and are rare.
    runs = _paired(province, (("risk.local_failure_rate", rate),))
    worst, mean = runs["worst_year_loss"], runs["service_loss"]
    ok = np.all(mean > 0, axis=0)
    assert ok.sum() >= 0.75 * R
    log_ratio = np.log(worst[:, ok] / mean[:, ok])
    assert_side(log_ratio[0] - log_ratio[1], -1, f"log(worst / mean loss), g - c at {rate}/yr")


# ---- cost: the ranking is set by the running costs ----------------------------------------
@pytest.mark.parametrize("province", PROVINCES)
def test_cost_ranking_reverses_with_running_costs(province: str) -> None:
    # Without running costs for county systems grassroots is the cheaper rule; with a
    # shared platform four times as costly to run (0.24 per pair-year) too.
    free_local = {"costs__operation_local": 0.0}
    dear_shared = {"costs__operation_shared": 0.24}
    assert_side(g_minus_c(province, "lifecycle_cost", **free_local), -1, "free local O&M")
    assert_side(g_minus_c(province, "lifecycle_cost", **dear_shared), -1, "dear shared O&M")
    # Costs do not act on the dynamics: the same runs, other outcomes identical.
    same = g_minus_c(province, "t50_years", **free_local)
    assert np.array_equal(same, g_minus_c(province, "t50_years"))


# ---- at equal lifecycle cost ---------------------------------------------------------------
@pytest.mark.parametrize("province", PROVINCES)
def test_at_equal_lifecycle_cost(province: str) -> None:
    # The contractor's capacity that buys grassroots' lifecycle cost (bisection on these
    # seeds): far above the shipped value (doc: ~2,600 and ~920), and there the contractor is
    # faster, while grassroots still duplicates more, serves better and is less equal.
    s = scenario(province)
    m = match(
        s,
        outcome="lifecycle_cost",
        param="drive.contractor_capacity",
        rules=RULES,
        replicates=R,
        seed=SEED,
    )
    assert m.converged
    assert m.value > 2 * s.drive.contractor_capacity
    cap = {"drive__contractor_capacity": m.value}
    cost = g_minus_c(province, "lifecycle_cost", **cap)
    assert abs(cost.mean()) <= 0.011 * m.target  # the match: within 1% (plus rounding)
    assert_side(g_minus_c(province, "t50_years", **cap), +1, "t50 at equal cost")
    assert_side(g_minus_c(province, "coverage_mean", **cap), -1, "coverage at equal cost")
    for outcome, sign in SHIPPED[:4]:
        assert_side(g_minus_c(province, outcome, **cap), sign, f"{outcome} at equal cost")
