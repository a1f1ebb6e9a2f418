"""The provinces of a national scenario: the data file, and one province as a prefecture table.

A national scenario (``national.source``) names a CSV with one row per province (see
:data:`PROVINCE_COLUMNS`). Each province becomes a :class:`~sim.world.population.PrefectureTable`
of ``prefectures`` equal rows that share the province's population and GDP per capita, so
that :func:`sim.world.population.build_population` draws its local governments exactly as for a
province scenario: populations split by Dirichlet draws, capacity
``(GDP per capita / highest in the country) ^ elasticity`` times lognormal noise. The
reference is the richest *province*, so capacities are comparable across the country.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import BadInput, Problem, did_you_mean
from .population import PrefectureTable, read_data_csv

if TYPE_CHECKING:
    from ..params import Scenario

PROVINCE_COLUMNS: dict[str, str] = {
    "name": "province name (unique; the keys of national.rules)",
    "prefectures": "number of prefecture-level divisions (integer >= 1)",
    "local_governments": "number of county-level local governments (integer >= prefectures)",
    "population_2020": "residents (2020 census)",
    "gdp_per_capita_yuan": "GDP per capita in yuan",
}
"""Required columns of a provinces CSV; others (``name_zh``, ``code``) are kept."""

MAX_GDP_PER_CAPITA_YUAN = 1e9
"""Largest GDP per capita of a province, in yuan (far above any real one)."""


@dataclass(frozen=True)
class ProvinceTable:
    """A validated provinces CSV, parsed once when the scenario is loaded."""

    path: str
    frame: pd.DataFrame

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.frame["name"])

    @property
    def sizes(self) -> np.ndarray:
        """Local governments per province."""
        return self.frame["local_governments"].to_numpy(int)

    def prefecture_table(self, p: int) -> PrefectureTable:
        """Province ``p`` as ``prefectures`` equal prefectures (no seat coordinates); made
        once per table (every national run reads all of them)."""
        cache = self.__dict__.setdefault("_prefecture_tables", {})
        if p not in cache:
            cache[p] = self._prefecture_table(p)
        return cache[p]

    def _prefecture_table(self, p: int) -> PrefectureTable:
        row = self.frame.iloc[p]
        regions = int(row["prefectures"])
        n = int(row["local_governments"])
        units = np.diff(np.linspace(0, n, regions + 1).round().astype(int))
        population = float(row["population_2020"]) / regions
        gdp_pc = float(row["gdp_per_capita_yuan"])
        frame = pd.DataFrame(
            {
                "name": [f"{row['name']} {r + 1}" for r in range(regions)],
                "local_governments": units,
                "population": np.full(regions, population),
                "gdp_100m_yuan": np.full(regions, gdp_pc * population / 1e8),
                "lat": np.full(regions, np.nan),
                "lon": np.full(regions, np.nan),
            }
        )
        richest = float(self.frame["gdp_per_capita_yuan"].max())
        return PrefectureTable(f"{self.path}#{row['name']}", frame, gdp_reference=richest)


def read_provinces(scenario: Scenario, scenario_file: str) -> ProvinceTable:
    """Read and check ``national.source`` and the rule table against it (all problems at once)."""
    from ..limits import MAX_GOVERNMENTS, MAX_PROVINCES
    from ..params import MAX_PEOPLE
    from .tables import check_names, check_numbers

    path = scenario.national.source
    frame, problems = read_data_csv(path, scenario_file, "national.source", PROVINCE_COLUMNS)
    suffix = f" (the national.source of {scenario_file})"
    if problems:
        raise BadInput(Problem(p.source, p.key, p.message + suffix) for p in problems)
    if len(frame) > MAX_PROVINCES:
        raise BadInput.one(
            path,
            "",
            f"{len(frame):,} provinces: more than the {MAX_PROVINCES:,} a national scenario "
            "may have (they are coupled pairwise every step)" + suffix,
        )
    problems += check_names(frame, path, "name", "province")
    for col, high, whole in (
        ("prefectures", MAX_GOVERNMENTS, True),
        ("local_governments", MAX_GOVERNMENTS, True),
        ("population_2020", MAX_PEOPLE, False),
        ("gdp_per_capita_yuan", MAX_GDP_PER_CAPITA_YUAN, False),
    ):
        problems += check_numbers(frame, path, col, low=0, high=high, low_open=True, whole=whole)
    if not problems:
        bad = frame.index[frame["prefectures"] > frame["local_governments"]].tolist()
        if bad:
            rows = ", ".join(str(r + 1) for r in bad[:5])
            problems.append(
                Problem(path, "prefectures", f"exceeds local_governments (data row(s) {rows})")
            )
    if problems:
        raise BadInput(problems)
    table = ProvinceTable(path, frame.reset_index(drop=True))
    for name in scenario.national.rules:
        if name not in table.names:
            problems.append(
                Problem(
                    scenario_file,
                    f"national.rules.{name}",
                    "not a province of national.source" + did_you_mean(name, table.names),
                )
            )
    pop = scenario.population
    smallest = int(table.sizes.min())
    if pop.network == "small_world" and pop.mean_degree >= smallest:
        problems.append(
            Problem(
                scenario_file,
                "population.mean_degree",
                f"must be below the {smallest} local governments of the smallest province",
            )
        )
    if problems:
        raise BadInput(problems)
    return table
