"""What ``sim viz`` tells the page through the environment (it starts Solara, which imports
the page): the scenario, the ``--set`` overrides and the addresses students open. Shared by
the teaching page (:mod:`sim.interactive.app`) and class mode
(:mod:`sim.interactive.class_page`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SCENARIO_ENV = "SIM_VIZ_SCENARIO"
OVERRIDES_ENV = "SIM_VIZ_SET"  # JSON object of dotted key -> value (sim viz --set)
URLS_ENV = "SIM_VIZ_URLS"  # JSON list of the addresses students open (sim viz --host)
DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "teaching.toml"


def scenario_path() -> str:
    """The scenario ``sim viz`` was started with (``$SIM_VIZ_SCENARIO``), else teaching.toml."""
    return os.environ.get(SCENARIO_ENV) or str(DEFAULT_SCENARIO)


def scenario_overrides() -> dict[str, Any]:
    """The ``--set`` overrides ``sim viz`` was started with (``$SIM_VIZ_SET``, JSON)."""
    return dict(json.loads(os.environ.get(OVERRIDES_ENV) or "{}"))


def urls() -> list[str]:
    """The addresses students open (``$SIM_VIZ_URLS``, JSON; empty on a loopback address)."""
    return list(json.loads(os.environ.get(URLS_ENV) or "[]"))
