"""The timed workloads, written against the public API only (``sim.load_scenario``,
``sim.run``, ``sim.run_outcomes``).

Only the public API, because the same functions time two engines: this checkout's and the
previous engine's (a checkout of an older commit, imported by ``engine_worker.py`` with
that checkout first on ``PYTHONPATH``). Whichever ``sim`` is importable is the one timed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import sim

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS_DIR = ROOT / "scenarios"
BASS_FILE = SCENARIOS_DIR / "validation" / "bass.toml"
ZHEJIANG_FILE = SCENARIOS_DIR / "zhejiang_synthetic.toml"  # the province both engines know
NATIONAL_FILE = SCENARIOS_DIR / "china.toml"
BASS_STEPS = 100

Timed = Callable[[int], Any]  # seed -> result; one call is one whole run


def bass_scenario(n: int = 1000) -> sim.Scenario:
    """The Bass limit on a small-world network: one service, ``n`` governments, 100 steps."""
    s = sim.load_scenario(
        BASS_FILE,
        overrides={
            "population.n_agents": n,
            "population.network": "small_world",
            "population.mean_degree": 6,
            "population.rewiring": 0.1,
            "time.steps_per_year": 12,
            "time.years": BASS_STEPS / 12,
        },
    )
    if s.n_steps != BASS_STEPS or s.services.count != 1 or s.rule != "grassroots":
        raise RuntimeError(f"{BASS_FILE}: not the Bass limit this benchmark expects")
    return s


def bass_params(s: sim.Scenario) -> dict[str, Any]:
    """The Mesa reference's keyword arguments for a Bass scenario (one source of truth)."""
    return {
        "n": s.population.n_agents,
        "p": s.collaboration.innovation_rate,
        "q": s.collaboration.peer_learning,
        "mean_degree": s.population.mean_degree,
        "rewiring": s.population.rewiring,
        "dt": s.dt,
        "n_steps": s.n_steps,
    }


def bass_run() -> Timed:
    """The 1,000-government Bass run through ``sim.run`` (DataFrames included); returns the
    final coverage, a check that the engines being compared ran the same dynamics."""
    s = bass_scenario()
    return lambda seed: float(sim.run(s, seed=seed).timeseries["coverage"].iloc[-1])


def zhejiang_outcomes() -> Timed:
    """A Zhejiang run alone under its own rule, scalar outcomes only (the sweeps' path)."""
    s = sim.load_scenario(ZHEJIANG_FILE)
    return lambda seed: sim.run_outcomes(s, seed=seed)["coverage_mean"]


def national_outcomes() -> Timed:
    """A national run (``scenarios/china.toml`` under its own rule), scalar outcomes."""
    s = sim.load_scenario(NATIONAL_FILE)
    return lambda seed: sim.run_outcomes(s, seed=seed)["coverage_mean"]


WORKLOADS: dict[str, Callable[[], Timed]] = {
    "bass_run": bass_run,
    "zhejiang_outcomes": zhejiang_outcomes,
    "national_outcomes": national_outcomes,
}
"""Name -> a factory that loads the scenario once and returns the timed function."""
