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
from .province import Province


def grassroots(s: Scenario) -> list[Component]:
    """Zhejiang: local development, peer learning, catalogue reuse, recognition, promotion."""
    return [Province(), LocalDiffusion(scale=1.0, visibility=True, promotion=True)]


def contractor(s: Scenario) -> list[Component]:
    """Guangdong: a contractor builds and deploys; local activity is crowded out, no catalogue."""
    local = LocalDiffusion(scale=1.0 - s.drive.crowding_out, visibility=False, promotion=False)
    return [local, Contractor(adopt=False)]


def hybrid(s: Scenario) -> list[Component]:
    """Innovate in one place, reuse everywhere: grassroots innovation and peer learning; each
    solution the province recognises is standardised and deployed by the contractor."""
    local = LocalDiffusion(scale=1.0, visibility=True, promotion=False)
    return [Province(), local, Contractor(adopt=True)]


RULE_BUILDERS: dict[str, Callable[[Scenario], list[Component]]] = {
    "grassroots": grassroots,
    "contractor": contractor,
    "hybrid": hybrid,
}

__all__ = ["RULE_BUILDERS", "Component", "Context", "Contractor", "LocalDiffusion", "Province"]
