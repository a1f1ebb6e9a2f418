"""Mesa agents: one per local government, a view onto its row of the engine's arrays.

Agents hold no state of their own: the engine's arrays are the single source of truth, so
the Mesa model and :func:`sim.run` cannot drift apart. Agents do not step themselves; the
engine advances all of them at once (see :class:`sim.interactive.model.DiffusionModel`).
"""

from __future__ import annotations

from typing import Protocol

import mesa
import numpy as np

from ..core.arrays import Source
from ..core.engine import Engine


class EngineModel(Protocol):
    """What an agent needs of its model (the agents receive their model; they do not
    import the model's module, which imports them)."""

    engine: Engine


class LocalGovernment(mesa.Agent):
    """A county-level local government (row ``index`` of the engine's arrays)."""

    model: EngineModel

    def __init__(self, model: EngineModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def _pop(self):
        return self.model.engine.world.population

    @property
    def region(self) -> str:
        return self._pop.region_names[self._pop.region[self.index]]

    @property
    def population(self) -> float:
        return float(self._pop.population[self.index])

    @property
    def capacity(self) -> float:
        return float(self._pop.capacity[self.index])

    @property
    def sources(self) -> np.ndarray:
        """How each service is served (a :class:`sim.core.arrays.Source` code per service)."""
        return self.model.engine.state.source[self.index]

    @property
    def coverage(self) -> float:
        """Share of services this government offers (contractor services down in an outage
        still count: they have a service, it is just interrupted)."""
        return float(np.mean(self.sources != Source.NONE))

    @property
    def main_source(self) -> str:
        """The most common way this government's services are served ("none" if none)."""
        counts = np.bincount(self.sources, minlength=len(Source))
        if counts[1:].sum() == 0:
            return "none"
        return Source(int(np.argmax(counts[1:])) + 1).name.lower()
