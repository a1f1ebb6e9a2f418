"""Traction from use (issue 22, item 3; ODD 7.18.15-16): demand that grows with use, and user
feedback that moves the contractor's build priorities. Hand-made runs
(``tests/conftest.py``) against hand-computed expectations, and the neutral defaults."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.core.engine import Engine

from .conftest import tiny_batch
from .test_mechanisms import serve_local
from .test_mechanisms_19 import TEACHING, constants


def test_demand_grows_with_the_start_of_step_use() -> None:
    """g = 3. Government 1 serves service 0 (u_0 = 1/3): government 0's hazards per step
    are 1 x (1 + 3/3) = 2 for service 0 and 1 for service 1. Government 2 develops service 1
    in step 1 (clock 0.5); its use counts from step 2 on (u_1 = 1/3: 1 + 1 = 2 more)."""
    clock = np.full((3, 2), np.inf)
    clock[2, 1] = 0.5
    b = tiny_batch(dev_dt=np.array([1.0, 0.0, 1.0]), demand_growth=3.0, clock=clock)
    serve_local(b, 1, 0, 0.5)
    b.advance(1)
    assert b.state.hazard[0, 0].tolist() == pytest.approx([2.0, 1.0])
    assert b.state.step[0, 2, 1] == 1
    b.advance(1)
    assert b.state.hazard[0, 0].tolist() == pytest.approx([4.0, 3.0])
    assert b.state.use_share[0].tolist() == pytest.approx([1 / 3, 1 / 3])


def test_without_growth_use_does_not_enter_the_hazard() -> None:
    b = tiny_batch(dev_dt=np.array([1.0, 0.0, 0.0]))
    serve_local(b, 1, 0, 0.5)
    b.advance(2)
    assert b.state.hazard[0, 0].tolist() == [2.0, 2.0]


def _contractor(**over) -> object:
    """Three services planned 0, 1, 2, one module ready per step, no deployments."""
    return tiny_batch(
        k=3,
        has_contractor=True,
        modules=np.array([0, 1, 2]),
        rank=np.array([0, 1, 2]),
        ready_step=np.array([1, 2, 3]),
        module_quality=np.array([0.1, 0.2, 0.3]),
        **over,
    )


@pytest.mark.parametrize(
    ("w", "order"),
    [
        (0.0, [0, 1, 2]),  # the plan
        (1.0, [2, 1, 0]),  # observed demand 1, 2, 3: most demanded first
        # scores 0.4 plan + 0.6 observed: 1.2, 1.0, 0.8 -> 2; then 1 (1.0) before 0 (1.2)
        (0.6, [2, 1, 0]),
        # scores 0.5 x (0, 1, 2) + 0.5 x (2, 1, 0) = 1, 1, 1: ties by plan
        (0.5, [0, 1, 2]),
        # 0.3 plan + 0.7 observed: 1.4, 1.0, 0.6 -> 2, 1, 0
        (0.7, [2, 1, 0]),
        # 0.8 plan + 0.2 observed: 0.4, 1.0, 1.6 -> the plan
        (0.2, [0, 1, 2]),
    ],
)
def test_priority_feedback_blends_plan_and_observed_demand(w: float, order: list[int]) -> None:
    b = _contractor(prio_fb=w, demand_obs=np.array([1.0, 2.0, 3.0]))
    b.advance(3)
    assert b.state.order[0].tolist() == order
    # quality follows the build position, not the service
    sols = b.state.module_sol[0][order]
    assert b.state.sol_quality[0][sols].tolist() == pytest.approx([0.1, 0.2, 0.3])


def test_observed_demand_grows_with_use() -> None:
    """Observed demand 3, 2, 1; two of three governments serve service 2 locally, g = 4:
    service 2's observed demand is 1 x (1 + 4 x 2/3) = 3.67 > 3, so with w = 1 it is built
    first, then 0, then 1. Without growth the plan's demand order 0, 1, 2 stands."""
    for g, order in ((4.0, [2, 0, 1]), (0.0, [0, 1, 2])):
        b = _contractor(prio_fb=1.0, demand_obs=np.array([3.0, 2.0, 1.0]), demand_growth=g)
        serve_local(b, 0, 2, 0.5)
        serve_local(b, 1, 2, 0.5)
        b.advance(3)
        assert b.state.order[0].tolist() == order, g


def test_the_observed_demand_is_provincial_times_mean_own_demand() -> None:
    over = {"traction.priority_feedback": 0.5, "traction.demand_heterogeneity": 0.5}
    a = constants(over)
    assert a["prio_fb"] == 0.5
    assert np.allclose(a["demand_obs"], a["priority"] * a["het"].mean(axis=0))
    a = constants({"traction.demand_growth": 2.0})
    assert a["demand_growth"] == 2.0 and a["prio_fb"] == 0.0


def _series(over: dict, rule: str, seed: int) -> np.ndarray:
    e = Engine(sim.load_scenario(TEACHING, over), rule, seed).run()
    return e.batch.series.values[e.index]


@pytest.mark.parametrize("seed", [1, 2])
def test_feedback_changes_nothing_when_the_plan_already_follows_demand(seed: int) -> None:
    """With demand_orientation 1 the plan is the demand order; without heterogeneity or
    growth observed demand is that order too, so full feedback reproduces the run exactly."""
    base = {"traction.demand_orientation": 1.0}
    off = _series(base, "contractor", seed)
    on = _series({**base, "traction.priority_feedback": 1.0}, "contractor", seed)
    assert np.array_equal(off, on, equal_nan=True)


def test_feedback_reorders_a_random_plan_into_demand_order() -> None:
    """demand_orientation 0 (a random plan): with full feedback the modules are built in
    demand order (service index = demand rank)."""
    over = {"traction.demand_orientation": 0.0, "traction.priority_feedback": 1.0}
    e = Engine(sim.load_scenario(TEACHING, over), "contractor", 3).run()
    st, b = e.batch.state, e.index
    k = int(e.batch.consts.k[b])
    assert st.order[b, :k].tolist() == list(range(k))
    plan = e.batch.consts.modules[b, :k].tolist()
    assert plan != list(range(k))  # the random plan differed


@pytest.mark.parametrize("rule", sim.RULES)
def test_growth_speeds_up_local_adoption(rule: str) -> None:
    """Growth only raises development hazards, so on the same draws the pairs served by
    own development or catalogue find are served no later on average; over 5 seeds the
    mean coverage strictly rises (with g = 2 every step's hazard rises by up to 3x once a
    service is in use, far beyond seed noise of a paired comparison)."""
    if rule == "mixed":
        pytest.skip("national scenarios only")
    gain = []
    for seed in range(5):
        off = _series({}, rule, seed)
        on = _series({"traction.demand_growth": 2.0}, rule, seed)
        gain.append(on[0].mean() - off[0].mean())  # coverage_mean
    assert np.mean(gain) > 0
