"""Two-sided prices and value for money (issue 19): the prices of the province's levers
(promotion, catalogue visibility, fast recognition) are neutral at 0, add exactly their
discounted yearly amount to lifecycle_cost under the rules that use the lever and nothing
under the others, and never change what happens; value_for_money is the quality-weighted
served pair-years per unit of lifecycle cost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.core.batch import RULE_SWITCHES
from sim.core.engine import Engine
from sim.core.outcomes import quality_pair_years
from sim.scenario import load_scenario

TEACHING = Path(__file__).resolve().parent.parent / "scenarios" / "teaching.toml"
PRICES = {"costs.promotion": 0.5, "costs.visibility": 2.0, "costs.assessment": 0.3}


def _run(rule: str, **overrides: float) -> Engine:
    s = load_scenario(TEACHING, {"costs.discount_rate": 0.05, **overrides})
    e = Engine(s, rule, 11)
    e.run()
    return e


@pytest.mark.parametrize("rule", ["grassroots", "contractor", "hybrid"])
def test_prices_are_neutral_at_zero_and_exact_otherwise(rule: str) -> None:
    base = _run(rule)
    zero = _run(rule, **dict.fromkeys(PRICES, 0.0))
    assert zero.outcomes() == base.outcomes()  # bit for bit
    priced = _run(rule, **PRICES)
    a, b = base.outcomes(), priced.outcomes()
    for name in a:  # prices never change what happens, only what it costs
        if name not in ("lifecycle_cost", "value_for_money"):
            assert a[name] == b[name] or (np.isnan(a[name]) and np.isnan(b[name])), name
    s = base.scenario
    years = base.recorder.data["year"][1:]
    paid = float((s.dt * 1.05**-years).sum())  # sum over steps of dt x discount
    sw = RULE_SWITCHES[rule]  # grassroots: all three; hybrid: no promotion; contractor: none
    yearly = (
        0.5 * s.support.promotion_rate * sw.promotion
        + 2.0 * s.support.catalog_visibility * sw.visibility
        + 0.3 / s.support.recognition_lag * sw.province
    )
    assert b["lifecycle_cost"] - a["lifecycle_cost"] == pytest.approx(yearly * paid, rel=1e-9)
    if yearly:
        assert b["value_for_money"] < a["value_for_money"]


def test_value_for_money_is_benefit_over_lifecycle_cost() -> None:
    e = _run("grassroots", **{"costs.operation_local": 0.1})
    data, pairs = e.recorder.data, e.state.n * e.state.k
    benefit = quality_pair_years(data, pairs=pairs, discount_rate=0.05)
    out = e.outcomes()
    assert out["value_for_money"] == pytest.approx(benefit / out["lifecycle_cost"])
    # by hand: the discounted, weighted served pair-years (quality is NaN before any serves)
    years = data["year"][1:]
    q = np.nan_to_num(data["quality"][1:])
    by_hand = (e.scenario.dt * 1.05**-years * q * data["coverage_weighted"][1:] * pairs).sum()
    assert benefit == pytest.approx(by_hand) and 0 < benefit <= pairs * years[-1]


@pytest.mark.parametrize(("capacity", "binds"), [(20.0, True), (2000.0, False)])
def test_idle_share_says_whether_contractor_capacity_binds(capacity: float, binds: bool) -> None:
    # Teaching: 480 pairs, modules built at 4 a year for 8 services. At 20 deployments a
    # year the crew is busy every year (never done within 8 years: nothing idle); at 2,000
    # it could serve every pair in a quarter of a year but waits for modules: most of it
    # idles and its busiest year uses a small share of it.
    from types import SimpleNamespace

    from sim.experiments.compare import compare
    from sim.experiments.match import lever_use

    s = load_scenario(TEACHING, {"drive.contractor_capacity": capacity})
    cmp = compare(s, rules=["contractor"], replicates=3, seed=5)
    m = SimpleNamespace(param="drive.contractor_capacity", rule="contractor", value=capacity)
    use = lever_use(cmp, m)
    assert use["binds"] is binds
    if binds:
        # idle only while the platform is built (1 of 8 years) and the first modules come
        assert 0.1 < use["idle_share"] < 0.25 and use["peak_use"] > 0.9
    else:
        assert use["idle_share"] > 0.8 and use["peak_use"] < 0.5
    other = SimpleNamespace(param="drive.build_rate", rule="contractor", value=4.0)
    assert lever_use(cmp, other) == {}
