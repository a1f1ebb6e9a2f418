"""The allocation rules: each is an ordered list of components acting on the shared state.

Components act in list order within a step. Local decisions (hazards, neighbour shares,
recognition, best solutions) read the state at the start of the step. A pair is served at
most once per step: the earlier component wins, and a later one serves the next pair in
its own order instead (local events come first, so a contractor deployment is never spent
on a pair that became served this step).
"""

from __future__ import annotations

from collections.abc import Callable

from ..params import Scenario
from .base import Component, Context
from .contractor import Contractor
from .local import LocalDiffusion


def grassroots(s: Scenario) -> list[Component]:
    """Zhejiang: local development, peer learning, catalogue reuse and promotion."""
    return [LocalDiffusion(scale=1.0, catalogue=True)]


def contractor(s: Scenario) -> list[Component]:
    """Guangdong: a contractor builds and deploys; local activity is crowded out, no catalogue."""
    return [LocalDiffusion(scale=1.0 - s.drive.crowding_out, catalogue=False), Contractor()]


RULE_BUILDERS: dict[str, Callable[[Scenario], list[Component]]] = {
    "grassroots": grassroots,
    "contractor": contractor,
}

__all__ = ["RULE_BUILDERS", "Component", "Context", "Contractor", "LocalDiffusion"]
