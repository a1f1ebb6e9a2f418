"""Drawing polygons with matplotlib (no geopandas or shapely at run time): reading a
boundary file, filling counties or provinces by a value, the colour scale.

Shared by the county maps (:mod:`sim.interactive.maps`), the province maps
(:mod:`sim.interactive.province_maps`) and the animation's county frames.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .viz import MARKERS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CMAP = "viridis"
MISSING = "#d9d9d9"


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


def _save(fig: Figure, path: Path) -> None:
    from ..io import atomic_write

    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=130, format="png"))
