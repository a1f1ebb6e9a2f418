"""``sim.run``: one scenario, one rule, one seed -> a :class:`RunResult`."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .engine import engine_for
from .national import NationalEngine
from .params import Scenario


@dataclass(frozen=True)
class RunResult:
    rule: str
    seed: int
    timeseries: pd.DataFrame  # one row per step from step 0 (see sim.outcomes.COLUMNS)
    outcomes: dict[str, float]  # see sim.outcomes.OUTCOMES
    agents: pd.DataFrame  # one row per local government, state at the end
    provinces: pd.DataFrame | None = None  # national scenarios: one row per province


def run(scenario: Scenario, rule: str | None = None, seed: int | None = None) -> RunResult:
    """Run ``scenario`` under ``rule`` with ``seed`` (None: the scenario's own rule and seed)."""
    engine = engine_for(scenario, rule=rule, seed=seed).run()
    provinces = engine.provinces() if isinstance(engine, NationalEngine) else None
    return RunResult(
        engine.rule,
        engine.seed,
        engine.timeseries(),
        engine.outcomes(),
        engine.agents(),
        provinces,
    )


def run_outcomes(
    scenario: Scenario, rule: str | None = None, seed: int | None = None
) -> dict[str, float]:
    """Only the scalar outcomes: the cheap path for replicates and sweeps (no DataFrames)."""
    return engine_for(scenario, rule=rule, seed=seed).run().outcomes()
