"""Batched execution gives exactly the numbers of running each run alone.

The engine steps B >= 1 runs as one batch (:mod:`sim.core.batch`); a run alone is a batch
of one. These tests hold a run in a batch to the same run alone, bit for bit: every scalar
outcome, every recorded column and the final per-pair state, for every rule and every kind
of network, with parameter values that differ between the runs of one batch (so a batch
cannot get away with sharing a value) and that reach the rarer paths: outages, a
contractor that deploys to many pairs in one step, recognition and the hybrid contractor's
adoption queue.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.core.engine import Engine, run_batched
from sim.experiments.experiment import load_experiment
from sim.experiments.sweep import read_runs, sweep

from .test_invariants import scenarios

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "scenarios" / "teaching.toml"

# Per-run variations, applied to run r of a batch (cycled): contractor capacities from a
# trickle to several windows per step, a high outage rate, each rollout order, and local
# rates from slow to fast.
VARIATIONS = [
    {"drive.contractor_capacity": 30.0, "drive.rollout_order": "random"},
    {"drive.contractor_capacity": 12 * 5 * 64.0, "drive.failure_rate": 4.0},
    {"drive.rollout_order": "lagging", "collaboration.innovation_rate": 0.4},
    {"drive.rollout_order": "capacity", "collaboration.peer_learning": 2.0},
    {"support.catalog_visibility": 0.0, "drive.failure_rate": 2.0, "drive.outage_duration": 0.2},
]

KINDS = {
    # scenario file, overrides that make the network kind, expected batch_key kind
    "dense": (TEACHING, {}),
    "complete": (TEACHING, {"population.network": "complete"}),
    "sparse": (
        TEACHING,
        {
            "population.network": "small_world",
            "population.n_agents": 700,
            "services.count": 3,
            "time.years": 3.0,
        },
    ),
}


def engines_for(kind: str, rule: str, n: int = 5) -> list[Engine]:
    path, base = KINDS[kind]
    out = []
    for r in range(n):
        scenario = sim.load_scenario(path, {**base, **VARIATIONS[r % len(VARIATIONS)]})
        out.append(Engine(scenario, rule, seed=100 + r))
    return out


def assert_same_run(alone: Engine, batched: Engine) -> None:
    assert batched.outcomes() == alone.outcomes()
    a, b = alone.recorder.data, batched.recorder.data
    for c in a:
        np.testing.assert_array_equal(b[c], a[c], err_msg=c)
    sa, sb = alone.state, batched.state
    for name in ("source", "sol", "quality", "fit", "step", "best_quality", "first_dev_step"):
        np.testing.assert_array_equal(getattr(sb, name), getattr(sa, name), err_msg=name)
    pd.testing.assert_frame_equal(batched.timeseries(), alone.timeseries())
    pd.testing.assert_frame_equal(batched.agents(), alone.agents())


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("rule", sim.RULES)
def test_batch_equals_runs_alone(kind: str, rule: str) -> None:
    alone = [e.run() for e in engines_for(kind, rule)]
    batched = run_batched(engines_for(kind, rule))
    assert len({id(e.batch) for e in batched}) == 1
    for a, b in zip(alone, batched, strict=True):
        assert_same_run(a, b)
    # the variations reach the rare paths (else this test would not cover them)
    if rule != "grassroots":
        assert sum(e.outcomes()["outages"] for e in alone) > 0


def test_shipped_scenarios_batched_equal_alone() -> None:
    for name in ("zhejiang", "guangdong"):
        s = sim.load_scenario(ROOT / "scenarios" / f"{name}.toml")
        for rule in sim.RULES:
            alone = [Engine(s, rule, seed).run() for seed in range(3)]
            batched = run_batched([Engine(s, rule, seed) for seed in range(3)])
            for a, b in zip(alone, batched, strict=True):
                assert b.outcomes() == a.outcomes()


def test_run_batched_groups_mixed_engines_and_keeps_order() -> None:
    s = sim.load_scenario(TEACHING)
    small = sim.load_scenario(TEACHING, {"population.n_agents": 40})

    def fresh() -> list[Engine]:
        return [
            Engine(sc, rule, seed)
            for seed in range(3)
            for sc in (s, small)
            for rule in ("grassroots", "hybrid")
        ]

    alone = [e.run() for e in fresh()]
    batched = run_batched(fresh(), size=2)  # four keys, batches of at most two, one alone
    for a, b in zip(alone, batched, strict=True):
        assert b.rule == a.rule and b.seed == a.seed
        assert b.outcomes() == a.outcomes()


def test_one_batch_holds_every_rule_size_horizon_and_network() -> None:
    """Runs of different rules, sizes, services, horizons and network kinds share one
    batch; each gets its numbers alone, and a run already stepped alone is finished alone."""

    def fresh() -> list[Engine]:
        out = []
        for i, (kind, rule) in enumerate([(k, r) for k in sorted(KINDS) for r in sim.RULES]):
            path, base = KINDS[kind]
            extra = {"time.years": 2.0 + i % 3, "services.count": 2 + i % 4}
            scenario = sim.load_scenario(path, {**base, **VARIATIONS[i % 5], **extra})
            out.append(Engine(scenario, rule, seed=30 + i))
        return out

    alone = [e.run() for e in fresh()]
    batched = fresh()
    batched[0].step()  # used: run_batched finishes it alone
    run_batched(batched)
    assert len({id(e.batch) for e in batched[1:]}) == 1
    for a, b in zip(alone, batched, strict=True):
        assert_same_run(a, b)


def test_sweep_batched_and_unbatched_write_the_same_runs(tmp_path: Path) -> None:
    exp = load_experiment(ROOT / "experiments" / "quick.toml")
    exp.spec.design.n = 8
    a = sweep(exp, tmp_path / "batched", workers=1, batch=True)
    b = sweep(exp, tmp_path / "alone", workers=1, batch=False)
    assert a.n_runs == b.n_runs == 8 * (4 + 2) * 2 * 2  # Sobol' N (d + 2), replicates, rules
    pd.testing.assert_frame_equal(read_runs(tmp_path / "batched"), read_runs(tmp_path / "alone"))


@pytest.mark.parametrize("rule", sim.RULES)
def test_runs_of_different_sizes_share_a_padded_batch(rule: str) -> None:
    """Smaller runs are padded with governments that are always served and never counted;
    each run still gets exactly its numbers alone (sizes 30, 60 and 45 in one batch)."""

    def fresh() -> list[Engine]:
        return [
            Engine(
                sim.load_scenario(TEACHING, {"population.n_agents": n, **VARIATIONS[i]}),
                rule,
                seed=7 + i,
            )
            for i, n in enumerate((30, 60, 45))
        ]

    alone = [e.run() for e in fresh()]
    batched = run_batched(fresh())
    for a, b in zip(alone, batched, strict=True):
        assert_same_run(a, b)


def test_compare_runs_batched_with_the_numbers_of_single_runs() -> None:
    from sim.experiments.compare import compare

    s = sim.load_scenario(TEACHING)
    ticks: list[int] = []
    cmp = compare(s, replicates=3, seed=40, progress=lambda: ticks.append(1))
    assert len(ticks) == 3 * len(sim.RULES)
    for row in cmp.outcomes.to_dict("records"):
        alone = sim.run_outcomes(s, rule=row["rule"], seed=row["seed"])
        assert {k: row[k] for k in alone} == alone


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), rule=st.sampled_from(sim.RULES))
def test_any_parameters_batched_equal_alone(data: st.DataObject, rule: str) -> None:
    """Property: for random scenarios that differ in everything, shape included (governments,
    services, steps, network), a batch gives every run exactly its numbers alone."""
    runs = [data.draw(scenarios()) for _ in range(3)]
    seeds = [data.draw(st.integers(0, 2**32 - 1)) for _ in runs]
    alone = [Engine(s, rule, seed).run() for s, seed in zip(runs, seeds, strict=True)]
    batched = run_batched([Engine(s, rule, seed) for s, seed in zip(runs, seeds, strict=True)])
    for a, b in zip(alone, batched, strict=True):
        assert_same_run(a, b)
