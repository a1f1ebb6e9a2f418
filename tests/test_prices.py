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
