"""What a run measures: one registry of outcomes, and the time-series columns.

Every scalar outcome is declared once, in :data:`REGISTRY`, with its meaning, unit,
direction (``"max"``: higher is better, ``"min"``: lower is better, ``"none"``), whether it
is a count, how it aggregates over the provinces of a national run, and the function that
computes it. The recorder's columns (:data:`COLUMNS`), the scalar outcomes of runs and of
national runs, "which rule wins", selection maps and the parameter reference all read it.

Outcome functions take an :class:`Inputs` with a leading run axis and return one value per
run, so a batch's outcomes are computed at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd

from .arrays import SERIES

COLUMNS: tuple[str, ...] = ("step", "year", *SERIES)
"""Time-series columns, one row per step from step 0 (see :mod:`sim.core.record`)."""

INTEGER_COLUMNS = (
    "step",
    "developments",
    "duplicate_developments",
    "reuses",
    "outage",
    "lost_pairs",
)


class Inputs(NamedTuple):
    """What outcomes are computed from, for R runs of one horizon (T + 1 rows)."""

    series: dict[str, np.ndarray]  # column -> (R, T + 1)
    n: np.ndarray  # (R,) governments
    k: np.ndarray  # (R,) services
    served_end: np.ndarray  # (R,) pairs served at the end (outage or not)
    developments: np.ndarray  # (R,)
    duplicates: np.ndarray  # (R,)
    reuses: np.ndarray  # (R,)
    cost: np.ndarray  # (R,)
    best_quality: np.ndarray  # (R, K) best solution per service, -inf where none
    outages: np.ndarray  # (R,)


Direction = Literal["max", "min", "none"]


@dataclass(frozen=True)
class Outcome:
    name: str
    meaning: str
    unit: str
    direction: Direction
    integer: bool
    national: str  # how a national run's value is formed
    compute: Callable[[Inputs], np.ndarray]

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "max"


def _first_time(level: float) -> tuple[Callable, Callable]:
    def hit(x: Inputs) -> np.ndarray:
        return x.series["coverage"] >= level - 1e-12

    def years(x: Inputs) -> np.ndarray:
        h = hit(x)
        year = x.series["year"]
        first = np.argmax(h, axis=1)
        rows = np.arange(len(first))
        return np.where(h.any(axis=1), year[rows, first], year[:, -1])

    def reached(x: Inputs) -> np.ndarray:
        return hit(x).any(axis=1).astype(float)

    return years, reached


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros(len(num)), where=den > 0)


def _service_quality(x: Inputs) -> np.ndarray:
    q = x.series["quality"]
    defined = ~np.isnan(q)
    count = defined.sum(axis=1)
    return _ratio(np.where(defined, q, 0.0).sum(axis=1), count.astype(float))


def _service_loss(x: Inputs) -> np.ndarray:
    served = x.series["coverage"].sum(axis=1)
    lost = x.series["lost_pairs"].sum(axis=1) / (x.n * x.k)
    return _ratio(lost, served + lost)


def _best_quality(x: Inputs) -> np.ndarray:
    b = np.where(np.isfinite(x.best_quality), x.best_quality, 0.0)
    return b.sum(axis=1) / x.k


_t50 = _first_time(0.5)
_t90 = _first_time(0.9)
_DERIVED = "recomputed from the national series and totals"
_SUM = "sum over provinces"

REGISTRY: tuple[Outcome, ...] = (
    Outcome(
        "coverage_final",
        "share of (government, service) pairs served at the end",
        "share",
        "max",
        False,
        _DERIVED,
        lambda x: x.series["coverage"][:, -1],
    ),
    Outcome(
        "coverage_weighted_final",
        "population x demand weighted coverage at the end",
        "share",
        "max",
        False,
        _DERIVED,
        lambda x: x.series["coverage_weighted"][:, -1],
    ),
    Outcome(
        "coverage_mean",
        "coverage averaged over all recorded steps 0..T (speed: a discrete area under the curve)",
        "share",
        "max",
        False,
        _DERIVED,
        lambda x: x.series["coverage"].mean(axis=1),
    ),
    Outcome(
        "t50_years",
        "first time coverage >= 0.5 (the horizon when never reached)",
        "years",
        "min",
        False,
        _DERIVED,
        _t50[0],
    ),
    Outcome(
        "t50_reached", "1 if coverage reached 0.5, else 0", "0/1", "max", False, _DERIVED, _t50[1]
    ),
    Outcome(
        "t90_years",
        "first time coverage >= 0.9 (the horizon when never reached)",
        "years",
        "min",
        False,
        _DERIVED,
        _t90[0],
    ),
    Outcome(
        "t90_reached", "1 if coverage reached 0.9, else 0", "0/1", "max", False, _DERIVED, _t90[1]
    ),
    Outcome(
        "developments",
        "solutions developed (local developments + contractor module builds)",
        "solutions",
        "min",
        True,
        _SUM,
        lambda x: x.developments.astype(float),
    ),
    Outcome(
        "duplicate_developments",
        "developments of a service for which a solution already existed",
        "solutions",
        "min",
        True,
        "developments of a service already developed anywhere in the country",
        lambda x: x.duplicates.astype(float),
    ),
    Outcome(
        "duplicate_share",
        "duplicate_developments / developments (0 when none)",
        "share",
        "min",
        False,
        _DERIVED,
        lambda x: _ratio(x.duplicates, x.developments),
    ),
    Outcome(
        "reuses",
        "pairs served by reuse (peer, catalogue, contractor deployment)",
        "pairs",
        "max",
        True,
        _SUM,
        lambda x: x.reuses.astype(float),
    ),
    Outcome(
        "reuse_ratio",
        "reuses / developments (0 when no developments)",
        "ratio",
        "max",
        False,
        _DERIVED,
        lambda x: _ratio(x.reuses, x.developments),
    ),
    Outcome(
        "total_cost",
        "all costs: developments, adaptations, modules, deployments, platform",
        "cost units",
        "min",
        False,
        _SUM,
        lambda x: x.cost.astype(float),
    ),
    Outcome(
        "cost_per_service",
        "total_cost / pairs served at the end (at least 1)",
        "cost units",
        "min",
        False,
        _DERIVED,
        lambda x: x.cost / np.maximum(x.served_end, 1),
    ),
    Outcome(
        "service_quality",
        "mean quality x fit of served pairs weighted by population x "
        "service demand, averaged over steps with any served pair",
        "0..1",
        "max",
        False,
        _DERIVED,
        _service_quality,
    ),
    Outcome(
        "best_solution_quality",
        "mean over services of the best solution's quality (0 if none)",
        "0..1",
        "max",
        False,
        "best over provinces, per service",
        _best_quality,
    ),
    Outcome(
        "inequality_gini",
        "Gini of per-government coverage, averaged over all steps",
        "0..1",
        "min",
        False,
        "over all governments of the country",
        lambda x: x.series["gini"].mean(axis=1),
    ),
    Outcome(
        "lagging_gap",
        "coverage of the top capacity quartile minus the bottom one, averaged over steps",
        "share",
        "min",
        False,
        "quartiles of all governments of the country",
        lambda x: x.series["lagging_gap"].mean(axis=1),
    ),
    Outcome(
        "service_loss",
        "pair-years lost to outages / (pair-years served + lost)",
        "share",
        "min",
        False,
        _DERIVED,
        _service_loss,
    ),
    Outcome(
        "outages",
        "number of contractor outages",
        "outages",
        "min",
        True,
        _SUM,
        lambda x: x.outages.astype(float),
    ),
)
"""Every scalar outcome of a run, in output order."""

OUTCOMES: dict[str, str] = {o.name: o.meaning for o in REGISTRY}
"""Name -> meaning of every scalar outcome (all floats)."""

BY_NAME: dict[str, Outcome] = {o.name: o for o in REGISTRY}

HIGHER_IS_BETTER: dict[str, bool] = {o.name: o.higher_is_better for o in REGISTRY}
"""Whether a larger value of each outcome is better (for "which rule wins" and selection
maps), from the registry's directions."""


def compute_outcomes(x: Inputs) -> dict[str, np.ndarray]:
    """Every registered outcome for each run of ``x`` (arrays of floats)."""
    return {o.name: np.asarray(o.compute(x), dtype=float) for o in REGISTRY}


def timeseries_frame(data: dict[str, np.ndarray], t: int) -> pd.DataFrame:
    """Rows 0..t of the recorded columns as a DataFrame (counts as integers)."""
    ints = set(INTEGER_COLUMNS)
    return pd.DataFrame(
        {c: data[c][: t + 1].astype(np.int64) if c in ints else data[c][: t + 1] for c in COLUMNS}
    )


def gini_rows(counts: np.ndarray, k: int) -> np.ndarray:
    """Gini coefficient of each row of integer counts in 0..k (0 for all-zero rows); the
    same formula as the recorder's (:func:`sim.core.record.gini_of_counts`), over rows."""
    rows, n = counts.shape
    flat = counts + (k + 1) * np.arange(rows)[:, None]
    h = np.bincount(flat.ravel(), minlength=rows * (k + 1)).reshape(rows, k + 1)
    c = h.cumsum(axis=1)
    values = np.arange(k + 1)
    ranked = (h * (2 * c - h + 1)) @ values / 2.0
    total = h @ values
    with np.errstate(divide="ignore", invalid="ignore"):
        g = 2.0 * ranked / (n * total) - (n + 1) / n
    return np.where(total > 0, g, 0.0)
