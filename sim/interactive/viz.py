"""Drawing for teaching: the map of local governments and the live curves, in matplotlib.

Shared by the browser app (:mod:`sim.interactive.app`) and ``sim animate``
(:mod:`sim.interactive.animate`), so a slide shows exactly what the class saw. Figures are
built with :class:`matplotlib.figure.Figure` directly (no pyplot), which is safe in the
app's worker threads.

The map places each local government at its centroid when the scenario has real counties
(``population.counties``), near its prefecture seat when the scenario has seat coordinates
(a small sunflower around the seat, nudged apart where prefectures crowd each other),
otherwise by a force-directed layout of the contact network. A government's fill
shows its coverage (share of services it offers); its marker shows how most of its services
came: own development, peer reuse, the provincial catalogue, or the contractor. During an
outage the contractor-served governments are crossed out in red.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ..core.arrays import Source
from ..rules import COLOURS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..core.engine import Engine
    from ..world.build import World

SOURCES: tuple[Source, ...] = (Source.OWN, Source.PEER, Source.CATALOGUE, Source.CONTRACTOR)
MARKERS: dict[int, str] = {
    Source.NONE: "o",
    Source.OWN: "^",
    Source.PEER: "o",
    Source.CATALOGUE: "s",
    Source.CONTRACTOR: "D",
}
SOURCE_LABELS: dict[int, str] = {
    Source.NONE: "nothing yet",
    Source.OWN: "own development",
    Source.PEER: "peer reuse",
    Source.CATALOGUE: "catalogue",
    Source.CONTRACTOR: "contractor",
}
CURVES: tuple[str, ...] = ("coverage", "duplicate_developments", "cost")
"""The time-series columns drawn as live curves."""
CURVE_TITLES: dict[str, str] = {
    "coverage": "Coverage (share of pairs served)",
    "duplicate_developments": "Duplicate developments",
    "cost": "Cost (cumulative)",
}
SHORT_TITLES: dict[str, str] = {
    "coverage": "Coverage",
    "duplicate_developments": "Duplicates",
    "cost": "Cost",
}
COVERAGE_CMAP = LinearSegmentedColormap.from_list(
    "coverage", ["#f4f4f4", "#c7e9c0", "#74c476", "#238b45", "#00441b"]
)
OUTAGE_COLOUR = "#d62828"
STYLE: dict[str, object] = {
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "legend.fontsize": 11,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
"""Matplotlib settings for projected figures (large type); use with ``rc_context``."""


# ---- layout ---------------------------------------------------------------------------
def positions(world: World) -> np.ndarray:
    """N x 2 map coordinates: around prefecture seats when known, else by the network."""
    pop = world.population
    if pop.units is not None:  # real county-level units (sim.world.counties): their own centroids
        lon = pop.lon * math.cos(math.radians(float(np.mean(pop.lat))))
        centre = np.column_stack([lon, pop.lat])
        return _relax(centre, 0.012 * float(np.ptp(centre, axis=0).max()))
    if pop.n and np.all(np.isfinite(pop.lat)) and np.all(np.isfinite(pop.lon)):
        return _geographic(pop.lat, pop.lon, pop.region, pop.is_seat, pop.population)
    return _network_layout(world)


def _sunflower(count: int) -> np.ndarray:
    """``count`` points of a Vogel spiral, the first at the centre, unit spacing."""
    j = np.arange(count)
    radius = np.sqrt(j)
    angle = j * math.pi * (3 - math.sqrt(5))
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def _geographic(
    lat: np.ndarray,
    lon: np.ndarray,
    region: np.ndarray,
    is_seat: np.ndarray,
    population: np.ndarray,
) -> np.ndarray:
    lat0 = float(np.mean(lat))
    centre = np.column_stack([lon * math.cos(math.radians(lat0)), lat])
    extent = float(max(np.ptp(centre[:, 0]), np.ptp(centre[:, 1]))) or 1.0
    spacing = 0.022 * extent
    pos = centre.copy()
    for r in np.unique(region):
        members = np.flatnonzero(region == r)
        # the seat in the middle, then the rest by population
        order = members[np.lexsort((-population[members], ~is_seat[members]))]
        pos[order] += spacing * _sunflower(len(order))
    return _relax(pos, 0.9 * spacing)


def _relax(pos: np.ndarray, gap: float, iterations: int = 80) -> np.ndarray:
    """Push apart points closer than ``gap`` (prefectures whose seats are close)."""
    pos = pos.copy()
    n = len(pos)
    if n < 2 or n > 3000:
        return pos
    for _ in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.hypot(delta[..., 0], delta[..., 1])
        np.fill_diagonal(dist, np.inf)
        overlap = np.clip(gap - dist, 0, None)
        if not overlap.any():
            break
        unit = delta / np.where(dist > 1e-12, dist, 1e-12)[..., None]
        pos += 0.5 * (unit * overlap[..., None]).sum(axis=1)
    return pos


def _network_layout(world: World) -> np.ndarray:
    """Force-directed layout (deterministic); large networks: prefectures on a circle."""
    n = world.n
    region = world.population.region
    regions = np.unique(region)
    # initial positions: prefectures on a circle, members in a sunflower around each
    angle = 2 * math.pi * np.searchsorted(regions, region) / max(len(regions), 1)
    ring = 3.0 * math.sqrt(n / max(len(regions), 1)) if len(regions) > 1 else 0.0
    pos = np.column_stack([ring * np.cos(angle), ring * np.sin(angle)])
    for r in regions:
        members = np.flatnonzero(region == r)
        pos[members] += _sunflower(len(members))
    if n > 400 or world.network.complete:
        return pos
    import networkx as nx

    graph = world.network.to_networkx()
    start = {i: pos[i] for i in range(n)}
    layout = nx.spring_layout(graph, pos=start, seed=0, iterations=80)
    return np.array([layout[i] for i in range(n)])


# ---- drawing --------------------------------------------------------------------------
def main_source(source: np.ndarray) -> np.ndarray:
    """Per government, the most common way its services are served (0 when none)."""
    counts = np.stack([(source == s).sum(axis=1) for s in SOURCES], axis=1)
    main = np.argmax(counts, axis=1) + 1
    main[counts.sum(axis=1) == 0] = Source.NONE
    return main


def is_down(engine: Engine) -> bool:
    """Whether the run's latest step was spent in an outage (what its curves show)."""
    return bool(engine.recorder.data["outage"][engine.t] > 0)


def edge_pairs(world: World) -> np.ndarray | None:
    """The contact network's links as an E x 2 array of government indices (i < j), or
    None when it is not worth drawing (complete, or over 2,000 governments)."""
    net = world.network
    if net.complete or net.adjacency is None or world.n > 2000:
        return None
    upper = net.adjacency.tocoo()
    keep = upper.row < upper.col
    return np.column_stack([upper.row[keep], upper.col[keep]])


def _edges(world: World, pos: np.ndarray) -> LineCollection | None:
    pairs = edge_pairs(world)
    if pairs is None:
        return None
    segments = np.stack([pos[pairs[:, 0]], pos[pairs[:, 1]]], axis=1)
    return LineCollection(segments, colors="#9a9a9a", linewidths=0.5, alpha=0.35, zorder=1)


def draw_map(
    ax: Axes,
    engine: Engine,
    pos: np.ndarray,
    *,
    title: str | None = None,
    size: float | None = None,
) -> None:
    """Draw one run's local governments on ``ax`` (cleared first), as points (a county
    scenario's polygons: :func:`sim.interactive.maps.draw_frame`)."""
    ax.clear()
    world, source = engine.world, engine.state.source
    served = source != Source.NONE
    coverage = served.mean(axis=1)
    main = main_source(source)
    if size is None:
        size = float(np.clip(9000 / max(world.n, 1), 12, 110))
    edges = _edges(world, pos)
    if edges is not None:
        ax.add_collection(edges)
    for code, marker in MARKERS.items():
        mask = main == code
        if not mask.any():
            continue
        ax.scatter(
            pos[mask, 0],
            pos[mask, 1],
            c=coverage[mask],
            cmap=COVERAGE_CMAP,
            vmin=0,
            vmax=1,
            marker=marker,
            s=size * (0.55 if code == Source.NONE else 1.0),
            edgecolors="#555555" if code == Source.NONE else "#1d1d1d",
            linewidths=0.6,
            zorder=3,
        )
    down = is_down(engine)
    if down:
        hit = (source == Source.CONTRACTOR).any(axis=1)
        ax.scatter(
            pos[hit, 0],
            pos[hit, 1],
            marker="x",
            s=size * 0.9,
            c=OUTAGE_COLOUR,
            linewidths=2.0,
            zorder=4,
        )
    ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale_view()
    ax.margins(0.04)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title is not None:
        colour = OUTAGE_COLOUR if down else COLOURS.get(engine.rule, "black")
        label = f"{title} — OUTAGE" if down else title
        ax.set_title(label, color=colour, fontweight="bold")


def map_legend(
    fig: Figure,
    *,
    loc: str = "lower center",
    ncol: int = 6,
    anchor: tuple[float, float] | None = None,
) -> None:
    """Marker shapes (how most services came) and the red cross of an outage."""
    handles = [
        Line2D(
            [],
            [],
            marker=MARKERS[code],
            linestyle="",
            markerfacecolor=COVERAGE_CMAP(0.7),
            markeredgecolor="#1d1d1d",
            markersize=10,
            label=SOURCE_LABELS[code],
        )
        for code in SOURCES
    ]
    handles.append(
        Line2D(
            [],
            [],
            marker="x",
            linestyle="",
            color=OUTAGE_COLOUR,
            markeredgewidth=2,
            markersize=10,
            label="outage",
        )
    )
    fig.legend(
        handles=handles,
        loc=loc,
        ncol=ncol,
        frameon=False,
        handletextpad=0.2,
        bbox_to_anchor=anchor,
    )


def coverage_colourbar(fig: Figure, rect: Sequence[float]) -> None:
    """The fill scale (coverage of each government, 0 to 100%) in axes at ``rect``."""
    import matplotlib.cm as cm

    mappable = cm.ScalarMappable(cmap=COVERAGE_CMAP)
    mappable.set_clim(0, 1)
    bar = fig.colorbar(mappable, cax=fig.add_axes(rect))
    bar.set_label("coverage")
    bar.set_ticks([0, 0.5, 1], labels=["0%", "50%", "100%"])


def draw_curves(
    axes: Sequence[Axes],
    runs: Mapping[str, Engine],
    *,
    columns: Sequence[str] = CURVES,
    short: bool = False,
    xlabel_all: bool = False,
) -> None:
    """One panel per column; one line per rule (its colour), up to each run's current step."""
    horizon = max(e.n_steps for e in runs.values()) * next(iter(runs.values())).scenario.dt
    for ax, column in zip(axes, columns, strict=True):
        ax.clear()
        top = 0.0
        for rule, engine in runs.items():
            data = engine.recorder.data
            t = engine.t
            years, values = data["year"][: t + 1], data[column][: t + 1]
            colour = COLOURS.get(rule)
            ax.plot(years, values, color=colour, lw=2.6, label=rule)
            ax.plot(years[-1:], values[-1:], "o", color=colour, ms=6)
            top = max(top, float(values.max()))
            if column == "coverage":
                out = data["outage"][: t + 1] > 0
                for start, stop in _spans(out):
                    ax.axvspan(
                        years[start] - engine.scenario.dt,
                        years[stop - 1],
                        color=OUTAGE_COLOUR,
                        alpha=0.18,
                        lw=0,
                    )
        ax.set_xlim(0, horizon)
        if column == "coverage":
            ax.set_ylim(0, 1.02)
            ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        else:
            ax.set_ylim(0, max(top * 1.1, 1.0))
            ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        ax.set_title(SHORT_TITLES[column] if short else CURVE_TITLES[column], loc="left")
        ax.grid(alpha=0.3)
    for ax in axes if xlabel_all else axes[-1:]:
        ax.set_xlabel("years")
    if len(runs) > 1 or short:
        axes[0].legend(loc="upper left", frameon=False)


def _spans(mask: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True in a boolean vector as (start, stop) index pairs."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))
