"""Support (issue 22, item 2; ODD 7.18.17-18): shared data resources that services depend
on, and legacy systems that must migrate at a cost and with a risk. Both set when the run
starts, as the first step each pair may go live (``sim/core/mechanisms/gates.py``); tested
on hand-made draws and runs against hand-computed expectations."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import sim
from sim.core.arrays import CONTRACTOR, NONE, OWN, PEER
from sim.core.engine import Engine
from sim.core.mechanisms.gates import gate_arrays

from .conftest import tiny_batch
from .test_mechanisms import serve_local
from .test_mechanisms_19 import TEACHING, constants


class Draws:
    """A stand-in for a Generator that returns the arrays a test chose."""

    def __init__(self, **arrays: np.ndarray) -> None:
        self.arrays = arrays

    def random(self, shape):
        return self.arrays["random"].reshape(shape)

    def standard_exponential(self, shape):
        return self.arrays["exponential"].reshape(shape)

    def geometric(self, p, shape):
        return self.arrays["geometric"].reshape(shape)


def scenario(**support: float) -> SimpleNamespace:
    sup = {
        "data_resources": 0,
        "data_listing": 1.0,
        "data_rate": 1.0,
        "legacy_share": 0.0,
        "legacy_rate": 1.0,
        "legacy_risk": 0.2,
    } | support
    costs = SimpleNamespace(data_resource=0.5, legacy_migration=0.3)
    return SimpleNamespace(support=SimpleNamespace(**sup), costs=costs, dt=0.5, n_steps=10)


def test_listed_services_share_a_resource_unlisted_ones_need_their_own() -> None:
    """R = 2, listing 0.5: uniforms 0.1, 0.9, 0.2 list services 0 and 2 (resource 0);
    service 1 needs resource 2 + 1 = 3. Government 0 (rate 1) makes resource 0 at 0.3
    years (step 1 at dt 0.5) and resource 3 at 1.2 (step 3); government 1 (rate 0.5) at
    0.2 and 0.8 years (steps 1, 2). Ready from the next step; only resources 0 and 3 are
    made and paid (0.5 each)."""
    e = np.array([[0.3, 9.0, 9.0, 1.2, 9.0], [0.1, 9.0, 9.0, 0.4, 9.0]])
    out = gate_arrays(
        scenario(data_resources=2, data_listing=0.5),
        n=2,
        k=3,
        c_haz=np.array([1.0, 0.5]),
        data_rng=Draws(random=np.array([0.1, 0.9, 0.2]), exponential=e),
        legacy_rng=Draws(),
    )
    assert out["gate_on"]
    assert out["ready_at"].tolist() == [[2, 4, 2], [2, 3, 2]]
    assert out["data_builds"] == 4
    assert out["gate_cost"].tolist() == pytest.approx([0, 1.0, 0.5, 0.5] + [0] * 7)


def test_a_resource_beyond_the_horizon_is_never_made_nor_paid() -> None:
    out = gate_arrays(
        scenario(data_resources=2),
        n=1,
        k=2,
        c_haz=np.array([1.0]),
        # resource 1 at 50 years: step 100 at dt 0.5, beyond the 10 steps
        data_rng=Draws(random=np.array([0.0, 0.0]), exponential=np.array([0.3, 50, 9, 9])),
        legacy_rng=Draws(),
    )
    assert out["ready_at"].tolist() == [[2, 12]]  # never + 1 = 12: blocked for good
    assert out["data_builds"] == 1 and out["gate_cost"].sum() == pytest.approx(0.5)


def test_a_legacy_migration_is_redone_after_a_failure_and_paid_each_time() -> None:
    """Pair (0, 0) has a legacy system and needs 2 attempts (one failure): 0.5 and 0.6
    years, ending in steps 1 and ceil(1.1 / 0.5) = 3: ready from step 4; paid 0.3 in steps
    1 and 3. Pair (0, 1) has none (its draws are ignored)."""
    out = gate_arrays(
        scenario(legacy_share=0.5),
        n=1,
        k=2,
        c_haz=np.array([1.0]),
        data_rng=Draws(),
        legacy_rng=Draws(
            random=np.array([0.2, 0.7]),
            geometric=np.array([2, 3]),
            exponential=np.array([0.5, 0.6, 0.1, 0.1]),
        ),
    )
    assert out["ready_at"].tolist() == [[4, 0]]
    assert out["legacy_attempts"] == 2
    assert out["gate_cost"].tolist() == pytest.approx([0, 0.3, 0, 0.3] + [0] * 7)


def test_a_gated_pair_is_held_until_it_is_ready() -> None:
    """The clock runs while the pair waits (dev 1 a step, clock 0.5, ready from step 3):
    the event is held in steps 1 and 2 and the pair goes live in step 3, as a contractor
    deployment would (both commit early, go live when the data are there)."""
    ready = np.zeros((3, 2), np.int64)
    ready[0, 0] = 3
    clock = np.full((3, 2), np.inf)
    clock[0] = [0.5, 0.5]
    b = tiny_batch(dev_dt=np.array([1.0, 0.0, 0.0]), gate_on=True, ready_at=ready, clock=clock)
    b.advance(2)
    assert b.state.hazard[0, 0].tolist() == [2.0, 1.0]
    assert b.state.step[0, 0].tolist() == [-1, 1]  # service 1 is not gated
    b.advance(1)
    assert b.state.step[0, 0, 0] == 3 and b.state.source[0, 0, 0] == OWN


@pytest.mark.parametrize(("e", "channel"), [(0.5, OWN), (2.0, PEER)])
def test_a_held_event_takes_its_channel_from_the_step_it_goes_live(e: float, channel: int) -> None:
    """Government 0: development 1 and peer 1 (its neighbour 1 serves the service) a step,
    held until step 3, so H0 = 4 then. Given E < H0, u = (1 - e^-E) / (1 - e^-H0) is uniform:
    E = 0.5 gives u = 0.40, v = 0.80 < 1 (development); E = 2 gives u = 0.88, v = 1.76
    (peer)."""
    ready = np.zeros((3, 2), np.int64)
    ready[0, 0] = 3
    clock = np.full((3, 2), np.inf)
    clock[0, 0] = e
    b = tiny_batch(
        dev_dt=np.array([1.0, 0.0, 0.0]),
        peer_dt=np.array([1.0, 0.0, 0.0]),
        gate_on=True,
        ready_at=ready,
        clock=clock,
    )
    serve_local(b, 1, 0, 0.5)
    b.advance(3)
    assert b.state.step[0, 0, 0] == 3 and b.state.source[0, 0, 0] == channel


def test_a_contractor_deployment_waits_for_the_gate() -> None:
    """One deployment a step, module 0 ready at step 1, roll-out 0, 1, 2. Government 0's
    pair is ready from step 3: deployed in step 1, it goes live in step 3; government 1 is
    served in step 2, government 2 in step 3 (paid when deployed)."""
    ready = np.zeros((3, 2), np.int64)
    ready[0, 0] = 3
    b = tiny_batch(
        has_contractor=True,
        ready_step=np.array([1, 99]),
        rate=1.0,
        gate_on=True,
        ready_at=ready,
        gate_cost=np.array([0.0, 0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    )
    b.advance(1)
    st = b.state
    assert st.source[0, 0, 0] == NONE and st.n_pending[0] == 1
    assert st.cost[0] == pytest.approx(2.0 + 0.5 + 0.25)  # module, deployment, the gate
    b.advance(2)
    assert st.step[0, :, 0].tolist() == [3, 2, 3]
    assert (st.source[0, :, 0] == CONTRACTOR).all()


def test_gates_are_built_for_the_model() -> None:
    over = {
        "support.data_resources": 3,
        "support.legacy_share": 0.3,
        "support.legacy_risk": 0.5,
    }
    a = constants(over)
    assert a["gate_on"] and a["ready_at"].shape == (int(a["n"]), int(a["k"]))
    costs = sim.load_scenario(TEACHING, over).costs
    total = a["data_builds"] * costs.data_resource + a["legacy_attempts"] * costs.legacy_migration
    assert a["gate_cost"].sum() == pytest.approx(total)
    # listed: services k and k + 3 share resource k mod 3, so they are ready together
    k = int(a["k"])
    assert np.array_equal(a["ready_at"][:, 0], a["ready_at"][:, 3]) or a["legacy_attempts"]
    a0 = constants({"support.data_resources": 3})
    assert np.array_equal(a0["ready_at"][:, : k - 3], a0["ready_at"][:, 3:])


def test_listing_makes_fewer_resources() -> None:
    n_listed = constants({"support.data_resources": 2})["data_builds"]
    n_own = constants({"support.data_resources": 2, "support.data_listing": 0.0})["data_builds"]
    assert n_listed < n_own


def _coverage_mean(over: dict, rule: str, seed: int) -> float:
    e = Engine(sim.load_scenario(TEACHING, over), rule, seed).run()
    return float(e.batch.series.values[e.index][0].mean())


@pytest.mark.parametrize("rule", sim.RULES)
def test_gates_slow_every_rule_and_the_ledger_holds(rule: str) -> None:
    """Gates only delay pairs; over 4 paired seeds mean coverage falls (with a data rate of
    0.5/year a resource takes two years on average at capacity 1, against a horizon of
    ten: far beyond paired seed noise), and the run's invariants hold."""
    from .test_invariants import check_run

    over = {"support.data_resources": 2, "support.data_rate": 0.5, "support.legacy_share": 0.3}
    loss = [_coverage_mean({}, rule, s) - _coverage_mean(over, rule, s) for s in range(4)]
    assert np.mean(loss) > 0
    check_run(sim.load_scenario(TEACHING, over), rule, 1)
