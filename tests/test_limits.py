"""The two analytic limits the model must reproduce (ODD section 7)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.core.engine import Engine

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def bass(t: np.ndarray, p: float, q: float) -> np.ndarray:
    """Closed-form Bass adoption curve F(t)."""
    e = np.exp(-(p + q) * t)
    return (1 - e) / (1 + (q / p) * e)


def bass_steps(n_steps: int, dt: float, p: float, q: float, n: int) -> np.ndarray:
    """Expected coverage of the discrete-time model in the mean-field limit.

    Each step an unserved government adopts with probability 1 - exp(-(p + q s) dt), where
    s = served / (N - 1) is the share of its neighbours (everyone else) served at the start
    of the step.
    """
    f = np.zeros(n_steps + 1)
    for i in range(n_steps):
        share = f[i] * n / (n - 1)
        f[i + 1] = f[i] + (1 - f[i]) * -np.expm1(-(p + q * share) * dt)
    return f


def test_grassroots_rule_follows_the_bass_model() -> None:
    s = sim.load_scenario(SCENARIOS / "validation" / "bass.toml")
    p, q, n = s.collaboration.innovation_rate, s.collaboration.peer_learning, s.population.n_agents
    seeds = range(24)
    curves = np.vstack([Engine(s, seed=seed).run().recorder.data["coverage"] for seed in seeds])
    mean = curves.mean(axis=0)
    se = curves.std(axis=0, ddof=1) / np.sqrt(len(seeds))
    years = np.arange(s.n_steps + 1) * s.dt
    discrete = bass_steps(s.n_steps, s.dt, p, q, n)
    # Statistical tolerance: 4 standard errors of the 24-run mean at each time (a false alarm
    # needs a > 4 sigma deviation somewhere on the curve), plus 0.01 for the finite-N
    # (N = 1000) departure from the mean-field recursion. A model without peer learning, or
    # with a wrong hazard, is off by > 0.1 near the inflection point.
    tol = 4 * se + 0.01
    assert np.all(np.abs(mean - discrete) <= tol), np.max(np.abs(mean - discrete) - tol)
    # Against the continuous-time Bass curve, add the measured time-step error of the
    # recursion itself (first-order in dt).
    step_error = np.max(np.abs(discrete - bass(years, p, q)))
    assert step_error < 0.02  # dt = 1/12 year: the discretisation is fine enough
    assert np.all(np.abs(mean - bass(years, p, q)) <= tol + step_error)
    # and the curve is S-shaped: adoption in the year around the Bass peak t* is several
    # times the first year's (a pure-innovation model, q = 0, would slow down instead)
    t_star = np.log(q / p) / (p + q)
    steps_per_year = s.time.steps_per_year
    mid = round(t_star * steps_per_year)
    first_year = mean[steps_per_year] - mean[0]
    peak_year = mean[mid + steps_per_year // 2] - mean[mid - steps_per_year // 2]
    assert peak_year > 3 * first_year


def test_bass_limit_is_sensitive_to_peer_learning() -> None:
    """Guard against a test that cannot fail: halving q moves the curve outside tolerance."""
    s = sim.load_scenario(
        SCENARIOS / "validation" / "bass.toml", {"collaboration.peer_learning": 0.19}
    )
    mean = np.mean([Engine(s, seed=k).run().recorder.data["coverage"] for k in range(8)], axis=0)
    expected = bass_steps(s.n_steps, s.dt, 0.03, 0.38, s.population.n_agents)
    assert np.max(np.abs(mean - expected)) > 0.1


@pytest.mark.parametrize("capacity", [40.0, 100.0, 250.0])
def test_contractor_rule_rolls_out_linearly(capacity: float) -> None:
    s = sim.load_scenario(
        SCENARIOS / "validation" / "linear_rollout.toml", {"drive.contractor_capacity": capacity}
    )
    n = s.population.n_agents
    for seed in range(3):
        ts = sim.run(s, seed=seed).timeseries
        expected = np.minimum(1.0, capacity * ts["year"].to_numpy() / n)
        one_step = capacity * s.dt / n
        assert np.all(np.abs(ts["coverage"].to_numpy() - expected) <= one_step + 1e-12)
        assert ts["coverage"].iloc[-1] == pytest.approx(min(1.0, capacity * s.time.years / n))
        assert ts["developments"].iloc[-1] == 1  # the module is built once
        assert ts["duplicate_developments"].iloc[-1] == 0


def test_contractor_build_time_delays_first_deployment() -> None:
    s = sim.load_scenario(
        SCENARIOS / "validation" / "linear_rollout.toml",
        {"drive.build_time": 1.0, "drive.build_rate": 4.0},
    )
    ts = sim.run(s).timeseries
    first = ts.loc[ts["coverage"] > 0, "year"].iloc[0]
    # the first module is ready at build_time + 1 / build_rate = 1.25 years
    assert first == pytest.approx(1.25, abs=s.dt + 1e-9)
    assert first >= 1.25 - 1e-9
