"""What a rule is: an ordered list of components that act on the shared state each step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..params import Scenario
from ..state import State
from ..world import World


@dataclass
class Context:
    """What every component sees: the scenario, the world, the state and the streams."""

    scenario: Scenario
    world: World
    state: State
    streams: dict[str, np.random.Generator]

    @property
    def dt(self) -> float:
        return self.scenario.dt


class Component(Protocol):
    """One mechanism (local diffusion, the contractor). ``step`` advances it by one step."""

    def setup(self, ctx: Context) -> None:
        """Precompute what does not change during a run (called once, before step 1)."""
        ...

    def step(self, ctx: Context, t: int) -> None: ...

    def end_step(self) -> None:
        """Called after the step has been recorded (e.g. an outage counts down)."""
        ...

    def settled(self, ctx: Context) -> bool:
        """True when this component can never change the state again once all pairs are served."""
        ...

    @property
    def down(self) -> bool:
        """True while the component's service is interrupted (an outage)."""
        ...
