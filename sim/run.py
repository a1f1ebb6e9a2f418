"""The public API of a run: ``sim.run`` (one scenario, one rule, one seed -> a
:class:`RunResult`), ``sim.run_outcomes`` and :func:`engine_for`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a run is made: ``import sim`` stays cheap (issue 18)
    import pandas as pd

    from .core.engine import Engine
    from .core.national import NationalEngine
    from .params import Scenario
    from .world.build import World


class RunResult:
    """One run's results: ``rule``, ``seed``, ``timeseries`` (one row per step from step 0,
    see :data:`sim.outcomes.COLUMNS`), ``outcomes`` (see :data:`sim.outcomes.OUTCOMES`),
    ``agents`` (one row per local government, state at the end) and ``provinces`` (national
    scenarios: one row per province; else None).

    The DataFrames are built on first access (a caller that reads only the outcomes does
    not pay for them, about 2 ms a run): each may be given as a DataFrame or as a function
    that builds it."""

    __slots__ = ("_frames", "outcomes", "rule", "seed")

    def __init__(
        self,
        rule: str,
        seed: int,
        timeseries: pd.DataFrame | Callable[[], pd.DataFrame],
        outcomes: dict[str, float],
        agents: pd.DataFrame | Callable[[], pd.DataFrame],
        provinces: pd.DataFrame | Callable[[], pd.DataFrame | None] | None = None,
    ) -> None:
        self.rule, self.seed, self.outcomes = rule, seed, outcomes
        self._frames: dict[str, Any] = {
            "timeseries": timeseries,
            "agents": agents,
            "provinces": provinces,
        }

    def _frame(self, name: str) -> Any:
        value = self._frames[name]
        if callable(value):
            value = self._frames[name] = value()
        return value

    @property
    def timeseries(self) -> pd.DataFrame:
        return self._frame("timeseries")

    @property
    def agents(self) -> pd.DataFrame:
        return self._frame("agents")

    @property
    def provinces(self) -> pd.DataFrame | None:
        return self._frame("provinces")

    def __repr__(self) -> str:
        return f"RunResult(rule={self.rule!r}, seed={self.seed!r}, outcomes={self.outcomes!r})"


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
    from .core.engine import Engine
    from .core.national import NationalEngine

    if scenario.is_national:
        return NationalEngine(scenario, rule=rule, seed=seed)
    return Engine(scenario, rule=rule, seed=seed, world=world)


def run(scenario: Scenario, rule: str | None = None, seed: int | None = None) -> RunResult:
    """Run ``scenario`` under ``rule`` with ``seed`` (None: the scenario's own rule and seed)."""
    import pandas as pd

    from .core.national import NationalEngine
    from .core.outcomes import timeseries_frame

    engine = engine_for(scenario, rule=rule, seed=seed).run()
    if isinstance(engine, NationalEngine):
        return RunResult(
            engine.rule,
            engine.seed,
            engine.timeseries(),
            engine.outcomes(),
            engine.agents(),
            engine.provinces(),
        )
    # the lazy frames keep only their columns (small arrays), not the engine and its batch
    data, t, columns = engine.recorder.data, engine.t, engine.agent_columns()
    return RunResult(
        engine.rule,
        engine.seed,
        lambda: timeseries_frame(data, t),
        engine.outcomes(),
        lambda: pd.DataFrame(columns),
    )


def run_outcomes(
    scenario: Scenario, rule: str | None = None, seed: int | None = None
) -> dict[str, float]:
    """Only the scalar outcomes: the cheap path for replicates and sweeps (no DataFrames)."""
    return engine_for(scenario, rule=rule, seed=seed).run().outcomes()
