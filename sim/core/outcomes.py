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
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np

if TYPE_CHECKING:  # imported by timeseries_frame: ``import sim`` stays cheap (issue 18)
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
    best_quality: np.ndarray  # (R, K) best solution in use per service, -inf where none
    outages: np.ndarray  # (R,)
    module_duplicates: np.ndarray  # (R,) duplicates that are contractor module builds
    across: np.ndarray  # (R,) national: developments of a service first developed elsewhere
    adoption_gap: np.ndarray  # (R,) years, see :func:`adoption_gap_years`
    lifecycle: np.ndarray  # (R,) see :func:`lifecycle_cost`
    benefit: np.ndarray | None = None  # (R,) see :func:`quality_pair_years` (None: NaN)


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
    """``num / den``, and 0 where ``den`` is 0 -- or so small that the quotient overflows
    (a lifecycle cost of 5e-324 is no cost: outcomes stay finite)."""
    with np.errstate(over="ignore"):
        r = np.divide(num, den, out=np.zeros(len(num)), where=den > 0)
    return np.where(np.isfinite(r), r, 0.0)


def _service_quality(x: Inputs) -> np.ndarray:
    q = x.series["quality"]
    defined = ~np.isnan(q)
    count = defined.sum(axis=1)
    return _ratio(np.where(defined, q, 0.0).sum(axis=1), count.astype(float))


def _service_loss(x: Inputs) -> np.ndarray:
    served = x.series["coverage"].sum(axis=1)
    lost = x.series["lost_pairs"].sum(axis=1) / (x.n * x.k)
    return _ratio(lost, served + lost)


def _last_year(x: Inputs) -> np.ndarray:
    """Mean coverage over the rows of the last year (steps ((T - 1/dt), T]; all steps
    after the start when the horizon is shorter)."""
    year = x.series["year"]
    last = year[:, -1:] - 1.0 + 1e-9
    rows = (year > last) & (np.arange(year.shape[1]) > 0)
    rows[:, -1] = True
    cov = x.series["coverage"]
    return np.where(rows, cov, 0.0).sum(axis=1) / rows.sum(axis=1)


def _worst_year(x: Inputs) -> np.ndarray:
    """Largest share of served pair-time lost in one calendar year of the run (step t
    belongs to year ceil(t dt) - 1), the same ratio as ``service_loss`` within a year."""
    year = x.series["year"]
    index = np.maximum(np.ceil(year - 1e-9).astype(np.int64) - 1, 0)
    served = x.series["coverage"]
    lost = x.series["lost_pairs"] / (x.n * x.k)[:, None]
    out = np.zeros(len(served))
    for r in range(len(served)):
        s = np.bincount(index[r, 1:], served[r, 1:])
        m = np.bincount(index[r, 1:], lost[r, 1:])
        out[r] = _ratio(m, s + m).max() if len(s) else 0.0
    return out


def adoption_gap_years(step: np.ndarray, capacity: np.ndarray, dt: float, horizon: float) -> float:
    """Mean time to half coverage of the bottom capacity quartile minus the top one.

    ``step``: N x K step at which each pair was served (-1: never); a government that never
    reaches half its services counts at the horizon. Quartiles as the recorder's (stable
    sort by capacity, floor(N / 4) governments, at least one). A distribution measure apart
    from speed: 0 when lagging and leading governments reach half coverage together."""
    n, k = step.shape
    need = (k + 1) // 2
    big = np.iinfo(np.int64).max
    steps = np.where(step >= 0, step, big)
    kth = np.partition(steps, need - 1, axis=1)[:, need - 1]
    years = np.where(kth < big, kth * dt, horizon)
    order = np.argsort(capacity, kind="stable")
    q = max(1, n // 4)
    return float(years[order[:q]].mean() - years[order[-q:]].mean())


def lifecycle_cost(
    data: dict[str, np.ndarray],
    *,
    pairs: int,
    discount_rate: float,
    operation_local: float,
    operation_shared: float,
    crew: float,
    catalogue: float,
    outage: float = 0.0,
    owner_share: float = 1.0,
) -> float:
    """Discounted cost over the run: one-off costs (the ``cost`` column's increments:
    developments, adaptations, modules, deployments, platform, recognition) plus, per step,
    running costs ``dt x (operation_local x locally run pairs + operation_shared x
    contractor-run pairs)``, the contractor's ``crew`` (per year) until every pair is
    served, and the province's ``catalogue`` (per year); each step's costs discounted at
    ``(1 + discount_rate) ^ -year`` (the end of the step). With every running cost and the
    rate 0 it is the final ``cost``. ``outage`` (``costs.outage``): per pair-year lost, of
    the platform's outages only the ``owner_share`` (1 - ``drive.operator_share``)."""
    year = data["year"]
    if len(year) < 2:
        return 0.0
    dt = year[1] - year[0]
    disc = (1.0 + discount_rate) ** -year[1:] if discount_rate > 0 else np.ones(len(year) - 1)
    cost = data["cost"]
    once = np.diff(cost)
    local = (data["served_own"] + data["served_peer"] + data["served_catalogue"])[1:] * pairs
    shared = data["served_contractor"][1:] * pairs
    running = dt * (operation_local * local + operation_shared * shared + catalogue)
    if crew > 0:
        served = data["coverage"] + data["lost_pairs"] / pairs
        full = np.flatnonzero(served[1:] >= 1.0 - 1e-12)
        last = full[0] + 1 if len(full) else len(once)  # steps 1..last pay the crew
        running = running + dt * crew * (np.arange(1, len(once) + 1) <= last)
    if outage > 0:  # lost service: the owner's share of the platform's, all of local ones
        platform = data["outage"][1:] * shared
        running = running + dt * outage * (
            owner_share * platform + data["lost_pairs"][1:] - platform
        )
    if discount_rate == 0 and not running.any():
        return float(cost[-1] - cost[0])  # exactly the final cost
    return float((disc * (once + running)).sum())


def quality_pair_years(
    data: dict[str, np.ndarray], *, pairs: int, discount_rate: float, **_: float
) -> float:
    """The benefit side of :func:`lifecycle_cost` (issue 19): served pair-years weighted by
    quality x fit and by population x demand, ``sum_t dt x quality_t x coverage_weighted_t
    x pairs``, discounted like the costs at ``(1 + discount_rate) ^ -year``. Other keyword
    arguments (the cost parameters of ``RunSetup.extra``) are ignored."""
    year = data["year"]
    if len(year) < 2:
        return 0.0
    dt = year[1] - year[0]
    disc = (1.0 + discount_rate) ** -year[1:] if discount_rate > 0 else np.ones(len(year) - 1)
    quality = np.nan_to_num(data["quality"][1:], nan=0.0)
    return float((disc * dt * quality * data["coverage_weighted"][1:] * pairs).sum())


def _value_for_money(x: Inputs) -> np.ndarray:
    if x.benefit is None:
        return np.full(len(x.lifecycle), np.nan)
    return _ratio(x.benefit.astype(float), x.lifecycle.astype(float))


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
        "coverage_last_year",
        "coverage averaged over the steps of the last year (robust to an outage at the end)",
        "share",
        "max",
        False,
        _DERIVED,
        _last_year,
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
        "duplicate_local",
        "duplicate developments by governments (duplicate_developments minus module ones)",
        "solutions",
        "min",
        True,
        "developments of a service already developed in the same province",
        lambda x: (x.duplicates - x.module_duplicates - x.across).astype(float),
    ),
    Outcome(
        "duplicate_modules",
        "contractor module builds of a service for which a solution already existed",
        "solutions",
        "min",
        True,
        _SUM,
        lambda x: x.module_duplicates.astype(float),
    ),
    Outcome(
        "duplicates_within_province",
        "developments of a service that already had a solution in the same province "
        "(in a province run: duplicate_developments)",
        "solutions",
        "min",
        True,
        _SUM,
        lambda x: (x.duplicates - x.across).astype(float),
    ),
    Outcome(
        "duplicates_across_provinces",
        "national runs: developments that were first in their province but of a service "
        "already developed in another one (0 in a province run)",
        "solutions",
        "min",
        True,
        "national duplicate_developments minus duplicates_within_province",
        lambda x: x.across.astype(float),
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
        "pairs served by a solution already in use elsewhere (peer, catalogue, contractor "
        "deployments after a module's first; imported copies)",
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
        "lifecycle_cost",
        "discounted one-off and running costs: builds, deployments, crew, operation, "
        "migration, the province's recognition and catalogue (see lifecycle_cost)",
        "cost units",
        "min",
        False,
        _SUM,
        lambda x: x.lifecycle.astype(float),
    ),
    Outcome(
        "value_for_money",
        "quality-weighted served pair-years (quality x fit, weighted by population x "
        "demand, discounted like the costs) per unit of lifecycle_cost (issue 19)",
        "pair-years / cost unit",
        "max",
        False,
        "ratio of the sums over provinces",
        _value_for_money,
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
        "mean over services of the best quality among solutions in use at the end (0 if none)",
        "0..1",
        "max",
        False,
        "best in use over provinces, per service",
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
        "worst_year_loss",
        "largest share of served pair-time lost to outages (platform or local) in one year",
        "share",
        "min",
        False,
        _DERIVED,
        _worst_year,
    ),
    Outcome(
        "adoption_gap_years",
        "mean years to half coverage of the bottom capacity quartile minus the top one "
        "(horizon when never reached)",
        "years",
        "min",
        False,
        "quartiles of all governments of the country",
        lambda x: x.adoption_gap.astype(float),
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
    import pandas as pd

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
