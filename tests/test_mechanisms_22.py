"""The mechanisms of issue 22 (diffusion, demand heterogeneity, reinvention), each on a tiny
hand-made run (``tests/conftest.py``) against hand-computed expectations. Their neutral
defaults are checked with issue 19's in ``tests/test_mechanisms_19.py``."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from sim.core.arrays import NONE, OWN, PEER
from sim.core.mechanisms.diffusion import rank

from .conftest import tiny_batch
from .test_mechanisms import serve_local
from .test_mechanisms_19 import TEACHING, constants


def clocks(*pairs: tuple[int, int, float], n: int = 3, k: int = 2) -> np.ndarray:
    out = np.full((n, k), np.inf)
    for i, k_, v in pairs:
        out[i, k_] = v
    return out


def test_published_ranking_pushes_the_laggards() -> None:
    """Served pairs 2, 1, 0: governments ahead 0, 1, 2; pressure 1 over N - 1 = 2."""
    b = tiny_batch(rank_every=2, ranking_pressure=1.0, dev_dt=np.array([0.0, 0.0, 0.5]))
    serve_local(b, 0, 0, 0.5)
    serve_local(b, 0, 1, 0.5)
    serve_local(b, 1, 0, 0.5)
    b.advance(1)  # published at the start of step 1
    assert b.state.rank_mult[0].tolist() == [1.0, 1.5, 2.0]
    assert b.state.hazard[0, 2].tolist() == [1.0, 1.0]  # 0.5 x 2
    serve_local(b, 2, 0, 0.5)
    serve_local(b, 2, 1, 0.5)
    gov = np.zeros(sum(b.state.source.shape[1:]) + 1, np.int64)  # the recorder's scratch
    rank(b.consts, b.state, 0, 2, gov)  # not a publication step (every 2: steps 1, 3, ...)
    assert b.state.rank_mult[0].tolist() == [1.0, 1.5, 2.0]
    rank(b.consts, b.state, 0, 3, gov)  # 2, 1, 2 served: ahead 0, 2, 0
    assert b.state.rank_mult[0].tolist() == [1.0, 2.0, 1.0]


def test_a_mandate_ramps_up_to_its_deadline_on_mandated_services() -> None:
    """Issued at step 3, deadline 2 steps later: w = 1/2, 1, 1 -> H = 0.2, 0.6, 1.0; the
    second service is not mandated."""
    b = tiny_batch(
        mandate_dt=np.array([0.4, 0.0, 0.0]), mandate_k=1, mandate_from=3, mandate_ramp=2
    )
    b.advance(2)
    assert b.state.hazard[0, 0].tolist() == [0.0, 0.0]
    b.advance(1)
    assert b.state.hazard[0, 0, 0] == pytest.approx(0.2)
    b.advance(2)
    assert b.state.hazard[0, 0].tolist() == pytest.approx([1.0, 0.0])


def test_a_mandate_fires_through_the_development_channel() -> None:
    b = tiny_batch(
        mandate_dt=np.array([0.4, 0.0, 0.0]),
        mandate_k=2,
        mandate_from=1,
        mandate_ramp=1,
        clock=clocks((0, 1, 0.7)),
    )
    b.advance(2)  # 0.4, 0.8 > 0.7
    assert b.state.source[0, 0, 1] == OWN and b.state.step[0, 0, 1] == 2


def test_a_mandate_is_crowded_out_like_development() -> None:
    """Planned crowding (x 0.5 from step 1) acts on the mandate's hazard: 0.4 -> 0.2."""
    b = tiny_batch(
        mandate_dt=np.array([0.4, 0.0, 0.0]),
        mandate_k=1,
        mandate_from=1,
        mandate_ramp=1,
        crowd_from=np.array([1, 1]),
        crowd_scale=0.5,
    )
    b.advance(1)
    assert b.state.hazard[0, 0, 0] == pytest.approx(0.2)
    over = {"diffusion.mandate_rate": 1.0}  # crowding from year 0: folded into the rate
    contractor, grassroots = constants(over), constants(over, rule="grassroots")
    s = sim.load_scenario(TEACHING)
    scale = 1 - s.drive.crowding_out
    assert np.allclose(contractor["mandate_dt"], grassroots["mandate_dt"] * scale)


@pytest.mark.parametrize(("pilot", "recognised_at"), [(1, 3), (0, 7)])
def test_a_pilots_solution_is_scaled_up_after_the_pilot_lag(pilot: int, recognised_at: int):
    """A development in step 1; the usual lag is 5 steps (recognised in step 7), a pilot's 1
    (step 3)."""
    b = tiny_batch(
        has_province=True,
        lag_steps=5,
        pilot=np.array([pilot, 0, 0]),
        pilot_lag_steps=1,
        dev_dt=np.array([1.0, 0.0, 0.0]),
        clock=clocks((0, 0, 0.5)),
    )
    b.advance(1)
    assert b.state.first_pilot_step[0, 0] == (1 if pilot else -1)
    b.advance(recognised_at - 2)
    assert not b.state.recognised[0, 0]
    b.advance(1)
    assert b.state.recognised[0, 0]


def test_pilots_are_the_most_capable_and_develop_faster() -> None:
    over = {"diffusion.pilot_count": 3, "diffusion.pilot_boost": 2.0}
    a, base = constants(over, rule="grassroots"), constants(rule="grassroots")
    top3 = np.argsort(-base["dev_dt"], kind="stable")[:3]  # dev_dt is proportional to c_eff
    assert sorted(np.flatnonzero(a["pilot"])) == sorted(top3)
    assert np.allclose(a["dev_dt"], base["dev_dt"] * np.where(a["pilot"] == 1, 3.0, 1.0))


def test_learning_from_outcomes_weights_the_peer_hazard_by_quality() -> None:
    """Weight 0.5, reference 0.5, neighbour quality 0.9: x (0.5 + 0.5 x 0.9 / 0.5) = 1.4."""
    b = tiny_batch(peer_dt=np.array([0.0, 1.0, 0.0]), learn_w=0.5, learn_ref=0.5)
    serve_local(b, 0, 0, 0.9)
    b.advance(1)
    assert b.state.hazard[0, 1, 0] == pytest.approx(1.4)


def test_a_poor_local_solution_is_abandoned_once_and_the_pair_can_adopt_anew() -> None:
    b = tiny_batch(
        dead_dt=0.5,
        dead_q=0.6,
        dead_clock=np.full((3, 2), 0.8),
        readopt_clock=np.full((3, 2), 0.3),
        clock=clocks((1, 0, 2.0)),
    )
    serve_local(b, 1, 0, 0.5)  # 0.5 x fit 1 < 0.6: at risk
    serve_local(b, 2, 1, 0.7)  # above the threshold: kept
    b.advance(1)
    assert b.state.source[0, 1, 0] == OWN and b.state.dead_h[0, 1, 0] == 0.5
    b.advance(1)  # 1.0 > 0.8: abandoned
    st = b.state
    assert st.source[0, 1, 0] == NONE and st.deadoptions[0] == 1
    assert st.counts[0, :, 0].tolist() == [0, 0, 0] and st.local_count[0, 0] == 0
    assert st.pairs[0].tolist() == [1, 0] and st.local_best[0, 0] == -np.inf
    assert st.hazard[0, 1, 0] == pytest.approx(1.7)  # fires once 0.3 more hazard accrues
    assert st.dead_h[0, 1, 0] == np.inf and st.source[0, 2, 1] == OWN
    assert st.wquality[0, 0] == pytest.approx(0.7 / 6)


def test_a_ministrys_vertical_system_is_a_duplicate_development() -> None:
    b = tiny_batch(ministry_step=np.array([2, 3]), ministry_on=True, ministry_cost=2.0)
    serve_local(b, 0, 0, 0.5)
    cost = b.state.cost[0]
    b.advance(1)
    st = b.state
    assert st.developments[0] == 1 and st.duplicates[0] == 0
    b.advance(1)
    assert st.developments[0] == 2 and st.duplicates[0] == 1 and st.cost[0] == cost + 2.0
    b.advance(1)  # service 1 has no county system yet: still a duplicate (of those to come)
    assert st.developments[0] == 3 and st.duplicates[0] == 2 and st.ministry_systems[0] == 2
    assert st.n_solutions[0] == 1  # not in the catalogue


def test_a_governments_own_demand_scales_its_development_hazard() -> None:
    het = np.ones((3, 2))
    het[0, 1] = 2.0
    b = tiny_batch(dev_dt=np.array([0.25, 0.0, 0.0]), het_on=True, het=het)
    b.advance(1)
    assert b.state.hazard[0, 0].tolist() == [0.25, 0.5]


def test_demand_heterogeneity_reweights_pairs() -> None:
    a = constants({"traction.demand_heterogeneity": 0.5})
    base = constants()
    ratio = a["pair_weight"] / base["pair_weight"]
    assert np.allclose(ratio / ratio.mean(), a["het"] / a["het"].mean())
    assert a["pair_weight"].sum() == pytest.approx(1.0)


def test_a_reinvented_copy_is_a_new_variant_in_the_catalogue() -> None:
    z = np.zeros((3, 2))
    z[1, 0] = 1.0
    b = tiny_batch(peer_dt=np.ones(3), clock=clocks((1, 0, 0.1)), reinvent_sd=0.1, reinvent_z=z)
    original = serve_local(b, 0, 0, 0.7)
    b.advance(1)
    st = b.state
    variant = st.sol[0, 1, 0]
    assert st.source[0, 1, 0] == PEER and variant != original
    assert st.sol_quality[0, variant] == pytest.approx(0.8)
    assert st.best_sol[0, 0] == variant  # the improvement flows back through the catalogue
    assert st.reuses[0] == 1 and st.developments[0] == 1 and st.duplicates[0] == 0
    assert st.sol_users[0, original] == 2 and st.sol_users[0, variant] == 1  # its lineage


ALL_ON = {
    "drive.crowding_timing": "plan",
    "drive.module_quality_sd": 0.2,
    "drive.upgrade_rate": 0.5,
    "drive.absorption": 0.4,
    "drive.absorption_scope": "all",
    "traction.feedback_rate": 0.5,
    "traction.demand_heterogeneity": 0.5,
    "collaboration.hazard_elasticity": 0.5,
    "collaboration.reinvention_sd": 0.2,
    "diffusion.ranking_pressure": 1.0,
    "diffusion.mandate_rate": 1.0,
    "diffusion.mandate_year": 1.0,
    "diffusion.mandate_deadline": 1.0,
    "diffusion.pilot_count": 3,
    "diffusion.learning_weight": 0.5,
    "drive.contract_period": 1.0,
    "drive.bidders": 3,
    "traction.demand_growth": 1.0,
    "traction.priority_feedback": 0.5,
    "support.data_resources": 3,
    "support.legacy_share": 0.2,
    "drive.operator_share": 0.5,
    "costs.outage": 1.0,
}
"""Every mechanism but de-adoption (which un-serves pairs, so served counts may fall) and
the ministries (developments that serve no pair, which the invariants' identity
developments = own pairs + module builds does not know; tested alone above)."""


@pytest.mark.parametrize("rule", ["grassroots", "contractor", "hybrid"])
def test_the_runs_invariants_hold_with_every_mechanism_on(rule: str) -> None:
    import sim

    from .test_invariants import check_run

    s = sim.load_scenario(TEACHING, ALL_ON)
    for seed in (1, 2):
        check_run(s, rule, seed)


@pytest.mark.parametrize("rule", ["grassroots", "contractor", "hybrid"])
def test_de_adoption_keeps_the_ledger_consistent(rule: str) -> None:
    """With de-adoption (and the rest) on: the running sums equal a recount of the pairs."""
    import sim
    from sim.core.engine import Engine

    s = sim.load_scenario(
        TEACHING,
        {**ALL_ON, "diffusion.deadoption_rate": 2.0, "diffusion.deadoption_threshold": 0.6},
    )
    e = Engine(s, rule, 4).run()
    st, b = e.batch.state, e.index
    src = st.source[b]
    served = src != NONE
    assert int(st.pairs[b].sum()) == int(served.sum())
    assert np.array_equal(st.per_gov[b].sum(axis=0)[: e.state.n], served.sum(axis=1))
    w = e.batch.consts.pair_weight[b]
    wq = (w * st.quality[b] * st.fit[b])[served].sum()
    assert st.wquality[b].sum() == pytest.approx(wq)
    assert st.deadoptions[b] > 0


@pytest.mark.parametrize(("switch_cost", "switched"), [(0.1, True), (10.0, False)])
def test_a_tender_moves_the_contract_unless_switching_costs_lock_it_in(
    switch_cost: float, switched: bool
) -> None:
    """Deployments in steps 1, 2 (2 contractor pairs), tender at step 3 on 4 pairs left at
    0.5 each: incumbent 1 x 2 = 2; challenger e^-1 x 2 + switch_cost x 2 (0.94, or 20.7)."""
    bid_z = np.array([[0.0, -1.0], [0.0, 0.0], [0.0, 0.0]])
    b = tiny_batch(
        has_contractor=True,
        ready_step=np.array([1, 1]),
        rate=1.0,
        price=0.5,
        renew_every=2,
        bidders=2,
        bid_sd=1.0,
        switch_cost=switch_cost,
        bid_z=bid_z,
    )
    b.advance(2)
    cost = b.state.cost[0]
    b.advance(1)
    st = b.state
    factor = math.exp(-1.0) if switched else 1.0
    assert st.tenders[0] == 1 and st.switches[0] == int(switched)
    assert st.price_factor[0] == pytest.approx(factor)
    extra = switch_cost * 2 if switched else 0.0
    assert st.cost[0] - cost == pytest.approx(extra + 0.5 * factor)
