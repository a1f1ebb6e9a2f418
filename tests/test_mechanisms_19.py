"""The mechanisms of issue 19, item 1, each on a tiny hand-made run (``tests/conftest.py``)
against hand-computed expectations, and each neutral at its default."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from sim.core.arrays import CONTRACTOR, PEER
from sim.core.batch import run_constants
from sim.core.mechanism_setup import neutral
from sim.core.mechanisms.feedback import improve
from sim.core.mechanisms.ledger import serve
from sim.core.mechanisms.province import recognise
from sim.world.build import build_world, spawn_streams

from .conftest import SCENARIOS, tiny_batch
from .test_mechanisms import reg, serve_local

TEACHING = SCENARIOS / "teaching.toml"


def constants(overrides: dict | None = None, rule: str = "contractor", seed: int = 3) -> dict:
    s = sim.load_scenario(TEACHING, overrides or {})
    streams = spawn_streams(seed)
    world = build_world(s, streams)
    return run_constants(s, rule, seed, world, streams).arrays


# ---- neutral defaults ---------------------------------------------------------------------
@pytest.mark.parametrize("rule", sim.RULES)
def test_defaults_are_the_neutral_constants(rule: str) -> None:
    """At the defaults every new constant has its neutral value (so the kernels do what
    they did before; the frozen baseline checks the distributions), and the hazards are
    linear in capacity."""
    a = constants(rule=rule)
    s = sim.load_scenario(TEACHING)
    off = neutral(int(a["n"]), int(a["k"]), int(a["n_steps"]))
    off["module_quality"] = np.full(int(a["k"]), s.drive.contractor_quality)
    for name, value in off.items():
        assert np.array_equal(a[name], value), name
    streams = spawn_streams(3)
    c = build_world(s, streams).population.capacity
    c_eff = c + s.collaboration.balancing * (1 - c)
    scale = 1 - s.drive.crowding_out if rule == "contractor" else 1.0
    assert np.array_equal(a["dev_dt"], scale * s.collaboration.innovation_rate * s.dt * c_eff)


# ---- (a) crowding-out that follows the contractor's plan -----------------------------------
def test_planned_crowding_acts_from_the_announcement_only() -> None:
    """dev 1 per step, clock 2.5. Crowded (x 0.5) from step 3 on: H = 1, 2, 2.5, 3 -> fires in
    step 4 (from year 0 it would take H = 0.5 ... 3.0: step 6; never crowded: step 3)."""
    clock = np.full((3, 2), np.inf)
    clock[0] = [2.5, 2.5]
    b = tiny_batch(
        dev_dt=np.array([1.0, 0.0, 0.0]),
        clock=clock,
        crowd_from=np.array([3, 99]),
        crowd_scale=0.5,
    )
    b.advance(2)
    assert b.state.hazard[0, 0].tolist() == [2.0, 2.0]
    b.advance(1)  # step 3: service 0 crowded (2.5, not past the clock), service 1 fires
    assert b.state.hazard[0, 0, 0] == 2.5 and b.state.step[0, 0].tolist() == [-1, 3]
    b.advance(1)
    assert b.state.step[0, 0, 0] == 4


def test_the_announcement_is_anticipation_before_the_module_is_ready() -> None:
    over = {"drive.crowding_timing": "plan", "drive.crowding_anticipation": 0.5}
    a = constants(over)
    ahead = round(0.5 / float(a["dt"]))
    expected = np.empty_like(a["ready_step"])
    expected[a["modules"]] = np.maximum(1, a["ready_step"] - ahead)
    assert np.array_equal(a["crowd_from"], expected)
    s = sim.load_scenario(TEACHING)
    assert a["crowd_scale"] == pytest.approx(1 - s.drive.crowding_out)
    base = constants()  # the hazards are no longer scaled from year 0
    assert np.allclose(a["dev_dt"] * (1 - s.drive.crowding_out), base["dev_dt"])
    # grassroots is never crowded out
    assert np.all(constants(over, rule="grassroots")["crowd_from"] > a["n_steps"])


# ---- (b) module quality per module, upgrades in use ----------------------------------------
def test_each_module_gets_its_own_quality() -> None:
    b = tiny_batch(
        has_contractor=True,
        modules=np.array([1, 0]),
        ready_step=np.array([1, 1]),
        module_quality=np.array([0.9, 0.3]),  # in build order: service 1, then 0
    )
    b.advance(1)
    st = b.state
    assert st.sol_quality[0, st.module_sol[0, 1]] == pytest.approx(0.9)
    assert st.sol_quality[0, st.module_sol[0, 0]] == pytest.approx(0.3)


def test_module_quality_draws() -> None:
    a = constants({"drive.module_quality_sd": 0.1, "services.count": 200})
    q = a["module_quality"]
    assert q.std() == pytest.approx(0.1, abs=0.02)  # 200 draws: s.e. of the s.d. ~ 0.005
    assert q.mean() == pytest.approx(0.75, abs=0.03)  # s.e. 0.007
    # its own child stream: no other draw moves
    drawn, base = constants({"drive.module_quality_sd": 0.1}), constants()
    for name in ("clock", "find_u", "quality_z", "outage_u", "rollout", "modules"):
        assert np.array_equal(drawn[name], base[name]), name


def test_solutions_improve_with_their_share_of_users() -> None:
    """A module serving 2 of 3 governments: q = 0.5 + 0.5 (1 - e^(-0.3 x 2/3)); a local
    solution serving one: its own rate (feedback, 0.6 x 1/3); the module ignores feedback."""
    b = tiny_batch(upgrade_dt=0.3, feedback_dt=0.6)
    st, c = b.state, b.consts
    module = int(reg(b, [0], [0.5], origin=-1)[0])
    serve(c, st, 0, 0, 0, CONTRACTOR, module, 0.9, 0)
    serve(c, st, 0, 1, 0, CONTRACTOR, module, 0.9, 0)
    local = serve_local(b, 2, 1, 0.4)
    improve(c, st, 0, np.zeros(st.sol_service.shape[1], np.int64))
    q_mod = 0.5 + 0.5 * (1 - math.exp(-0.3 * 2 / 3))
    q_loc = 0.4 + 0.6 * (1 - math.exp(-0.6 / 3))
    assert st.sol_quality[0, module] == pytest.approx(q_mod)
    assert st.sol_quality[0, local] == pytest.approx(q_loc)
    assert st.quality[0, :2, 0].tolist() == pytest.approx([q_mod, q_mod])
    assert st.local_quality[0, 2, 1] == pytest.approx(q_loc)
    assert st.local_best[0, 1] == pytest.approx(q_loc)
    w = 1 / 6
    assert st.wquality[0, 1] == pytest.approx(2 * w * q_mod * 0.9)
    assert st.wquality[0, 0] == pytest.approx(w * q_loc)
    assert st.best_quality[0].tolist() == pytest.approx([q_mod, q_loc])


def test_unused_solutions_do_not_improve_and_runs_do_not_settle() -> None:
    b = tiny_batch(feedback_dt=1.0, can_settle=True)
    s = int(reg(b, [0], [0.5])[0])
    b.advance(3)
    assert b.state.sol_quality[0, s] == 0.5 and not b.state.settled[0]


# ---- (c) absorption of every solution taken from outside ------------------------------------
def test_absorption_scales_the_fit_of_a_peer_reuse() -> None:
    clock = np.full((3, 2), np.inf)
    clock[1, 0] = 0.1
    b = tiny_batch(peer_dt=np.ones(3), clock=clock, reuse_absorb=np.array([1.0, 0.5, 1.0]))
    serve_local(b, 0, 0, 0.7)
    b.advance(1)
    assert b.state.source[0, 1, 0] == PEER
    assert b.state.fit[0, 1, 0] == pytest.approx(0.8 * 0.5)


def test_absorption_scope_all_uses_the_contractors_factor() -> None:
    over = {"drive.absorption": 0.4, "drive.absorption_scope": "all"}
    a = constants(over, rule="grassroots")
    s = sim.load_scenario(TEACHING)
    c = build_world(s, spawn_streams(3)).population.capacity
    c_eff = c + s.collaboration.balancing * (1 - c)
    assert np.allclose(a["reuse_absorb"], 1 - 0.4 * (1 - c_eff))
    assert np.all(constants({"drive.absorption": 0.4})["reuse_absorb"] == 1.0)


# ---- (d) capacity in the hazards with an elasticity ----------------------------------------
def test_hazards_scale_with_capacity_to_the_elasticity() -> None:
    a = constants({"collaboration.hazard_elasticity": 0.5}, rule="grassroots")
    base = constants(rule="grassroots")
    # base dev_dt = r c_eff, new = r c_eff^0.5: new^2 / base = r
    for name in ("dev_dt", "promo_dt"):
        ratio = a[name] ** 2 / base[name]
        assert np.allclose(ratio, ratio[0]), name
    assert not np.allclose(a["dev_dt"], base["dev_dt"])


# ---- the province re-judges every step (bug fix) ------------------------------------------
def test_the_province_re_judges_after_every_service_is_recognised() -> None:
    b = tiny_batch(n=3, k=1, has_province=True, judge=True, judge_z=np.zeros(8), lag_steps=0)
    first = serve_local(b, 0, 0, 0.5)
    recognise(b.consts, b.state, 0, 1)
    assert b.state.recognised[0, 0] and b.state.pick[0, 0] == first
    better = serve_local(b, 1, 0, 0.8, t=1)  # every service with a solution is recognised
    recognise(b.consts, b.state, 0, 2)
    assert b.state.pick[0, 0] == better  # before the fix: still ``first``
