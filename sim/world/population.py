"""The local governments of a province: who they are, how many people they serve, how capable.

Two sources:

* **synthetic** — ``n_agents`` governments in ``n_regions`` prefectures of near-equal size;
  lognormal populations; capacity from a Beta distribution with the given mean and s.d.
* **CSV** — one row per prefecture (see :data:`CSV_COLUMNS`). A prefecture's population is
  split among its local governments by a Dirichlet draw; capacity follows the prefecture's
  GDP per capita relative to the richest prefecture, ``c = (g / g_max) ** elasticity``,
  times lognormal within-prefecture noise, clipped to ``[capacity_floor, 1]``.

The prefecture seat (the link between prefectures in the ``hierarchy`` network) is the most
populous government of each prefecture.

A CSV scenario may also name a county table (``population.counties``): then the governments
are the real county-level units, with their own populations and seats (:mod:`sim.world.counties`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..errors import BadInput, Problem
from ..params import PopulationParams

CSV_COLUMNS: dict[str, str] = {
    "name": "prefecture name",
    "local_governments": "number of county-level local governments (integer >= 1)",
    "population": "residents (2020 census)",
    "gdp_100m_yuan": "GDP in 100 million yuan",
    "lat": "latitude of the prefecture seat (degrees)",
    "lon": "longitude of the prefecture seat (degrees)",
}
"""Required columns of a population CSV; others (``name_zh``, ``subregion``) are kept."""

MAX_GDP_100M_YUAN = 1e10
"""Largest GDP of one prefecture, in 100 million yuan (1e18 yuan: above the world's)."""


@dataclass(frozen=True)
class PrefectureTable:
    """A validated prefecture CSV, parsed once when the scenario is loaded."""

    path: str
    frame: pd.DataFrame
    gdp_reference: float | None = None  # GDP per capita of capacity 1; None: the richest row
    counties: Any = None  # sim.world.counties.CountyTable when population.counties names one

    @property
    def gdp_per_capita(self) -> np.ndarray:
        return self.columns["gdp_per_capita"]

    @cached_property
    def columns(self) -> dict[str, Any]:
        """The columns a run needs, as arrays, converted once (runs are built per seed)."""
        f = self.frame
        population = f["population"].to_numpy(float)
        return {
            "units": f["local_governments"].to_numpy(int),
            "population": population,
            "gdp_per_capita": (f["gdp_100m_yuan"].to_numpy(float) * 1e8) / population,
            "names": tuple(f["name"].astype(str)),
            "lat": f["lat"].to_numpy(float),
            "lon": f["lon"].to_numpy(float),
        }


@dataclass(frozen=True)
class Population:
    """The local governments: arrays of length N (plus per-region names)."""

    region: np.ndarray  # int, prefecture index of each government
    region_names: tuple[str, ...]
    population: np.ndarray  # float, residents
    capacity: np.ndarray  # float in (0, 1]
    is_seat: np.ndarray  # bool, the prefecture seat
    lat: np.ndarray  # float, seat latitude of the prefecture (NaN for synthetic; counties: own)
    lon: np.ndarray
    units: pd.DataFrame | None = None  # counties only: adcode, names, prefecture, flag per row

    @property
    def n(self) -> int:
        return len(self.region)


def read_data_csv(
    path: str, scenario_file: str, key: str, columns: dict[str, str]
) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a data CSV that the scenario's ``key`` names (``#`` comments allowed): the
    frame, and the problems found reading it (:func:`sim.world.tables.read_table`: size,
    ragged rows, header, missing ``columns``). Raises when it cannot be read."""
    from .tables import read_table

    return read_table(path, scenario_file, key, columns)


def read_prefectures(path: str, scenario_file: str) -> PrefectureTable:
    """Read and check a prefecture CSV row by row; every problem is reported together."""
    from ..limits import MAX_GOVERNMENTS
    from ..params import MAX_PEOPLE
    from .tables import check_names, check_numbers

    where = str(path)
    frame, problems = read_data_csv(path, scenario_file, "population.source", CSV_COLUMNS)
    problems += check_names(frame, where, "name", "prefecture")
    for col, low, high, low_open, whole in (
        ("local_governments", 1, MAX_GOVERNMENTS, False, True),
        ("population", 0, MAX_PEOPLE, True, False),
        ("gdp_100m_yuan", 0, MAX_GDP_100M_YUAN, True, False),
        ("lat", -90, 90, False, False),
        ("lon", -180, 180, False, False),
    ):
        problems += check_numbers(
            frame, where, col, low=low, high=high, low_open=low_open, whole=whole
        )
    if not problems and frame["local_governments"].sum() > MAX_GOVERNMENTS:
        problems.append(
            Problem(
                where,
                "local_governments",
                f"{frame['local_governments'].sum():,} in all: more than the "
                f"{MAX_GOVERNMENTS:,} local governments a province may have",
            )
        )
    if problems:
        raise BadInput(problems)
    return PrefectureTable(path=where, frame=frame.reset_index(drop=True))


def build_population(
    params: PopulationParams, table: PrefectureTable | None, rng: np.random.Generator
) -> Population:
    """Draw the local governments from the population stream (synthetic, or from a
    prefecture table; county tables are :func:`sim.world.counties.build_population`'s)."""
    if table is None:
        return _synthetic(params, rng)
    return _from_table(params, table, rng)


def _synthetic(p: PopulationParams, rng: np.random.Generator) -> Population:
    n = p.n_agents
    region = np.repeat(
        np.arange(p.n_regions), np.diff(np.linspace(0, n, p.n_regions + 1).round().astype(int))
    )
    sigma = p.population_sigma
    population = p.population_mean * np.exp(sigma * rng.standard_normal(n) - sigma**2 / 2)
    if p.capacity_spread < 1e-6:  # homogeneous (a Beta this narrow is its mean anyway)
        capacity = np.full(n, p.capacity_mean)
    else:
        m, v = p.capacity_mean, p.capacity_spread**2
        k = m * (1 - m) / v - 1  # Beta(a, b) by the method of moments
        capacity = rng.beta(m * k, (1 - m) * k, size=n)
    capacity = np.clip(capacity, p.capacity_floor, 1.0)
    names = tuple(f"R{r + 1:02d}" for r in range(p.n_regions))
    nan = np.full(n, np.nan)
    return Population(
        region, names, population, capacity, _seats(region, population), nan, nan.copy()
    )


def _from_table(
    p: PopulationParams, table: PrefectureTable, rng: np.random.Generator
) -> Population:
    cols = table.columns
    units = cols["units"]
    region = np.repeat(np.arange(len(units)), units)
    population = np.empty(len(region))
    start = 0
    for u, pop in zip(units.tolist(), cols["population"].tolist(), strict=True):
        # Setup only (one Dirichlet per prefecture); never inside the step loop.
        shares = rng.dirichlet(np.full(u, p.split_concentration)) if u > 1 else np.ones(1)
        population[start : start + u] = pop * shares
        start += u
    return Population(
        region=region,
        region_names=cols["names"],
        population=population,
        capacity=prefecture_capacity(p, table, region, rng),
        is_seat=_seats(region, population),
        lat=cols["lat"][region],
        lon=cols["lon"][region],
    )


def prefecture_capacity(
    p: PopulationParams, table: PrefectureTable, region: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """``(g / g_max) ** elasticity`` of each government's prefecture, times lognormal noise."""
    g = table.gdp_per_capita
    g_max = g.max() if table.gdp_reference is None else table.gdp_reference
    base = (g / g_max) ** p.capacity_elasticity
    s = p.capacity_spread
    noise = np.exp(s * rng.standard_normal(len(region)) - s**2 / 2) if s > 0 else 1.0
    return np.clip(base[region] * noise, p.capacity_floor, 1.0)


def _seats(region: np.ndarray, population: np.ndarray) -> np.ndarray:
    """The most populous government of each region (first one on ties)."""
    order = np.lexsort((-population, region))  # by region, then population descending
    first = np.r_[True, region[order][1:] != region[order][:-1]]
    seat = np.zeros(len(region), bool)
    seat[order[first]] = True
    return seat
