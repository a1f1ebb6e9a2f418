"""The public API of a run: ``sim.run`` (one scenario, one rule, one seed -> a
:class:`RunResult`), ``sim.run_outcomes`` and :func:`engine_for`."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .core.engine import Engine
from .core.national import NationalEngine
from .params import Scenario
from .world.build import World


@dataclass(frozen=True)
class RunResult:
    rule: str
    seed: int
    timeseries: pd.DataFrame  # one row per step from step 0 (see sim.outcomes.COLUMNS)
    outcomes: dict[str, float]  # see sim.outcomes.OUTCOMES
    agents: pd.DataFrame  # one row per local government, state at the end
    provinces: pd.DataFrame | None = None  # national scenarios: one row per province


def engine_for(
    scenario: Scenario,
    rule: str | None = None,
    seed: int | None = None,
    *,
    world: World | None = None,
) -> Engine | NationalEngine:
    """The engine for ``scenario``: an :class:`~sim.core.engine.Engine`, or a
    :class:`~sim.core.national.NationalEngine` for a national scenario (``world`` is then
    unused: every province builds its own)."""
    if scenario.is_national:
        return NationalEngine(scenario, rule=rule, seed=seed)
    return Engine(scenario, rule=rule, seed=seed, world=world)


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
