"""reform-diffusion-sim: how digital-government reforms diffuse among local governments.

Public interface (stable; scripts outside this repository rely on these names)::

    sim.load_scenario(path, overrides=None) -> Scenario
    sim.run(scenario, rule=None, seed=None) -> RunResult
    sim.DiffusionModel(scenario, rule=None, seed=None)   # the Mesa model

Importing ``sim`` does no work beyond defining names; the Mesa wrapper is imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import BadInput
from .outcomes import OUTCOMES
from .params import RULES, Scenario
from .run import RunResult, run, run_outcomes
from .scenario import load_scenario

if TYPE_CHECKING:
    from .interactive.model import DiffusionModel

__version__ = "0.1.0"
__all__ = [
    "OUTCOMES",
    "RULES",
    "BadInput",
    "DiffusionModel",
    "RunResult",
    "Scenario",
    "load_scenario",
    "run",
    "run_outcomes",
]


def __getattr__(name: str) -> Any:
    if name == "DiffusionModel":  # mesa is heavy to import; only load it when asked for
        from .interactive.model import DiffusionModel

        return DiffusionModel
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
