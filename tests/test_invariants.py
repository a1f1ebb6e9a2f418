"""Invariants of a run that must hold for every parameter draw, rule, network and seed.

Small synthetic provinces keep each draw cheap. Nothing here asserts a hard-coded number:
every check is an accounting identity or a bound that a wrong implementation would break.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
import sim.world.network
from sim.outcomes import COLUMNS, OUTCOMES
from sim.params import MAX_YEARS, Scenario

ROOT = Path(__file__).resolve().parent.parent
EPS = 1e-9
CUMULATIVE = ("developments", "duplicate_developments", "reuses", "cost")
SERVED = ("served_own", "served_peer", "served_catalogue", "served_contractor")

unit = st.floats(0.0, 1.0, allow_nan=False)


def rate(hi: float) -> st.SearchStrategy[float]:
    return st.floats(0.0, hi, allow_nan=False)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A small random synthetic scenario, as nested dicts through model validation."""
    n_agents = draw(st.integers(10, 40))
    network = draw(st.sampled_from(["complete", "hierarchy", "small_world"]))
    capacity_mean = draw(st.floats(0.05, 0.95))
    limit = math.sqrt(capacity_mean * (1 - capacity_mean))
    # Spreads below ~1e-154 are excluded here: see test_tiny_capacity_spread (known bug).
    capacity_spread = draw(st.one_of(st.just(0.0), st.floats(1e-6, 0.95 * limit)))
    data = {
        "seed": draw(st.integers(0, 2**32 - 1)),
        "time": {"years": draw(st.integers(2, 4)), "steps_per_year": draw(st.integers(4, 12))},
        "population": {
            "n_agents": n_agents,
            "n_regions": draw(st.integers(1, min(8, n_agents))),
            "capacity_mean": capacity_mean,
            "capacity_spread": capacity_spread,
            "population_sigma": draw(rate(1.5)),
            "capacity_floor": draw(st.floats(0.01, 1.0)),
            "network": network,
            "mean_degree": draw(st.sampled_from([2, 4, 6, 8])),
            "rewiring": draw(unit),
        },
        "services": {
            "count": draw(st.integers(1, 5)),
            "demand_skew": draw(rate(3.0)),
            "demand_noise": draw(rate(1.0)),
            "quality_mean": draw(unit),
            "quality_sd": draw(unit),
            "quality_capacity_slope": draw(rate(2.0)),
        },
        "support": {
            "catalog_visibility": draw(unit),
            "promotion_rate": draw(rate(3.0)),
            "recognition_lag": draw(rate(2.0)),
            "standardization": draw(unit),
            "recognition_noise": draw(st.one_of(st.just(0.0), unit)),
            "recognition_min_users": draw(st.integers(1, 4)),
            "consolidation_rate": draw(st.one_of(st.just(0.0), rate(2.0))),
        },
        "drive": {
            "build_time": draw(rate(2.0)),
            "build_rate": draw(st.floats(0.5, 50.0)),
            "contractor_capacity": draw(rate(600.0)),
            "rollout_order": draw(st.sampled_from(["population", "capacity", "lagging", "random"])),
            "market_competition": draw(unit),
            "crowding_out": draw(unit),
            "contractor_quality": draw(unit),
            "failure_rate": draw(st.one_of(st.just(0.0), rate(6.0))),
            "absorption": draw(unit),
            "deployment_time": draw(st.one_of(st.just(0.0), rate(1.0))),
            "outage_duration": draw(rate(0.5)),
        },
        "collaboration": {
            "innovation_rate": draw(rate(2.0)),
            "peer_learning": draw(rate(4.0)),
            "balancing": draw(unit),
            "development_time": draw(st.one_of(st.just(0.0), rate(1.0))),
            "local_budget": draw(st.one_of(st.just(0.0), rate(4.0))),
        },
        "risk": {
            "local_failure_rate": draw(st.one_of(st.just(0.0), rate(3.0))),
            "local_outage_duration": draw(rate(0.5)),
            "standard_protection": draw(unit),
        },
        "traction": {
            "demand_orientation": draw(unit),
            "reuse_fit": draw(unit),
            "contractor_fit": draw(unit),
        },
        "costs": {
            "development": draw(rate(5.0)),
            "adaptation": draw(rate(2.0)),
            "standardization_saving": draw(unit),
            "module_build": draw(rate(5.0)),
            "deployment": draw(rate(2.0)),
            "competition_discount": draw(unit),
            "platform": draw(rate(20.0)),
        },
    }
    return Scenario.model_validate(data)


def n_governments(s: Scenario) -> int:
    if s.prefectures is not None:
        return int(s.prefectures.frame["local_governments"].sum())
    return s.population.n_agents


def check_run(s: Scenario, rule: str, seed: int) -> None:
    """Run once and check every invariant of the time series, outcomes and agents."""
    r = sim.run(s, rule=rule, seed=seed)
    ts, out, ag = r.timeseries, r.outcomes, r.agents
    n, k = n_governments(s), s.services.count
    nk = n * k
    assert (r.rule, r.seed) == (rule, seed)

    # ---- shape ----
    assert tuple(ts.columns) == COLUMNS
    assert len(ts) == s.n_steps + 1
    assert ts["step"].tolist() == list(range(s.n_steps + 1))
    assert np.allclose(ts["year"], ts["step"] * s.dt)
    assert set(out) == set(OUTCOMES)
    assert len(ag) == n
    assert ag["agent_id"].tolist() == list(range(n))

    # ---- step 0 is the empty initial state ----
    first = ts.iloc[0]
    for c in ("coverage", "coverage_weighted", "cost", *CUMULATIVE, *SERVED, "outage"):
        assert first[c] == 0, c

    # ---- levels and bounds ----
    cov, covw = ts["coverage"].to_numpy(), ts["coverage_weighted"].to_numpy()
    assert ((cov >= 0) & (cov <= 1)).all()
    assert ((covw >= 0) & (covw <= 1 + EPS)).all()
    assert ((ts["gini"] >= -EPS) & (ts["gini"] <= 1)).all()
    assert ((ts["lagging_gap"] >= -1 - EPS) & (ts["lagging_gap"] <= 1 + EPS)).all()
    quality = ts["quality"].to_numpy()
    defined = ~np.isnan(quality)
    assert (defined == (covw > 0)).all(), "quality is defined exactly when something is served"
    assert ((quality[defined] >= -EPS) & (quality[defined] <= 1 + EPS)).all()
    assert (cov > 0).tolist() == (covw > 0).tolist()

    # ---- cumulative counts ----
    consolidating = s.support.consolidation_rate > 0
    for c in CUMULATIVE if consolidating else (*CUMULATIVE, *SERVED):
        assert (np.diff(ts[c].to_numpy()) >= 0).all(), f"{c} decreases"
    # with consolidation pairs move between sources (served_* count pairs as served now)
    assert (np.diff(ts[list(SERVED)].sum(axis=1).to_numpy()) >= -EPS).all()
    assert (ts["cost"] >= 0).all()
    dev, dup = ts["developments"].to_numpy(), ts["duplicate_developments"].to_numpy()
    assert (dev >= dup).all() and (dup >= 0).all()
    # developments - duplicates = services with a solution (first developments)
    assert (dev - dup <= k).all()

    # ---- served shares add up ----
    served = ts[list(SERVED)].sum(axis=1).to_numpy()
    outage = ts["outage"].to_numpy()
    lost = ts["lost_pairs"].to_numpy()
    assert set(np.unique(outage)) <= {0, 1}
    assert (served >= cov - EPS).all()
    up = outage == 0
    local_failures = s.risk.local_failure_rate > 0
    # every pair served is either up (coverage) or lost, in a platform or a local outage
    assert np.allclose(cov + lost / nk, served, atol=EPS, rtol=0)
    platform_lost = np.where(up, 0.0, ts["served_contractor"])
    if local_failures:  # local failures lose locally served pairs on top
        assert (lost / nk >= platform_lost - EPS).all()
    else:  # during an outage every contractor-served pair is lost, nothing else
        assert np.allclose(served[up], cov[up], atol=EPS, rtol=0)
        assert (lost[up] == 0).all()
        assert np.allclose(lost / nk, platform_lost, atol=EPS, rtol=0)

    # Identities of the bookkeeping without consolidation (which moves pairs between
    # sources without a new development or reuse; tested alone in tests/test_fair.py).
    if not consolidating:
        # reuses = pairs served by any source other than own development, at every step, less
        # the first deployment of each contractor module (its first use, not a reuse)
        reused_pairs = ts[["served_peer", "served_catalogue", "served_contractor"]].sum(axis=1) * nk
        own_pairs = ts["served_own"].to_numpy() * nk
        modules = dev - own_pairs  # contractor module builds
        first_uses = reused_pairs.to_numpy() - ts["reuses"].to_numpy()
        assert (first_uses >= -1e-6).all() and (first_uses <= modules + 1e-6).all()
        if rule != "contractor":
            assert np.allclose(first_uses, 0, atol=1e-6)
        if rule in ("grassroots", "hybrid"):
            # hybrid: the contractor standardises recognised solutions; it develops none
            assert np.allclose(modules, 0, atol=1e-6)
        else:
            assert (modules >= -1e-6).all() and (modules <= k + 1e-6).all()
            # module m is ready build_time + (m + 1) / build_rate years in (rounded to a step)
            ready = s.drive.build_time + np.arange(1, k + 1) / s.drive.build_rate
            step = ts["step"].to_numpy()
            upper = np.searchsorted(ready, (step + 0.5) * s.dt, side="right")
            lower = np.searchsorted(ready, (step - 0.5) * s.dt, side="right")
            lower[step == 0] = 0
            modules = np.rint(modules).astype(int)
            assert (modules <= upper).all(), "modules built before they can be ready"
            assert (modules >= lower).all(), "modules built late"

    # ---- monotone coverage without outages ----
    if rule == "grassroots" or s.drive.failure_rate == 0:
        if not local_failures:
            assert (np.diff(cov) >= -EPS).all(), "coverage decreases without outages"
            assert (np.diff(covw) >= -EPS).all()
        assert (outage == 0).all()
        assert out["outages"] == 0

    if rule == "grassroots":
        assert (ts["served_contractor"] == 0).all()
        if not local_failures:
            assert out["service_loss"] == 0
            assert (lost == 0).all()

    # ---- outcomes ----
    for name, value in out.items():
        assert isinstance(value, float), name
        assert math.isfinite(value), f"{name} = {value}"
    for name in (
        "coverage_final",
        "coverage_weighted_final",
        "coverage_mean",
        "duplicate_share",
        "service_quality",
        "best_solution_quality",
        "inequality_gini",
        "service_loss",
        "worst_year_loss",
        "coverage_last_year",
    ):
        assert -EPS <= out[name] <= 1 + EPS, f"{name} = {out[name]}"
    assert out["coverage_final"] == cov[-1]
    assert out["coverage_weighted_final"] == covw[-1]
    assert out["coverage_mean"] == pytest.approx(cov.mean())
    assert out["developments"] == dev[-1]
    assert out["duplicate_developments"] == dup[-1]
    assert out["reuses"] == ts["reuses"].iloc[-1]
    assert out["total_cost"] == pytest.approx(ts["cost"].iloc[-1])
    if out["developments"] > 0:
        assert out["reuse_ratio"] == pytest.approx(out["reuses"] / out["developments"])
        assert out["duplicate_share"] == pytest.approx(
            out["duplicate_developments"] / out["developments"]
        )
    else:
        assert out["reuse_ratio"] == 0
        assert out["duplicate_share"] == 0
    served_pairs_end = round(served[-1] * nk)
    assert out["cost_per_service"] == pytest.approx(out["total_cost"] / max(served_pairs_end, 1))

    horizon = s.n_steps * s.dt
    for level, key in ((0.5, "t50"), (0.9, "t90")):
        reached, years = out[f"{key}_reached"], out[f"{key}_years"]
        assert reached in (0.0, 1.0)
        assert 0 <= years <= s.time.years + EPS
        assert years <= horizon + EPS
        hit = np.flatnonzero(cov >= level - 1e-12)
        if reached:
            assert years == pytest.approx(ts["year"].iloc[hit[0]])
        else:
            assert len(hit) == 0
            assert years == pytest.approx(horizon)
    assert out["t90_reached"] <= out["t50_reached"]
    assert out["t50_years"] <= out["t90_years"] + EPS

    assert out["outages"] >= 0 and out["outages"] == int(out["outages"])
    starts = int(outage[0]) + int(np.count_nonzero(np.diff(outage) == 1))
    assert starts <= out["outages"]
    assert (out["outages"] > 0) == bool(outage.any())
    if out["outages"] == 0 and not local_failures:
        assert out["service_loss"] == 0

    # ---- agents: the final state, one row per government ----
    assert ((ag["coverage"] >= 0) & (ag["coverage"] <= 1)).all()
    assert ((ag["capacity"] > 0) & (ag["capacity"] <= 1)).all()
    assert (ag["population"] > 0).all()
    counts = ag[["own", "peer", "catalogue", "contractor"]].to_numpy()
    assert np.array_equal(counts.sum(axis=1), np.rint(ag["coverage"].to_numpy() * k))
    last = ts.iloc[-1]
    for col, share in zip(("own", "peer", "catalogue", "contractor"), SERVED, strict=True):
        assert ag[col].sum() == round(last[share] * nk), col
    assert ag["coverage"].mean() == pytest.approx(served[-1])
    assert ((ag["mean_quality_fit"] >= -EPS) & (ag["mean_quality_fit"] <= 1 + EPS)).all()


FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FAST
@given(s=scenarios(), rule=st.sampled_from(sim.RULES), seed=st.integers(0, 2**32 - 1))
def test_invariants_random_scenarios(s, rule, seed):
    check_run(s, rule, seed)


@settings(max_examples=25, deadline=None)
@given(s=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_invariants_contractor_without_failures(s, seed):
    """No failures: the contractor never causes an outage, coverage never falls."""
    s = s.model_copy(update={"drive": s.drive.model_copy(update={"failure_rate": 0.0})})
    check_run(s, "contractor", seed)


@settings(max_examples=15, deadline=None)
@given(s=scenarios(), rule=st.sampled_from(sim.RULES), seed=st.integers(0, 2**16))
def test_same_seed_same_run(s, rule, seed):
    """A run is a function of (scenario, rule, seed); run_outcomes agrees with run."""
    a = sim.run(s, rule=rule, seed=seed)
    b = sim.run(s, rule=rule, seed=seed)
    assert a.timeseries.equals(b.timeseries)
    assert a.agents.equals(b.agents)
    assert sim.run_outcomes(s, rule=rule, seed=seed) == a.outcomes


@settings(max_examples=15, deadline=None)
@given(
    s=scenarios(),
    rule=st.sampled_from(sim.RULES),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(601, 700),
    network=st.sampled_from(["hierarchy", "small_world"]),
)
def test_invariants_larger_networks(s, rule, seed, n, network):
    """The invariants hold for hundreds of governments too."""
    population = s.population.model_copy(update={"n_agents": n, "network": network})
    check_run(s.model_copy(update={"population": population}), rule, seed)


@settings(max_examples=20, deadline=None)
@given(s=scenarios(), rule=st.sampled_from(sim.RULES), seed=st.integers(0, 2**16))
def test_complete_graph_fast_path_equals_its_edge_list(s, rule, seed):
    """The kernels' complete-graph path (no edge list) gives exactly the run of the same
    graph given as an explicit edge list (CSR)."""
    import scipy.sparse as sp

    from sim.core.engine import Engine
    from sim.world import build_world, spawn_streams
    from sim.world.build import World
    from sim.world.network import Network

    s = s.model_copy(update={"population": s.population.model_copy(update={"network": "complete"})})
    world = build_world(s, spawn_streams(seed))
    n = world.n
    full = sp.csr_array(np.ones((n, n)) - np.eye(n))
    full.sort_indices()
    listed = World(world.population, Network(n, False, full), world.demand, world.priority)
    fast = Engine(s, rule, seed, world=world).run()
    slow = Engine(s, rule, seed, world=listed).run()
    pd.testing.assert_frame_equal(fast.timeseries(), slow.timeseries(), check_exact=True)
    pd.testing.assert_frame_equal(fast.agents(), slow.agents(), check_exact=True)


@pytest.mark.parametrize("rule", sim.RULES)
@pytest.mark.parametrize(
    "path", ["zhejiang.toml", "guangdong.toml", "teaching.toml"], ids=lambda p: p
)
def test_invariants_shipped_scenarios(path, rule):
    """The same invariants on the shipped provinces (CSV populations), shortened."""
    s = sim.load_scenario(ROOT / "scenarios" / path, {"time.years": 3})
    for seed in (0, 1):
        check_run(s, rule, seed)


def test_t50_years_within_horizon_for_fractional_years():
    s = Scenario.model_validate(
        {
            "time": {"years": 2.05, "steps_per_year": 12},
            "population": {"n_agents": 10, "n_regions": 2},
            "services": {"count": 1},
            "collaboration": {"innovation_rate": 0.0, "peer_learning": 0.0},
        }
    )
    out = sim.run(s, rule="grassroots", seed=0).outcomes
    assert out["t50_reached"] == 0
    assert out["t50_years"] <= s.time.years


@pytest.mark.parametrize("spread", [1e-155, 1e-200])
def test_tiny_capacity_spread(spread):
    s = Scenario.model_validate(
        {
            "time": {"years": 2, "steps_per_year": 4},
            "population": {"n_agents": 10, "n_regions": 1, "capacity_spread": spread},
        }
    )
    ag = sim.run(s, rule="grassroots", seed=0).agents
    assert ((ag["capacity"] > 0) & (ag["capacity"] <= 1)).all()


@pytest.mark.parametrize(
    # the longest set-up allowed (MAX_YEARS; beyond it values are refused, see
    # tests/test_bad_values.py), a rate so low that no module is ever ready, a long set-up
    "drive",
    [{"build_time": MAX_YEARS}, {"build_rate": 1e-200}, {"build_time": 1e5}],
)
def test_contractor_never_ready_builds_nothing(drive):
    s = Scenario.model_validate(
        {
            "time": {"years": 2, "steps_per_year": 4},
            "population": {"n_agents": 10, "n_regions": 1},
            "services": {"count": 3},
            "drive": {"contractor_capacity": 100.0, "failure_rate": 0.0, **drive},
            "collaboration": {"innovation_rate": 0.0, "peer_learning": 0.0},
        }
    )
    with np.errstate(invalid="ignore", over="ignore"):
        out = sim.run(s, rule="contractor", seed=0).outcomes
    assert out["developments"] == 0
    assert out["coverage_final"] == 0
