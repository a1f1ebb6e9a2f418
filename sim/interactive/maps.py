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
  replicates;
* in ``map.png``, its name in Chinese and English below the marker
  (:mod:`sim.interactive.fonts` finds a font with Chinese glyphs).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .polygons import MISSING, _save, _scale, draw_counties, read_boundaries

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..experiments.compare import Comparison
    from ..params import Scenario
    from ..run import RunResult

SOURCE_COLUMNS = ("own", "peer", "catalogue", "contractor")
"""Columns of ``agents.csv`` counting a government's services by source, in Source order."""


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


def dominant_source(agents: pd.DataFrame) -> np.ndarray:
    """Per government, 1..4 (own, peer, catalogue, contractor) for the most common source of
    its services, 0 when none is served (ties: the first)."""
    counts = agents[list(SOURCE_COLUMNS)].to_numpy()
    main = np.argmax(counts, axis=1) + 1
    main[counts.sum(axis=1) == 0] = 0
    return main


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
    draw_names(ax, agents)
    bar = fig.colorbar(mappable, cax=fig.add_axes((0.86, 0.2, 0.025, 0.6)))
    bar.set_label("years until half of its services")
    ax.set_title(
        f"{scenario.name} · rule {result.rule} · seed {result.seed}: when each county first "
        "offered half of its services\n(marker: how most of its services came)",
        fontsize=9,
    )
    _legend(fig, missing_label=f"not within {scenario.time.years:g} years")
    _save(fig, path)


def draw_names(ax: Axes, agents: pd.DataFrame, *, size: float = 3.0) -> None:
    """Each county's name in Chinese and English (:func:`sim.interactive.fonts.label`) just
    below its marker, in a font with CJK glyphs (English only where the machine has none)."""
    from .fonts import families, label

    family = families()
    zh = agents["name_zh"] if "name_zh" in agents else [None] * len(agents)
    for name_zh, name, lat, lon in zip(
        zh, agents["name"], agents["lat"], agents["lon"], strict=True
    ):
        ax.annotate(
            label(name_zh, name),
            (float(lon), float(lat)),
            xytext=(0, -4.5),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=size,
            family=family,
            color="#1d1d1d",
            zorder=5,
        )


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


# ---- animation frames of county scenarios (sim animate) ---------------------------------
def county_shapes(scenario: object) -> tuple | None:
    """A county scenario's polygons for :func:`draw_map`: (adcode -> rings, adcodes in
    government order, label points as lat/lon); None for synthetic scenarios."""
    from ..world.counties import county_table

    path = boundaries_for(scenario)  # type: ignore[arg-type]
    if path is None:
        return None
    frame = county_table(scenario).frame  # type: ignore[union-attr]
    lat = "label_lat" if "label_lat" in frame else "lat"
    lon = "label_lon" if "label_lon" in frame else "lon"
    return (
        read_boundaries(path),
        frame["adcode"].to_numpy(),
        frame[[lat, lon]].to_numpy(float),
    )


def draw_frame(ax: Axes, engine: object, shapes: tuple, *, title: str | None = None) -> None:
    """One run's counties on ``ax`` (cleared first), filled by coverage and marked by how
    most services came, with the contractor's counties crossed out during an outage: the
    polygon version of :func:`sim.interactive.viz.draw_map`."""
    from ..core.arrays import Source
    from ..rules import COLOURS
    from .viz import COVERAGE_CMAP, OUTAGE_COLOUR, is_down, main_source

    ax.clear()
    rings, adcodes, lat_lon = shapes
    source = engine.state.source  # type: ignore[attr-defined]
    coverage = (source != Source.NONE).mean(axis=1)
    draw_counties(
        ax, rings, adcodes, coverage, main_source(source), lat_lon, vmax=1.0, cmap=COVERAGE_CMAP
    )
    down = is_down(engine)  # type: ignore[arg-type]
    if down:
        hit = (source == Source.CONTRACTOR).any(axis=1)
        ax.scatter(lat_lon[hit, 1], lat_lon[hit, 0], marker="x", c=OUTAGE_COLOUR, zorder=4)
    if title is not None:
        colour = OUTAGE_COLOUR if down else COLOURS.get(engine.rule, "black")  # type: ignore[attr-defined]
        ax.set_title(f"{title} — OUTAGE" if down else title, color=colour, fontweight="bold")
