"""An operator separate from the owner (issue 22, item 1; ODD 7.18.19): repair time and who
carries outages, against hand-computed expectations; neutral at the defaults."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.core.engine import Engine
from sim.core.mechanisms.operator import outage_steps
from sim.core.outcomes import lifecycle_cost

from .test_mechanisms_19 import TEACHING, constants


def test_the_operator_repairs_at_its_contractual_time() -> None:
    """outage_duration 1 year at 12 steps a year: 12 steps; half operated by an operator
    repairing in half the time: 1 x (1 - 0.5 + 0.5 x 0.5) = 0.75 years = 9 steps."""
    base = {"drive.outage_duration": 1.0, "time.steps_per_year": 12}
    assert constants(base)["outage_steps"] == 12
    over = {**base, "drive.operator_share": 0.5, "drive.operator_repair": 0.5}
    assert constants(over)["outage_steps"] == 9
    s = sim.load_scenario(TEACHING, over)
    assert outage_steps(s, s.n_steps + 1) == 9


def test_the_owner_carries_its_share_of_platform_outages_and_all_local_failures() -> None:
    """10 pairs, dt 1. Step 1: the platform is down with 5 contractor pairs, and 1 local
    pair is down; step 2: only the local pair. At 2 per pair-year and an owner's share of
    0.25: 2 x (0.25 x 5 + 1) + 2 x 1 = 6.5."""
    zero = np.zeros(3)
    data = {
        "year": np.array([0.0, 1.0, 2.0]),
        "cost": zero,
        "served_own": zero,
        "served_peer": zero,
        "served_catalogue": zero,
        "served_contractor": np.array([0.0, 0.5, 0.5]),
        "coverage": np.array([0.0, 0.0, 0.5]),
        "outage": np.array([0.0, 1.0, 0.0]),
        "lost_pairs": np.array([0.0, 6.0, 1.0]),
    }
    terms = {
        "pairs": 10,
        "discount_rate": 0.0,
        "operation_local": 0.0,
        "operation_shared": 0.0,
        "crew": 0.0,
        "catalogue": 0.0,
    }
    assert lifecycle_cost(data, **terms, outage=2.0, owner_share=0.25) == pytest.approx(6.5)
    assert lifecycle_cost(data, **terms, outage=2.0) == pytest.approx(2 * 6 + 2 * 1)
    assert lifecycle_cost(data, **terms) == 0.0


def _lifecycle(over: dict, seed: int) -> float:
    return Engine(sim.load_scenario(TEACHING, over), "contractor", seed).run().lifecycle_cost()


def test_the_operator_fee_and_outage_costs_enter_the_lifecycle() -> None:
    """On the same draws: an operator carrying all outages (repairing as fast as the
    owner, so the run is the same) removes the platform's outage cost from the owner's
    lifecycle cost; its fee adds fee x contractor pair-years."""
    seed = 2
    base = {
        "drive.failure_rate": 2.0,
        "drive.operator_repair": 1.0,
        "costs.discount_rate": 0.0,
        "risk.local_failure_rate": 0.0,
    }
    plain = _lifecycle(base, seed)
    owner = _lifecycle({**base, "costs.outage": 5.0}, seed)
    op = {**base, "costs.outage": 5.0, "drive.operator_share": 1.0}
    assert owner > plain
    assert _lifecycle(op, seed) == pytest.approx(plain)  # no local failures: all platform
    e = Engine(sim.load_scenario(TEACHING, {**op, "drive.operator_fee": 0.1}), "contractor", seed)
    e.run()
    data = e.recorder.data
    pair_years = (data["served_contractor"][1:] * e.state.n * e.state.k).sum() * e.scenario.dt
    assert e.lifecycle_cost() == pytest.approx(plain + 0.1 * pair_years)


def test_defaults_leave_outages_and_lifecycle_as_they_were() -> None:
    a = constants()
    s = sim.load_scenario(TEACHING)
    never = s.n_steps + 1
    expected = max(1, int(np.floor(min(s.drive.outage_duration / s.dt, never) + 0.5)))
    assert a["outage_steps"] == expected
    assert s.drive.operator_share == 0.0 and s.costs.outage == 0.0
