"""The Mesa wrapper steps the same engine: identical results to sim.run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.interactive.agents import LocalGovernment

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("scenario", "rule", "overrides"),
    [
        ("teaching.toml", "grassroots", {}),
        ("teaching.toml", "contractor", {"drive.failure_rate": 2.0}),  # outages happen
        ("zhejiang.toml", "grassroots", {"time.years": 3}),
        ("guangdong.toml", "contractor", {"time.years": 3}),
        ("teaching.toml", "hybrid", {"drive.failure_rate": 2.0}),
    ],
)
def test_mesa_model_equals_engine(scenario: str, rule: str, overrides: dict) -> None:
    s = sim.load_scenario(ROOT / "scenarios" / scenario, overrides)
    model = sim.DiffusionModel(s, rule=rule, seed=8)
    steps = 0
    while model.running:
        model.step()
        steps += 1
    assert steps == s.n_steps
    collected = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    result = sim.run(s, rule=rule, seed=8)
    pd.testing.assert_frame_equal(collected, result.timeseries, check_exact=True)
    assert model.outcomes() == result.outcomes
    if "failure_rate" in overrides:
        assert result.outcomes["outages"] > 0


def test_agents_read_their_row() -> None:
    s = sim.load_scenario(ROOT / "scenarios" / "teaching.toml")
    model = sim.DiffusionModel(s, seed=2)
    for _ in range(40):
        model.step()
    agents = list(model.agents)
    assert len(agents) == s.population.n_agents
    assert all(isinstance(a, LocalGovernment) for a in agents)
    frame = model.engine.agents()
    for a in agents[:10]:
        row = frame.iloc[a.index]
        assert a.capacity == row["capacity"]
        assert a.region == row["region"]
        assert a.coverage == pytest.approx(row["coverage"])
    assert model.coverage == model.datacollector.get_model_vars_dataframe()["coverage"].iloc[-1]


def test_params_and_mesa_scenario_coexist() -> None:
    """The project's Scenario is ``model.params``; ``model.scenario`` is left to Mesa (Mesa
    3.5 made it a property whose setter writes ``scenario.model = self``)."""
    s = sim.load_scenario(ROOT / "scenarios" / "teaching.toml")
    model = sim.DiffusionModel(s, seed=2)
    assert model.params is s
    assert not isinstance(getattr(model, "scenario", None), type(s))
    model.step()
    assert model.engine.t == 1
