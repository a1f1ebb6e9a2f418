"""The outcome names and time-series columns (public; defined in :mod:`sim.core.outcomes`)."""

from .core.outcomes import (
    BY_NAME,
    COLUMNS,
    HIGHER_IS_BETTER,
    INTEGER_COLUMNS,
    OUTCOMES,
    REGISTRY,
    Outcome,
    gini_rows,
    timeseries_frame,
)

__all__ = [
    "BY_NAME",
    "COLUMNS",
    "HIGHER_IS_BETTER",
    "INTEGER_COLUMNS",
    "OUTCOMES",
    "REGISTRY",
    "Outcome",
    "gini_rows",
    "timeseries_frame",
]
