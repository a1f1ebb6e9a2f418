"""The Mesa model: the engine wrapped for interactive use (browser views, notebooks).

``DiffusionModel(scenario, rule=None, seed=None)`` builds one :class:`sim.core.engine.Engine`,
one :class:`~sim.agents.LocalGovernment` per row of its arrays, and a Mesa
``DataCollector`` whose model variables are the engine's time-series columns. ``step()``
advances the engine by one step, so stepping this model and calling :func:`sim.run` give
identical results for the same scenario, rule and seed.

The project's :class:`~sim.params.Scenario` is ``model.params``: since Mesa 3.5,
``mesa.Model.scenario`` is Mesa's own scenario object (its setter writes
``scenario.model = self``, which a strict pydantic model refuses).

Batch work (replicates, sweeps) must use the bare engine: Mesa 3.3 (up to 3.4.1) keeps every
model that ever created an agent alive through the class-level ``Agent._ids`` registry.
"""

from __future__ import annotations

from collections.abc import Callable

import mesa
import numpy as np

from ..core.engine import Engine
from ..outcomes import COLUMNS
from ..params import Scenario
from ..world.counties import half_served_years
from .agents import LocalGovernment

INT_COLUMNS = frozenset(
    {"step", "developments", "duplicate_developments", "reuses", "outage", "lost_pairs"}
)


def _report(model: DiffusionModel, column: str) -> float | int:
    value = model.engine.recorder.data[column][model.engine.t]
    return int(value) if column in INT_COLUMNS else float(value)


def _reporter(column: str) -> Callable[[DiffusionModel], float | int]:
    """A plain-function reporter of one column. Not ``functools.partial``: Mesa 3.4.1 and
    3.4.2 validate every reporter that is not a function by calling it with no argument."""
    return lambda model: _report(model, column)


class DiffusionModel(mesa.Model):
    """Mesa model of reform diffusion; see the module docstring."""

    def __init__(
        self, scenario: Scenario, rule: str | None = None, seed: int | None = None
    ) -> None:
        engine = Engine(scenario, rule=rule, seed=seed)
        # Mesa's own generators (unused by the dynamics) are seeded from the same seed.
        super().__init__(rng=engine.seed)
        self.engine = engine
        self.params = scenario  # not self.scenario: Mesa's own since 3.5 (module docstring)
        self.rule = engine.rule
        for i in range(engine.world.n):
            LocalGovernment(self, i)
        self.datacollector = mesa.DataCollector(model_reporters={c: _reporter(c) for c in COLUMNS})
        self.datacollector.collect(self)
        self.running = True
        self.intent: np.ndarray | None = None
        """Class mode's choices for the next steps (:meth:`sim.core.engine.Engine.step`);
        None: the rule decides everywhere. An attribute, not an argument of ``step``: Mesa
        3.5 wraps ``step`` in ``Model._wrapped_step(self)``, which passes no arguments."""

    def step(self) -> None:
        """One step of the engine (with :attr:`intent`, if set)."""
        self.engine.step(intent=self.intent)
        self.datacollector.collect(self)
        self.running = not self.engine.done

    def step_with(self, intent: np.ndarray | None) -> None:
        """One step through Mesa's own ``step`` (its clock advances) with these choices."""
        self.intent = intent
        try:
            self.step()
        finally:
            self.intent = None

    # -- the state views draw (the browser app, sim.interactive.live): kept to these three so
    # that a new engine only has to provide them --
    @property
    def t(self) -> int:
        """Steps done so far (0 before the first step)."""
        return int(self.engine.t)

    @property
    def sources(self) -> np.ndarray:
        """How each government offers each service now: an N x K array of
        :class:`sim.state.Source` codes (0: not yet). A read-only view: copy to keep it."""
        view = self.engine.state.source.view()
        view.flags.writeable = False
        return view

    @property
    def outage(self) -> bool:
        """Whether the latest step was spent in an outage of the contractor's platform."""
        return bool(self.engine.recorder.data["outage"][self.engine.t] > 0)

    @property
    def half_years(self) -> np.ndarray:
        """Per government, the year it first offered half of its services, NaN if not yet
        (as ``t50_years`` of ``agents.csv``): what the map's fill shows at the end of a run,
        where every government has everything and only the timing tells the rules apart."""
        return half_served_years(self.engine.state.step, self.params.dt)

    @property
    def coverage(self) -> float:
        return float(self.engine.recorder.data["coverage"][self.engine.t])

    def outcomes(self) -> dict[str, float]:
        """Scalar outcomes of the run so far (see :data:`sim.outcomes.OUTCOMES`)."""
        return self.engine.outcomes()
