"""The base of every parameter table: how a parameter is declared (default, unit, range,
meaning), the strict pydantic section, and the bounds of quantities without a natural one.
Shared by :mod:`sim.params` and :mod:`sim.params_costs`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RuleName = Literal["grassroots", "contractor", "hybrid"]

NETWORKS = Literal["complete", "hierarchy", "small_world", "contiguity", "contiguity+hierarchy"]
ROLLOUT_ORDERS = Literal["population", "capacity", "lagging", "random"]


# Upper bounds of quantities that have no natural one. A value beyond them breaks arithmetic
# (a lag of 1e308 years is an infinite number of steps; costs summed over 1e8 pairs
# overflow) and means nothing a smaller one does not: any lag or duration beyond the
# 200-year horizon is "never", a hazard of a billion a year fires in the first step.
MAX_RATE = 1e9
"""Largest hazard or throughput per year (rates, deployments, modules)."""
MAX_YEARS = 1e6
"""Largest lag, delay or duration in years."""
MAX_COST = 1e12
"""Largest cost of one item in cost units."""
MAX_PEOPLE = 1e10
"""Largest population of one government or prefecture (more than live on Earth)."""


def P(default: Any, unit: str, description: str, **bounds: Any) -> Any:
    """Declare a parameter: default, unit, meaning and bounds (``ge``/``le``/``gt``/``lt``)."""
    return Field(default, description=description, json_schema_extra={"unit": unit}, **bounds)


class Section(BaseModel):
    """Base of every table: strict types, unknown keys rejected, assignment re-validated."""

    # allow_inf_nan=False: every number is finite (inf and nan are errors, never results)
    model_config = ConfigDict(
        extra="forbid", strict=True, validate_assignment=True, allow_inf_nan=False
    )
