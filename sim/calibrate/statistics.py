"""Summary statistics that tell the rules apart, beyond the time-series columns and outcomes.

Coverage and counts over time say how fast services spread, and every rule can be tuned to
spread at a given speed: they are not sufficient statistics for choosing between rules
(Robert et al. 2011, PNAS). The statistics below read *how* a run spread, which is what
the rules differ in. Each is a target ``statistic`` (see :mod:`.targets`), named in
:data:`DERIVED` with what it discriminates; ``timed`` ones are read at a ``year``, the
others are numbers of the whole run (``year`` left empty).

They are computed from what every run already records — the time series, and at the end
of the run the step at which each (government, service) pair was first served, the
governments' capacities and the network — so the engine outputs nothing new for them
(:class:`RunData` gathers those; :func:`run_data` reads them off an engine).

This module may import only NumPy/SciPy and the core's outputs; it does no work at import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

SOURCES = {"own": "served_own", "peer": "served_peer", "catalogue": "served_catalogue",
           "platform": "served_contractor"}  # fmt: skip
"""Source share name -> the time-series column of pairs ever served that way."""


@dataclass(frozen=True)
class RunData:
    """What the derived statistics of one run read.

    ``series``: the time-series columns (``year`` and :data:`SOURCES`' columns at least);
    ``step``: (N, K) step at which each pair was first served, -1 if never; ``capacity``:
    (N,) the governments' capacities; ``adjacency``: the network (sparse, N x N; None for
    a complete graph); ``dt``: years per step; ``horizon``: the run's last year."""

    series: Mapping[str, np.ndarray]
    step: np.ndarray | None
    capacity: np.ndarray | None
    adjacency: Any
    dt: float
    horizon: float


@dataclass(frozen=True)
class Derived:
    """One derived statistic: its meaning, what it discriminates, and how it is computed."""

    name: str
    timed: bool  # read at a year (True) or a number of the whole run
    per_government: bool  # needs the end state per government (not only the series)
    meaning: str
    discriminates: str
    compute: Callable[[RunData, float | None], float]


def _share(source: str) -> Callable[[RunData, float | None], float]:
    def share(run: RunData, year: float | None) -> float:
        years = np.asarray(run.series["year"], dtype=float)
        values = {
            s: float(np.interp(year, years, np.asarray(run.series[c], dtype=float)))
            for s, c in SOURCES.items()
        }
        total = sum(values.values())
        return values[source] / total if total > 0 else 0.0

    return share


def first_platform_year(run: RunData, year: float | None = None) -> float:
    """Years until the platform first serves a pair; one step past the horizon if never
    (a finite number, so that distances and forests can use it)."""
    served = np.asarray(run.series["served_contractor"], dtype=float) > 0
    if not served.any():
        return run.horizon + run.dt
    return float(np.asarray(run.series["year"], dtype=float)[int(np.argmax(served))])


def t50(run: RunData) -> np.ndarray:
    """Per government, the years until it offered half of its services; censored at one
    step past the horizon for those that never did (see :func:`first_platform_year`)."""
    step = run.step
    assert step is not None
    _n, k = step.shape
    need = (k + 1) // 2
    big = np.iinfo(np.int64).max
    kth = np.partition(np.where(step >= 0, step, big), need - 1, axis=1)[:, need - 1]
    never = run.horizon + run.dt
    return np.where(kth < big, kth * run.dt, never).astype(float)


def t50_capacity_slope(run: RunData, year: float | None = None) -> float:
    """Least-squares slope of t50 (years) on capacity across governments (0 when either
    does not vary)."""
    y, c = t50(run), np.asarray(run.capacity, dtype=float)
    cc = c - c.mean()
    var = float(cc @ cc)
    return float(cc @ (y - y.mean()) / var) if var > 0 else 0.0


def t50_moran(run: RunData, year: float | None = None) -> float:
    """Moran's I of t50 over the network (binary weights): near 0 when the order in which
    governments adopt ignores the map, positive when neighbours adopt at similar times.
    0 when t50 does not vary."""
    z = t50(run)
    z = z - z.mean()
    ss = float(z @ z)
    n = z.size
    if ss <= 0 or n < 2:
        return 0.0
    if run.adjacency is None:  # complete graph: every pair of governments are neighbours
        cross, links = float(z.sum() ** 2 - ss), n * (n - 1)
    else:
        cross, links = float(z @ (run.adjacency @ z)), float(run.adjacency.sum())
    return n / links * cross / ss if links > 0 else 0.0


def first_rich_share(run: RunData, year: float | None = None) -> float:
    """Share of services first offered in the richest quartile (by capacity): for each
    service ever served, the share of the governments that served it first (ties split)
    that are in the top quartile, averaged over those services; 0 if none was served."""
    step = np.asarray(run.step)
    capacity = np.asarray(run.capacity, dtype=float)
    n = capacity.size
    quart = max(1, n // 4)
    top = np.zeros(n, bool)
    top[np.argsort(capacity, kind="stable")[-quart:]] = True  # as the recorder's top quartile
    served = step >= 0
    any_served = served.any(axis=0)
    if not any_served.any():
        return 0.0
    first = np.where(served, step, np.iinfo(np.int64).max).min(axis=0)
    tied = served & (step == first[None, :])
    share = (tied & top[:, None]).sum(axis=0) / np.maximum(tied.sum(axis=0), 1)
    return float(share[any_served].mean())


DERIVED: dict[str, Derived] = {
    d.name: d
    for d in (
        *(
            Derived(
                f"share_{s}",
                True,
                False,
                "share of the pairs served so far that were first served by "
                + {
                    "own": "the government's own development",
                    "peer": "reuse from a neighbour",
                    "catalogue": "reuse from the provincial catalogue",
                    "platform": "the contractor's platform",
                }[s],
                {
                    "own": "local development against deployment: high under grassroots, "
                    "low under the contractor's crowding out",
                    "peer": "neighbours learn under every rule, crowded out under the contractor",
                    "catalogue": "the catalogue exists under grassroots and hybrid only",
                    "platform": "0 under grassroots; the hybrid platform deploys recognised "
                    "local solutions, so it starts later and shares with own development",
                }[s],
                _share(s),
            )
            for s in SOURCES
        ),
        Derived(
            "first_platform_year",
            False,
            False,
            "years until the platform first serves a pair (one step past the horizon if never)",
            "grassroots (never), contractor (its build time), hybrid (after the first "
            "recognition of a local solution)",
            first_platform_year,
        ),
        Derived(
            "t50_capacity_slope",
            False,
            True,
            "least-squares slope of each government's t50 (years to offer half of its "
            "services) on its capacity",
            "grassroots: richer governments develop first (negative slope); the "
            "platform's rollout order need not follow capacity",
            t50_capacity_slope,
        ),
        Derived(
            "t50_moran",
            False,
            True,
            "Moran's I of t50 over the scenario's network (binary weights)",
            "peer learning spreads along borders (positive); the platform deploys in its "
            "rollout order, indifferent to the map",
            t50_moran,
        ),
        Derived(
            "first_rich_share",
            False,
            True,
            "share of services first offered in the richest capacity quartile",
            "grassroots: innovations start where capacity is (high); the contractor "
            "deploys everything everywhere in rollout order (about a quarter)",
            first_rich_share,
        ),
    )
}
"""The derived statistics a target row can name, in documentation order."""


def run_data(engine: Any) -> RunData:
    """The :class:`RunData` of a finished :class:`~sim.core.engine.Engine` run."""
    data = engine.recorder.data
    t = engine.t
    series = {c: v[: t + 1] for c, v in data.items()}
    net = engine.world.network
    return RunData(
        series=series,
        step=np.asarray(engine.state.step),
        capacity=np.asarray(engine.world.population.capacity, dtype=float),
        adjacency=None if net.complete else net.adjacency,
        dt=float(engine.scenario.dt),
        horizon=float(series["year"][-1]),
    )


def table() -> str:
    """The derived statistics as a Markdown table (for docs/calibration.md)."""
    lines = ["| statistic | year | what it is | what it tells apart |", "| --- | --- | --- | --- |"]
    for d in DERIVED.values():
        lines.append(f"| `{d.name}` | {'required' if d.timed else 'empty'} | {d.meaning} | "
                     f"{d.discriminates} |")  # fmt: skip
    return "\n".join(lines)


__all__ = ["DERIVED", "SOURCES", "Derived", "RunData", "run_data", "table"]
