"""Quality competition at tenders (issue 22, item 1): ``drive.bid_quality_sd`` and
``drive.quality_weight``.

Hand-computed on a tiny batch (tests/conftest.py): a challenger that is no cheaper wins on
quality when quality is worth enough, and only the modules built after the tender carry
its quality; off (the default), tendering is what it was, bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from sim.core.engine import Engine
from tests.conftest import SCENARIOS, tiny_batch


def _tender_batch(weight: float):
    """Modules of services 0 and 1 ready at steps 1 and 4; one deployment a step; tenders
    every 2 steps (the first at step 3), two bidders with equal prices (z = 0); the
    challenger offers quality +0.1 at the first tender."""
    return tiny_batch(
        has_contractor=True,
        ready_step=np.array([1, 4]),
        rate=1.0,
        price=0.5,
        renew_every=2,
        bidders=2,
        bid_sd=1.0,
        switch_cost=0.01,
        bid_z=np.zeros((3, 2)),
        bid_q=np.array([[0.0, 0.1], [0.0, 0.0], [0.0, 0.0]]),
        quality_weight=weight,
    )


@pytest.mark.parametrize(("weight", "switched"), [(1.0, True), (0.05, False)])
def test_a_better_vendor_wins_when_quality_is_worth_its_switching_cost(
    weight: float, switched: bool
) -> None:
    """At step 3, 4 pairs left at 0.5 each: the incumbent scores (1 - w x 0) x 2 = 2, the
    challenger (1 - w x 0.1) x 2 + 0.01 x 2 contractor pairs: 1.82 with w = 1 (wins),
    2.01 with w = 0.05 (loses). The module built at step 4 has quality 0.75 + 0.1 only
    when the challenger won; the module built at step 1 keeps 0.75."""
    b = _tender_batch(weight)
    b.advance(4)
    st = b.state
    assert st.tenders[0] == 1 and st.switches[0] == int(switched)
    assert st.quality_offset[0] == pytest.approx(0.1 if switched else 0.0)
    first, second = st.module_sol[0, 0], st.module_sol[0, 1]
    assert first >= 0 and second >= 0
    assert st.sol_quality[0, first] == pytest.approx(0.75)
    assert st.sol_quality[0, second] == pytest.approx(0.85 if switched else 0.75)
    assert st.price_factor[0] == pytest.approx(math.exp(0.0))


@pytest.mark.parametrize("rule", ["contractor", "hybrid"])
def test_off_by_default_tendering_is_what_it_was(rule: str) -> None:
    """bid_quality_sd = 0 (the default) with tendering on: the same run whatever
    quality_weight says (no quality draws, no offsets), and every run's draws of the
    prices are those of tendering without quality (drawn first from the same stream)."""
    tender = {"drive.contract_period": 2.0, "drive.bidders": 3, "drive.bid_sd": 0.4}
    base = sim.load_scenario(SCENARIOS / "teaching.toml", tender)
    weighted = sim.load_scenario(
        SCENARIOS / "teaching.toml", {**tender, "drive.quality_weight": 50.0}
    )
    a, c = Engine(base, rule, 3).run(), Engine(weighted, rule, 3).run()
    for column, values in a.recorder.data.items():
        np.testing.assert_array_equal(values, c.recorder.data[column], err_msg=column)
    on = sim.load_scenario(SCENARIOS / "teaching.toml", {**tender, "drive.bid_quality_sd": 0.1})
    q = Engine(on, rule, 3)
    np.testing.assert_array_equal(q.batch.consts.bid_z, a.batch.consts.bid_z)


def test_quality_competition_raises_the_quality_of_later_modules() -> None:
    """Over 20 seeds, with quality worth a lot and no switching cost, challengers win on
    quality whenever one offers more than the incumbent, so the offset of the vendor in
    place at the end is never negative and usually positive, and the mean module quality
    rises above the base. (A wrong sign in the score would pick worse vendors: offsets
    mostly negative.)"""
    over = {
        "drive.contract_period": 1.0,
        "drive.bidders": 4,
        "drive.bid_sd": 0.05,
        "drive.switching_cost": 0.0,
        "drive.bid_quality_sd": 0.1,
        "drive.quality_weight": 20.0,
    }
    s = sim.load_scenario(SCENARIOS / "teaching.toml", over)
    offsets = []
    for seed in range(20):
        e = Engine(s, "contractor", seed).run()
        offsets.append(float(e.batch.state.quality_offset[e.index]))
    # each tender keeps about the best of the incumbent's and 3 challengers' N(0, 0.1)
    # offsets (the prices differ by ~5%, a 0.1 of quality is worth 2.0): no challenger above
    # 0 at one tender has probability 1/8, at each of the yearly tenders while pairs are
    # left (two or more) 1/64 or less; 0.8 leaves room for a seed or two of bad luck
    assert np.mean(np.array(offsets) > 0) >= 0.8
    assert np.mean(offsets) > 0.05
