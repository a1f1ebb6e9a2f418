"""The allocation rules' names and colours, defined once for the whole project.

What each rule switches on is in :data:`sim.core.batch.RULE_SWITCHES`; the mechanisms are
the same for every rule (:mod:`sim.core.mechanisms`).
"""

from __future__ import annotations

RULES: tuple[str, ...] = ("grassroots", "contractor", "hybrid")
"""The allocation rules a province runs under."""

MIXED = "mixed"
"""A national run in which every province keeps its own rule (``national.rules``)."""

COLOURS: dict[str, str] = {
    "grassroots": "#2a9d8f",
    "contractor": "#e76f51",
    "hybrid": "#6a4c93",
    "mixed": "#1d6fa5",
}
"""Each rule's colour in every figure, the app and the animations."""
