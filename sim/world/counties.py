"""Real local governments: the county-level units of a province, by name, on their borders.

A scenario names a county table with ``population.counties`` (for example
``data/zhejiang_counties.csv``, built by ``scenarios/data/build_counties.py``), next to its
prefecture table ``population.source``. Each row is one local government (see
:data:`COUNTY_COLUMNS`); the files beside it, found by name, are

* ``<stem>_contiguity.csv`` (``zhejiang_counties.csv`` -> ``zhejiang_contiguity.csv``): the
  pairs of units that share a border line, needed by the networks ``contiguity`` and
  ``contiguity+hierarchy``;
* ``<stem>_counties.geojson``: the polygons, only for drawing maps (:mod:`sim.interactive.maps`).

Population: the table's 2020 figures (census or estimated, as flagged), fixed; no random split.
Capacity: as for a prefecture table, from the prefecture's GDP per capita with within-prefecture
noise (:func:`sim.population.prefecture_capacity`).

Networks:

* ``contiguity``: governments that share a border. A government with no border inside the
  province (an island county) is linked to the nearest government of its prefecture (centroid
  distance); a group still cut off from the rest (an archipelago, e.g. Zhoushan's) is linked by
  its closest pair of centroids to the rest, until the network is connected;
* ``contiguity+hierarchy``: the same, plus each government to its prefecture's seat and each
  seat to the seat of the provincial capital.

Read once when the scenario loads (:func:`read_counties`) and carried on the prefecture table,
so sweeps ship it to their workers with the scenario; only NumPy, SciPy and pandas at run time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..errors import BadInput, Problem

if TYPE_CHECKING:
    from ..params import PopulationParams
    from .population import Population, PrefectureTable

COUNTY_COLUMNS: dict[str, str] = {
    "adcode": "administrative code (integer, unique)",
    "name_zh": "name in Chinese",
    "name": "name in pinyin",
    "prefecture": "prefecture (a name of the population.source table)",
    "seat": "0; 1 = the prefecture's seat; 2 = the seat of the provincial capital",
    "lat": "centroid latitude (degrees)",
    "lon": "centroid longitude (degrees)",
    "population_2020": "residents (2020)",
    "population_flag": "census or estimated",
}
"""Required columns of a county table; others (kind, area_km2, sources) are kept. Optional
``label_lat``/``label_lon``: a point inside the unit, used instead of the centroid for where
the unit is (maps, ``agents.csv``, the island links)."""

CONTIGUITY_COLUMNS: dict[str, str] = {
    "adcode_a": "adcode of one unit",
    "adcode_b": "adcode of a unit sharing a border line with it",
}
"""Required columns of a contiguity table (``shared_border_km`` is kept if present)."""

FLAGS = ("census", "estimated")
AGENT_COLUMNS = ("adcode", "name_zh", "name", "prefecture", "population_flag")
"""Columns of the county table copied into ``agents.csv`` (after ``agent_id``)."""

CONTIGUITY_NETWORKS = ("contiguity", "contiguity+hierarchy")


def contiguity_path(counties: str | Path) -> Path:
    """``x/zhejiang_counties.csv`` -> ``x/zhejiang_contiguity.csv``."""
    path = Path(counties)
    stem = path.stem.removesuffix("_counties")
    return path.with_name(f"{stem}_contiguity.csv")


def boundaries_path(counties: str | Path) -> Path:
    """``x/zhejiang_counties.csv`` -> ``x/zhejiang_counties.geojson``."""
    return Path(counties).with_suffix(".geojson")


@dataclass(frozen=True)
class CountyTable:
    """A validated county table (rows in government order) and its border pairs."""

    path: str
    frame: pd.DataFrame
    region: np.ndarray  # prefecture index of each government (prefecture table order)
    borders: np.ndarray | None  # E x 2 government indices sharing a border (i < j)

    @property
    def n(self) -> int:
        return len(self.frame)

    @property
    def boundaries(self) -> Path:
        return boundaries_path(self.path)

    @cached_property
    def units(self) -> pd.DataFrame:
        """The identity columns that ``agents.csv`` carries (:data:`AGENT_COLUMNS`)."""
        return self.frame[list(AGENT_COLUMNS)].reset_index(drop=True)

    def adjacency(self, *, hierarchy: bool) -> sp.csr_array:
        """The contiguity network, built once per table (it depends on the data only, not on
        the seed) and copied for each run."""
        cache = self.__dict__.setdefault("_adjacency", {})
        if hierarchy not in cache:
            cache[hierarchy] = contiguity_adjacency(self, hierarchy=hierarchy)
        return cache[hierarchy].copy()

    @cached_property
    def columns(self) -> dict[str, np.ndarray]:
        f = self.frame
        # where the unit is: its label point (inside its largest part) when the table has one,
        # else the centroid (which for a unit with far islands can lie at sea)
        label = all(c in f and f[c].notna().all() for c in ("label_lat", "label_lon"))
        lat, lon = ("label_lat", "label_lon") if label else ("lat", "lon")
        return {
            "population": f["population_2020"].to_numpy(float),
            "seat": f["seat"].to_numpy(int),
            "lat": pd.to_numeric(f[lat]).to_numpy(float),
            "lon": pd.to_numeric(f[lon]).to_numpy(float),
        }


def read_counties(
    path: str, scenario_file: str, prefectures: PrefectureTable, *, need_borders: bool
) -> CountyTable:
    """Read and check a county table against its prefecture table; with ``need_borders``,
    also its contiguity file. Every problem of a file is reported together."""
    from .population import read_data_csv

    where = str(path)
    frame, problems = read_data_csv(path, scenario_file, "population.counties", COUNTY_COLUMNS)
    if not problems:
        problems = _check_counties(frame, where, prefectures)
    if problems:
        raise BadInput(problems)
    names = list(prefectures.columns["names"])
    region = frame["prefecture"].map({name: i for i, name in enumerate(names)}).to_numpy(int)
    order = np.argsort(region, kind="stable")  # governments grouped by prefecture
    frame = frame.iloc[order].reset_index(drop=True)
    region = region[order]
    borders = None
    if need_borders:
        borders = _read_borders(contiguity_path(path), scenario_file, frame)
    shapes = boundaries_path(path)
    if shapes.is_file():  # the map's polygons: a damaged file is a message, not a traceback
        stat = shapes.stat()
        problems = check_boundaries(str(shapes), stat.st_mtime_ns, stat.st_size)
        if problems:
            raise BadInput(problems)
    return CountyTable(path=where, frame=frame, region=region, borders=borders)


def _check_counties(frame: pd.DataFrame, where: str, prefectures: PrefectureTable) -> list[Problem]:
    problems: list[Problem] = []
    if frame.empty:
        return [Problem(where, "", "no rows")]
    from ..params import MAX_PEOPLE
    from .tables import check_numbers

    # bounded and finite as the prefecture table's columns are (an inf population would
    # weigh coverage by inf/inf = NaN -> 0; a latitude of 999 puts a county off the map)
    for col, low, high, low_open, whole in (
        ("adcode", 0, 999_999_999, False, True),
        ("seat", 0, 2, False, True),
        ("lat", -90, 90, False, False),
        ("lon", -180, 180, False, False),
        ("population_2020", 0, MAX_PEOPLE, True, False),
    ):
        problems += check_numbers(
            frame, where, col, low=low, high=high, low_open=low_open, whole=whole
        )
    numbers_bad = bool(problems)  # then the counts below cannot be made
    if not numbers_bad and frame["adcode"].duplicated().any():
        dup = sorted(set(frame.loc[frame["adcode"].duplicated(), "adcode"].astype(int)))
        problems.append(Problem(where, "adcode", f"repeated: {', '.join(map(str, dup[:5]))}"))
    if not frame["population_flag"].isin(FLAGS).all():
        bad = frame.index[~frame["population_flag"].isin(FLAGS)].tolist()
        problems.append(
            Problem(where, "population_flag", f"must be census or estimated ({_rows(bad)})")
        )
    names = list(prefectures.columns["names"])
    unknown = sorted(set(frame["prefecture"].astype(str)) - set(names))
    if unknown:
        problems.append(
            Problem(
                where,
                "prefecture",
                f"not in {prefectures.path}: {', '.join(unknown[:5])}; valid: {', '.join(names)}",
            )
        )
        return problems
    counts = frame.groupby("prefecture").size().reindex(names, fill_value=0)
    if numbers_bad:  # seats are not numbers yet: count the governments only
        seats = pd.Series(1, index=names)
    else:
        seats = (frame["seat"] > 0).groupby(frame["prefecture"]).sum().reindex(names, fill_value=0)
    for name, units, n in zip(names, prefectures.columns["units"], counts, strict=True):
        if n != units:
            problems.append(
                Problem(
                    where,
                    "prefecture",
                    f"{name} has {n} governments here but local_governments = {units} in "
                    f"{prefectures.path}",
                )
            )
        elif seats[name] != 1:
            problems.append(
                Problem(where, "seat", f"{name} needs one seat (seat 1 or 2), has {seats[name]}")
            )
    if not numbers_bad and (frame["seat"] == 2).sum() != 1:
        problems.append(
            Problem(where, "seat", "exactly one government must be the capital's seat (seat 2)")
        )
    return problems


def _read_borders(path: Path, scenario_file: str, counties: pd.DataFrame) -> np.ndarray:
    """Border pairs as government indices, checked against the county table."""
    from .population import read_data_csv

    where = str(path)
    if not path.is_file():
        raise BadInput.one(
            scenario_file,
            "population.network",
            f"the contiguity networks need the borders file {path} beside population.counties",
        )
    frame, problems = read_data_csv(where, scenario_file, "population.counties", CONTIGUITY_COLUMNS)
    if not problems:
        index = {int(a): i for i, a in enumerate(counties["adcode"])}
        ends = []
        for col in CONTIGUITY_COLUMNS:
            codes = pd.to_numeric(frame[col], errors="coerce")
            bad = frame.index[codes.isna() | ~codes.isin(list(index))].tolist()
            if bad:
                problems.append(
                    Problem(where, col, f"not an adcode of the county table in {_rows(bad)}")
                )
            else:
                ends.append(codes.astype(int).map(index).to_numpy(int))
        if not problems:
            a, b = ends
            same = np.flatnonzero(a == b).tolist()
            if same:
                message = f"a unit paired with itself in {_rows(same)}"
                problems.append(Problem(where, "adcode_b", message))
            else:
                pairs = np.unique(np.sort(np.column_stack([a, b]), axis=1), axis=0)
                return pairs.reshape(-1, 2)
    raise BadInput(problems)


@functools.lru_cache(maxsize=16)
def check_boundaries(path: str, mtime_ns: int = 0, size: int = 0) -> list[Problem]:
    """The polygons file as :func:`sim.interactive.polygons.read_boundaries` reads it: a
    GeoJSON object with ``features``, each a Polygon or MultiPolygon of rings of finite
    (lon, lat) pairs with a whole ``properties.adcode``. Cached by path, time and size."""
    import json

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return [Problem(path, "", f"not readable GeoJSON (the map's county polygons): {exc}")]
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        return [Problem(path, "features", "missing or not a list: not a GeoJSON FeatureCollection")]
    bad: list[int] = []
    for i, feature in enumerate(features):
        try:
            geometry = feature["geometry"]
            polygons = geometry["coordinates"]
            kind = geometry["type"]
            int(feature["properties"]["adcode"])
            if kind == "Polygon":
                polygons = [polygons]
            elif kind != "MultiPolygon":
                raise ValueError(kind)
            for polygon in polygons:
                for ring in polygon:
                    xy = np.asarray(ring, float)
                    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) < 3:
                        raise ValueError("ring")
                    if not np.isfinite(xy).all():
                        raise ValueError("finite")
        except (KeyError, TypeError, ValueError, IndexError):
            bad.append(i + 1)
    if bad:
        return [Problem(path, "features", f"damaged feature(s) {_list(bad)}: each needs "
                        "properties.adcode and a Polygon or MultiPolygon geometry of finite "
                        "lon, lat rings")]  # fmt: skip
    return []


def _list(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:5]))
    return shown + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")


def _rows(index: list[int]) -> str:
    return "data row(s) " + ", ".join(str(r + 1) for r in index[:5])


# ---- population ----------------------------------------------------------------------------


def build_population(
    params: PopulationParams, table: PrefectureTable, rng: np.random.Generator
) -> Population:
    """The governments of the county table: fixed populations, capacity from the prefecture's
    GDP per capita with noise drawn from the population stream."""
    from .population import Population, prefecture_capacity

    counties: CountyTable = table.counties
    cols = counties.columns
    return Population(
        region=counties.region,
        region_names=table.columns["names"],
        population=cols["population"].copy(),
        capacity=prefecture_capacity(params, table, counties.region, rng),
        is_seat=cols["seat"] > 0,
        lat=cols["lat"].copy(),
        lon=cols["lon"].copy(),
        units=counties.units,
    )


def agent_columns(pop: Population) -> dict[str, object]:
    """The county table's identity columns for ``agents.csv`` (empty for other populations)."""
    if pop.units is None:
        return {}
    return {c: pop.units[c].to_numpy() for c in AGENT_COLUMNS}


def half_served_years(step: np.ndarray, dt: float) -> np.ndarray:
    """Per government, the time (years) at which it first offered at least half of its K
    services (``step``: N x K step at which each pair was served, -1 if never); NaN if never.
    A pair once served stays served, so this is the ceil(K/2)-th smallest serving step."""
    n, k = step.shape
    if n == 0:
        return np.zeros(0)
    need = (k + 1) // 2
    steps = np.where(step >= 0, step, np.iinfo(np.int64).max)
    kth = np.partition(steps, need - 1, axis=1)[:, need - 1]
    return np.where(kth < np.iinfo(np.int64).max, kth * dt, np.nan)


# ---- networks ------------------------------------------------------------------------------


def contiguity_adjacency(counties: CountyTable, *, hierarchy: bool) -> sp.csr_array:
    """The ``contiguity`` (or with ``hierarchy``, ``contiguity+hierarchy``) network; use the
    cached :meth:`CountyTable.adjacency`."""
    assert counties.borders is not None
    n = counties.n
    cols = counties.columns
    is_seat = cols["seat"] > 0
    xy = _plane(cols["lat"], cols["lon"])
    edges = [counties.borders]
    degree = np.bincount(counties.borders.ravel(), minlength=n)
    region = counties.region
    for i in np.flatnonzero(degree == 0):  # islands: the nearest unit of the prefecture
        mates = np.flatnonzero((region == region[i]) & (np.arange(n) != i))
        if len(mates):
            j = mates[np.argmin(np.hypot(*(xy[mates] - xy[i]).T))]
            edges.append(np.array([[min(i, j), max(i, j)]]))
    if hierarchy:
        seat_of = np.full(region.max() + 1, -1)
        seat_of[region[is_seat]] = np.flatnonzero(is_seat)
        capital = int(np.flatnonzero(cols["seat"] == 2)[0])
        members = np.flatnonzero(~is_seat)
        seats = np.flatnonzero(is_seat & (np.arange(n) != capital))
        edges.append(np.column_stack([members, seat_of[region[members]]]))
        edges.append(np.column_stack([seats, np.full(len(seats), capital)]))
    adj = _symmetric(np.vstack(edges), n)
    return _connect(adj, xy)


def _plane(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Equirectangular km (distances over a province: well under 1 % off great circles)."""
    lat0 = np.radians(lat.mean())
    return np.column_stack([lon * np.cos(lat0), lat]) * 111.2


def _symmetric(edges: np.ndarray, n: int) -> sp.csr_array:
    a, b = edges[:, 0], edges[:, 1]
    keep = a != b
    a, b = a[keep], b[keep]
    adj = sp.csr_array(
        (np.ones(2 * len(a)), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n)
    )
    adj.sum_duplicates()
    adj.data[:] = 1.0
    adj.sort_indices()
    return adj


def _connect(adj: sp.csr_array, xy: np.ndarray) -> sp.csr_array:
    """Link each group cut off from the largest one by its closest pair of centroids."""
    n = adj.shape[0]
    while True:
        count, label = connected_components(adj, directed=False)
        if count <= 1:
            return adj
        main = np.argmax(np.bincount(label))
        inside = np.flatnonzero(label == main)
        other = np.flatnonzero(label == min(c for c in range(count) if c != main))
        dist = np.hypot(*(xy[other][:, None, :] - xy[inside][None, :, :]).transpose(2, 0, 1))
        i, j = np.unravel_index(np.argmin(dist), dist.shape)
        extra = np.array([[other[i], inside[j]]])
        rows, cols = adj.nonzero()
        adj = _symmetric(np.vstack([np.column_stack([rows, cols]), extra]), n)


def county_table(scenario: object) -> CountyTable | None:
    """The scenario's county table (``population.counties``), or None."""
    table = getattr(scenario, "prefectures", None)
    return getattr(table, "counties", None)
