"""Maps of the real counties: ``map.png`` of ``sim run`` and ``maps.png`` of ``sim compare``.

Only for scenarios with a county table (``population.counties``) whose polygons file
``<stem>_counties.geojson`` exists (:func:`sim.world.counties.boundaries_path`); synthetic scenarios
keep the point maps of :mod:`sim.viz`. Polygons are read with :mod:`json` and drawn with
matplotlib (no geopandas, no shapely at run time).

What a map shows, per county:

* fill: the time (years) at which it first offered half of its services (``t50_years`` in
  ``agents.csv``): dark = early, light = late, grey hatched = not within the horizon. In
  ``maps.png`` the fill is the mean over replicates, a replicate that never got there counting
  as the horizon, on one colour scale for every rule;
* marker at the centroid: how most of its services came (own development, peer reuse,
  catalogue, contractor: the shapes of the teaching app's map). In ``maps.png``: summed over
  replicates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..experiments.compare import Comparison
    from ..params import Scenario
    from ..run import RunResult

SOURCE_COLUMNS = ("own", "peer", "catalogue", "contractor")
"""Columns of ``agents.csv`` counting a government's services by source, in Source order."""
CMAP = "viridis"
MISSING = "#d9d9d9"


def boundaries_for(scenario: Scenario) -> Path | None:
    """The polygons file of a county scenario, or of a national scenario's provinces
    (:mod:`sim.interactive.province_maps`), or None (synthetic, or no file)."""
    from ..world.counties import county_table

    if scenario.is_national:
        from .province_maps import province_boundaries

        return province_boundaries(scenario)

    table = county_table(scenario)
    if table is None or not table.boundaries.is_file():
        return None
    return table.boundaries


def read_boundaries(path: Path) -> dict[int, list[np.ndarray]]:
    """adcode -> rings (each an M x 2 array of lon, lat), exteriors counter-clockwise and
    holes clockwise, so that matplotlib's non-zero fill leaves holes empty."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out: dict[int, list[np.ndarray]] = {}
    for feature in data["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        rings = []
        for polygon in polygons:
            for k, ring in enumerate(polygon):
                xy = np.asarray(ring, float)
                ccw = _signed_area(xy) > 0
                rings.append(xy if ccw == (k == 0) else xy[::-1])
        out[int(feature["properties"]["adcode"])] = rings
    return out


def _signed_area(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def dominant_source(agents: pd.DataFrame) -> np.ndarray:
    """Per government, 1..4 (own, peer, catalogue, contractor) for the most common source of
    its services, 0 when none is served (ties: the first)."""
    counts = agents[list(SOURCE_COLUMNS)].to_numpy()
    main = np.argmax(counts, axis=1) + 1
    main[counts.sum(axis=1) == 0] = 0
    return main


def draw_counties(
    ax: Axes,
    shapes: Mapping[int, list[np.ndarray]],
    adcodes: Sequence[int],
    values: np.ndarray,
    main: np.ndarray,
    lat_lon: np.ndarray,
    *,
    vmax: float,
    cmap: object = CMAP,
) -> object:
    """Fill each county by ``values`` (NaN: grey, hatched), mark its centroid by ``main``;
    returns the mappable for a colour bar."""
    import matplotlib as mpl
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    from .viz import MARKERS

    patches, missing = [], []
    for code, value in zip(adcodes, values, strict=True):
        path = MplPath.make_compound_path(*(MplPath(r, closed=True) for r in shapes[int(code)]))
        (missing if np.isnan(value) else patches).append(PathPatch(path))
    norm = mpl.colors.Normalize(vmin=0.0, vmax=vmax)
    filled = PatchCollection(patches, cmap=cmap, norm=norm, edgecolor="white", linewidth=0.35)
    filled.set_array(values[~np.isnan(values)])
    ax.add_collection(filled)
    if missing:
        ax.add_collection(
            PatchCollection(
                missing, facecolor=MISSING, edgecolor="white", linewidth=0.35, hatch="////"
            )
        )
    for code in range(1, 5):
        hit = main == code
        if hit.any():
            ax.scatter(
                lat_lon[hit, 1],
                lat_lon[hit, 0],
                marker=MARKERS[code],
                s=14,
                facecolor="white",
                edgecolor="#1d1d1d",
                linewidth=0.6,
                zorder=3,
            )
    # the frame: every unit's largest part (far islets such as the Dongsha atoll, drawn as
    # part of Shanwei's 城区, would shrink the province to a corner)
    main_parts = np.vstack(
        [
            max(rings, key=lambda r: abs(_signed_area(r)))
            for rings in (shapes[int(c)] for c in adcodes)
        ]
    )
    lo, hi = main_parts.min(axis=0), main_parts.max(axis=0)
    pad = 0.03 * float((hi - lo).max())
    ax.set_xlim(lo[0] - pad, hi[0] + pad)
    ax.set_ylim(lo[1] - pad, hi[1] + pad)
    ax.set_aspect(1 / np.cos(np.radians((lo[1] + hi[1]) / 2)))
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return mpl.cm.ScalarMappable(norm=norm, cmap=cmap)


def _scale(values: np.ndarray, horizon: float) -> float:
    """Top of the colour scale: the latest value rounded up to a whole year (the horizon if
    nothing is finite), so a run where everyone is early still shows its differences."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return float(horizon)
    return float(min(max(np.ceil(finite.max()), 1.0), np.ceil(horizon)))


def _legend(fig: Figure, *, missing_label: str | None) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .viz import MARKERS, SOURCE_LABELS

    handles = [
        Line2D(
            [],
            [],
            marker=MARKERS[code],
            linestyle="",
            markerfacecolor="white",
            markeredgecolor="#1d1d1d",
            markersize=7,
            label=SOURCE_LABELS[code],
        )
        for code in range(1, 5)
    ]
    if missing_label:
        handles.append(
            Patch(facecolor=MISSING, hatch="////", edgecolor="white", label=missing_label)
        )
    fig.legend(handles=handles, loc="lower center", ncol=5, frameon=False, fontsize=8)


def _save(fig: Figure, path: Path) -> None:
    from ..io import atomic_write

    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=130, format="png"))


def run_map(result: RunResult, scenario: Scenario, path: Path) -> None:
    """``map.png`` of one run: when each county first offered half of its services."""
    from matplotlib.figure import Figure

    if scenario.is_national:
        from .province_maps import province_run_map

        return province_run_map(result, scenario, path)

    shapes = read_boundaries(boundaries_for(scenario))  # type: ignore[arg-type]
    agents = result.agents
    fig = Figure(figsize=(7.2, 6.4))
    ax = fig.add_axes((0.02, 0.1, 0.82, 0.82))
    mappable = draw_counties(
        ax,
        shapes,
        agents["adcode"].to_numpy(),
        agents["t50_years"].to_numpy(float),
        dominant_source(agents),
        agents[["lat", "lon"]].to_numpy(float),
        vmax=_scale(agents["t50_years"].to_numpy(float), scenario.time.years),
    )
    bar = fig.colorbar(mappable, cax=fig.add_axes((0.86, 0.2, 0.025, 0.6)))
    bar.set_label("years until half of its services")
    ax.set_title(
        f"{scenario.name} · rule {result.rule} · seed {result.seed}: when each county first "
        "offered half of its services\n(marker: how most of its services came)",
        fontsize=9,
    )
    _legend(fig, missing_label=f"not within {scenario.time.years:g} years")
    _save(fig, path)


def compare_maps(cmp: Comparison, path: Path) -> None:
    """``maps.png``: the rules side by side, mean over replicates, one colour scale."""
    from matplotlib.figure import Figure

    if cmp.scenario.is_national:
        from .province_maps import province_compare_maps

        return province_compare_maps(cmp, path)

    scenario = cmp.scenario
    shapes = read_boundaries(boundaries_for(scenario))  # type: ignore[arg-type]
    horizon = scenario.n_steps * scenario.dt
    panels = {}
    for rule in cmp.rules:
        runs = cmp.agents[rule]
        t50 = np.vstack([a["t50_years"].to_numpy(float) for a in runs])
        counts = sum(a[list(SOURCE_COLUMNS)].to_numpy() for a in runs)
        total = pd.DataFrame(counts, columns=list(SOURCE_COLUMNS))
        panels[rule] = (np.nan_to_num(t50, nan=horizon).mean(axis=0), dominant_source(total))
    vmax = _scale(np.concatenate([v for v, _ in panels.values()]), horizon)
    first = cmp.agents[cmp.rules[0]][0]
    n = len(cmp.rules)
    fig = Figure(figsize=(4.6 * n + 0.8, 5.0))
    width = 0.9 / n
    mappable = None
    for k, rule in enumerate(cmp.rules):
        ax = fig.add_axes((0.01 + k * width, 0.12, width - 0.01, 0.76))
        values, main = panels[rule]
        mappable = draw_counties(
            ax,
            shapes,
            first["adcode"].to_numpy(),
            values,
            main,
            first[["lat", "lon"]].to_numpy(float),
            vmax=vmax,
        )
        ax.set_title(rule, fontsize=11, fontweight="bold")
    bar = fig.colorbar(mappable, cax=fig.add_axes((0.925, 0.2, 0.015, 0.6)))
    bar.set_label("years until half of its services\n(mean; horizon if never)", fontsize=8)
    fig.suptitle(
        f"{scenario.name}: when each county first offered half of its services, "
        f"mean of {len(cmp.seeds)} paired replicates (marker: how most services came)",
        fontsize=10,
    )
    _legend(fig, missing_label=None)
    _save(fig, path)
