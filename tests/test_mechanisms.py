"""Each mechanism alone, on a tiny hand-made run, against hand-computed expectations.

The run (``tests/conftest.py``: ``tiny_batch``) has three governments on a path 0 - 1 - 2
and two services, every rate off and every clock at infinity unless a test sets them, so a
test switches on exactly the mechanism it examines and knows what must happen.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.core.arrays import C_COVERAGE, C_LOST, C_OUTAGE, CATALOGUE, CONTRACTOR, OWN, PEER
from sim.core.coupling import couple
from sim.core.mechanisms.ledger import register, serve
from sim.core.mechanisms.province import recognise
from sim.core.outcomes import gini_rows
from sim.core.record import gini_of_counts

from .conftest import tiny_batch


def reg(batch, services, quality, origin=0, t=0, developed=True) -> np.ndarray:
    m = len(services)
    ids = np.zeros(m, np.int64)
    register(
        batch.state,
        0,
        np.array(services, np.int64),
        np.array(quality, float),
        np.full(m, origin, np.int64),
        m,
        t,
        developed,
        ids,
    )
    return ids


def serve_local(batch, i: int, k: int, quality: float, t: int = 0) -> int:
    sol = int(reg(batch, [k], [quality], origin=i, t=t)[0])
    serve(batch.consts, batch.state, 0, i, k, OWN, sol, 1.0, t)
    return sol


# ---- the ledger ---------------------------------------------------------------------------
def test_register_counts_duplicates_per_service_group() -> None:
    b = tiny_batch()
    st = b.state
    ids = reg(b, [0, 0, 1], [0.3, 0.6, 0.2], t=4)
    assert ids.tolist() == [0, 1, 2]
    # two developments of service 0 with no solution before: one duplicate; service 1 none
    assert st.developments[0] == 3 and st.duplicates[0] == 1
    assert st.first_sol_step[0].tolist() == [4, 4] and st.first_dev_step[0].tolist() == [4, 4]
    assert st.best_sol[0].tolist() == [1, 2]  # the better of the two for service 0
    reg(b, [0], [0.6], t=5)  # equal quality: the earlier solution stays the best
    assert st.best_sol[0, 0] == 1 and st.duplicates[0] == 2
    reg(b, [1], [0.9], t=6, developed=False)  # an import: neither a development nor a dup
    assert st.developments[0] == 4 and st.duplicates[0] == 2
    assert st.best_sol[0, 1] == 4 and st.first_dev_step[0, 1] == 4


def test_serve_updates_neighbour_counts_and_groups() -> None:
    b = tiny_batch()
    st = b.state
    serve_local(b, 1, 0, 0.5)
    # the middle of the path: both ends now have one locally served neighbour for service 0
    assert st.counts[0, :, 0].tolist() == [1, 0, 1]
    assert st.local_count[0].tolist() == [1, 0] and st.local_best[0, 0] == 0.5
    assert st.by_source[0, OWN] == 1 and st.reuses[0] == 0
    module = int(reg(b, [1], [0.75], origin=-1)[0])
    serve(b.consts, st, 0, 0, 1, CONTRACTOR, module, 0.9, 1)
    # a module's first deployment is its first use, not a reuse (issue 12); it does not
    # count as a local neighbour
    assert st.counts[0, :, 1].tolist() == [0, 0, 0]
    assert st.pairs[0].tolist() == [1, 1] and st.reuses[0] == 0
    w = 1.0 / 6
    assert st.wquality[0, 1] == pytest.approx(w * 0.75 * 0.9)
    serve(b.consts, st, 0, 2, 1, CONTRACTOR, module, 0.9, 1)  # its second use: a reuse
    assert st.reuses[0] == 1 and st.sol_users[0, module] == 2


# ---- the province -------------------------------------------------------------------------
def test_recognition_comes_lag_steps_after_the_first_solution() -> None:
    b = tiny_batch(lag_steps=2, has_province=True)
    reg(b, [0], [0.5], t=3)  # first solution of service 0 in step 3
    recognise(b.consts, b.state, 0, 5)
    assert not b.state.recognised[0, 0]
    recognise(b.consts, b.state, 0, 6)  # s + lag + 1 = 6
    assert b.state.recognised[0].tolist() == [True, False] and b.state.n_recognised[0] == 1


# ---- local diffusion ----------------------------------------------------------------------
def test_a_pair_fires_when_its_cumulative_hazard_passes_its_clock() -> None:
    clock = np.full((3, 2), np.inf)
    clock[0] = [0.9, 0.9]
    b = tiny_batch(
        dev_dt=np.array([0.5, 0.0, 0.0]),
        priority=np.array([1.0, 2.0]),
        clock=clock,
        quality_sd=0.1,
        quality_z=np.ones((3, 2)),
    )
    b.advance(1)  # service 1: 0.5 x 2 = 1.0 > 0.9 fires; service 0: 0.5 < 0.9 waits
    assert b.state.source[0, 0].tolist() == [0, OWN]
    b.advance(1)  # service 0: 1.0 > 0.9
    st = b.state
    assert st.source[0, 0].tolist() == [OWN, OWN] and st.step[0, 0].tolist() == [2, 1]
    assert st.quality[0, 0].tolist() == pytest.approx([0.6, 0.6])  # 0.5 + 0.1 x 1
    assert st.developments[0] == 2 and st.cost[0] == pytest.approx(2.0)


def test_peer_reuse_copies_the_best_neighbour() -> None:
    clock = np.full((3, 2), np.inf)
    clock[1, 0] = 0.1
    b = tiny_batch(peer_dt=np.array([0.0, 1.0, 0.0]), clock=clock)
    serve_local(b, 0, 0, 0.4)
    best = serve_local(b, 2, 0, 0.7)
    b.advance(1)
    st = b.state
    assert st.source[0, 1, 0] == PEER and st.sol[0, 1, 0] == best
    assert st.fit[0, 1, 0] == pytest.approx(0.8) and st.reuses[0] == 1
    assert st.cost[0] == pytest.approx(0.25)


@pytest.mark.parametrize(("clock", "channel"), [(0.3, OWN), (1.0, PEER)])
def test_the_channel_is_picked_in_proportion_to_the_rates(clock: float, channel: int) -> None:
    """Development and peer rates of 1 each (h = 2): given an event, the channel is
    development when v = (1 - e^-E) / (1 - e^-2) * 2 < 1, i.e. when E < 0.566."""
    clocks = np.full((3, 2), np.inf)
    clocks[1, 0] = clock
    b = tiny_batch(dev_dt=np.array([0.0, 1.0, 0.0]), peer_dt=np.ones(3), clock=clocks)
    serve_local(b, 0, 0, 0.4)
    b.advance(1)
    assert b.state.source[0, 1, 0] == channel
    v = (1 - math.exp(-clock)) / (1 - math.exp(-2.0)) * 2
    assert (v < 1) == (channel == OWN)


@pytest.mark.parametrize(("u", "source"), [(0.5, CATALOGUE), (0.7, OWN)])
def test_a_would_be_developer_finds_the_catalogue_entry(u: float, source: int) -> None:
    clocks = np.full((3, 2), np.inf)
    clocks[2, 0] = 0.1
    b = tiny_batch(dev_dt=np.ones(3), clock=clocks, visibility=0.6, find_u=np.full((3, 2), u))
    existing = serve_local(b, 0, 0, 0.4)
    b.advance(1)
    st = b.state
    assert st.source[0, 2, 0] == source
    if source == CATALOGUE:
        assert st.sol[0, 2, 0] == existing and st.duplicates[0] == 0
    else:  # found nothing: a duplicate development
        assert st.duplicates[0] == 1


def test_promotion_serves_recognised_services_from_the_catalogue() -> None:
    clocks = np.full((3, 2), np.inf)
    clocks[1, 1] = 0.1
    b = tiny_batch(promo_dt=np.ones(3), clock=clocks, has_province=True, lag_steps=0)
    best = serve_local(b, 0, 1, 0.8)
    b.advance(1)  # recognised in step 1 (first solution in step 0), promoted the same step
    st = b.state
    assert st.recognised[0, 1]
    assert st.source[0, 1, 1] == CATALOGUE and st.sol[0, 1, 1] == best


# ---- the contractor -----------------------------------------------------------------------
def test_contractor_builds_in_priority_order_and_deploys_in_rollout_order() -> None:
    b = tiny_batch(
        has_contractor=True,
        modules=np.array([1, 0]),
        ready_step=np.array([1, 3]),
        rollout=np.array([2, 0, 1]),
        rate=1.5,
        platform_cost=10.0,
    )
    serve_local(b, 0, 1, 0.5)  # already served: the rollout passes it over
    cost0 = b.state.cost[0]
    src = b.state.source
    b.advance(1)  # module for service 1 ready; 1 deployment (carry 0.5): government 2
    assert src[0, :, 1].tolist() == [OWN, 0, CONTRACTOR]
    b.advance(1)  # 2 deployments: government 1, then nothing else is ready (one idles)
    assert src[0, :, 1].tolist() == [OWN, CONTRACTOR, CONTRACTOR]
    assert src[0, :, 0].tolist() == [0, 0, 0]
    b.advance(2)  # service 0 ready in step 3: 1 deployment, then 2 in step 4
    assert src[0, :, 0].tolist() == [CONTRACTOR] * 3
    assert b.state.step[0, :, 0].tolist() == [4, 4, 3]
    assert b.state.cost[0] - cost0 == pytest.approx(10.0 + 2 * 2.0 + 5 * 0.5)
    assert b.state.developments[0] == 1 + 2 and b.state.duplicates[0] == 1  # service 1 dup


def test_an_outage_darkens_contractor_pairs_and_pauses_deployment() -> None:
    u = np.ones(11)
    u[2] = 0.1  # below p_fail: an outage starts in step 2
    b = tiny_batch(
        has_contractor=True,
        ready_step=np.array([1, 1]),
        rate=1.0,
        p_fail=0.5,
        outage_steps=2,
        outage_u=u,
    )
    b.advance(5)
    v = b.series.values[0]
    assert v[C_OUTAGE, :6].tolist() == [0, 0, 1, 1, 0, 0]
    assert v[C_LOST, :6].tolist() == [0, 0, 1, 1, 0, 0]  # the one pair deployed in step 1
    assert v[C_COVERAGE, :6] * 6 == pytest.approx([0, 1, 0, 0, 2, 3])  # paused, then on
    assert b.state.outages[0] == 1 and b.state.lost_pair_steps[0] == 2


def test_hybrid_contractor_adopts_the_recognised_solution() -> None:
    b = tiny_batch(
        has_contractor=True,
        adopt=True,
        has_province=True,
        lag_steps=0,
        rate=1.0,
        build_rate=1.0,
    )
    local = serve_local(b, 2, 1, 0.65)
    b.advance(1)  # recognised in step 1, queued to be ready at 0 + 1/build_rate = step 1
    st = b.state
    assert st.built[0] == 1 and st.module_sol[0, 1] == local
    assert st.source[0, 0, 1] == CONTRACTOR and st.sol[0, 0, 1] == local
    assert st.quality[0, 0, 1] == pytest.approx(0.65) and st.fit[0, 0, 1] == pytest.approx(0.9)
    assert st.developments[0] == 1  # standardising is not a development


# ---- the recorder and the coupling -------------------------------------------------------
def test_gini_of_counts_matches_the_mean_absolute_difference() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        x = rng.integers(0, 6, size=7)
        pairs = np.abs(x[:, None] - x[None, :]).sum()
        expected = pairs / (2 * len(x) ** 2 * x.mean()) if x.sum() else 0.0
        hist = np.zeros(7, np.int64)
        assert gini_of_counts(x, len(x), 5, hist) == pytest.approx(expected)
        assert gini_rows(x[None, :], 5)[0] == pytest.approx(expected)


def test_coupling_gives_each_province_the_others_share_and_best() -> None:
    one = tiny_batch()
    two = tiny_batch()
    # stack the two runs into one batch of two provinces (a country)
    from sim.core.batch import Batch

    batch = Batch(one.runs + two.runs, groups=np.array([[0, 2]]), share_lag=np.array([50]))
    for p, (i, q) in enumerate([(0, 0.4), (1, 0.9)]):
        sol_ids = np.zeros(1, np.int64)
        register(batch.state, p, np.array([0]), np.array([q]), np.array([i]), 1, 0, True, sol_ids)
        serve(batch.consts, batch.state, p, i, 0, OWN, int(sol_ids[0]), 1.0, 0)
    serve(batch.consts, batch.state, 1, 2, 0, OWN, 0, 1.0, 0)
    from sim.core.step import scratch

    couple(batch.consts, batch.state, batch.groups, batch.share_lag, 1, scratch(3, 2))
    st = batch.state
    assert st.foreign_share[:, 0].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert st.foreign_quality[:, 0].tolist() == pytest.approx([0.9, 0.4])
    assert st.foreign_share[:, 1].tolist() == [0.0, 0.0]
