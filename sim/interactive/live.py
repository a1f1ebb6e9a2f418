"""What the browser draws: the data of the teaching page's map and curves, not pictures.

The page of ``sim viz`` (:mod:`sim.interactive.app`) sends each browser session two things, as JSON:

* a **layout** when a run starts (:func:`layout`): the rules shown, where each local
  government sits on the map (points, or polygons when the scenario has real boundaries),
  its name, the contact network's edges, the curves' titles and time axis;
* a **frame** after every step (:func:`frame`): per rule, how many services each government
  offers and how most of them came, the year it first offered half of them (the map's fill
  at the end of a run, where the rules differ in timing only), whether the contractor's
  platform is down and who is hit, and the curves' *new* points since the previous frame.

The browser (``sim/interactive/live_view.vue``, ECharts) draws both, so the server's cost
per frame is a few small arrays (about 1 KB for the teaching province) instead of a
matplotlib picture.
Everything here reads the model through :class:`sim.DiffusionModel`'s public accessors
(``t``, ``sources``, ``outage`` and its Mesa ``DataCollector``), never engine internals.

**Polygons.** :func:`layout` takes ``shapes``: a GeoJSON ``FeatureCollection`` with one
feature per government, in the governments' order (what a county table's boundary file
gives); the browser fills each by coverage and outlines it by how most services came.
Synthetic scenarios have none and are drawn as points; :func:`shapes_for` is the one place
that decides, so the real county maps plug in there.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_hex

from ..core.arrays import Source
from ..errors import BadInput
from ..rules import COLOURS
from . import viz
from .polygons import CMAP, MISSING

if TYPE_CHECKING:
    from .model import DiffusionModel

SHAPES_ENV = "SIM_VIZ_SHAPES"
"""A GeoJSON file of the governments' boundaries for ``sim viz`` (see :func:`shapes_for`)."""
SERIES: tuple[str, ...] = ("year", *viz.CURVES, "outage")
"""Time-series columns sent to the browser: the time axis, the curves, the outage flag."""
SOURCE_NAMES: tuple[str, ...] = tuple(viz.SOURCE_LABELS[int(s)] for s in Source)
"""How a service came, by :class:`sim.state.Source` code (0: nothing yet)."""
_layout_ids = itertools.count(1)


def shapes_for(model: DiffusionModel) -> dict[str, Any] | None:
    """The polygons to draw for this model's governments, or None to draw points.

    Synthetic provinces have no boundaries (points are drawn). A county scenario draws the
    polygons of its county table's boundary file (``<province>_counties.geojson``,
    :mod:`sim.world.counties`), matched by adcode. ``$SIM_VIZ_SHAPES`` may name another
    GeoJSON file of boundaries (:func:`load_shapes`), matched by adcode for county scenarios
    and in file order otherwise.
    """
    from ..world.counties import county_table

    table = county_table(model.params)
    keys = None if table is None else [int(a) for a in table.frame["adcode"]]
    path = os.environ.get(SHAPES_ENV)
    if path:
        n = len(model.agents)
        return load_shapes(Path(path), n=n, keys=keys)
    if table is None or not table.boundaries.is_file():
        return None
    return load_shapes(table.boundaries, n=len(keys), keys=keys)


def load_shapes(path: Path, *, n: int, keys: Sequence[Any] | None = None) -> dict[str, Any]:
    """A GeoJSON ``FeatureCollection`` with one (Multi)Polygon per government, in the
    governments' order: matched by the features' ``adcode`` when ``keys`` (the governments'
    codes) are given, else taken in file order. :class:`BadInput` names what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput.one(str(path), SHAPES_ENV, f"cannot read the GeoJSON file: {exc}") from None
    features = data.get("features") if isinstance(data, dict) else None
    if data.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise BadInput.one(str(path), "type", "must be a GeoJSON FeatureCollection")
    for i, feature in enumerate(features):
        kind = ((feature or {}).get("geometry") or {}).get("type")
        if kind not in ("Polygon", "MultiPolygon"):
            raise BadInput.one(str(path), f"features[{i}]", f"not a (Multi)Polygon: {kind}")
    if keys is not None:
        by_key = {(f.get("properties") or {}).get("adcode"): f for f in features}
        missing = [k for k in keys if k not in by_key]
        if missing:
            raise BadInput.one(str(path), "adcode", f"no feature for {missing[:5]}")
        features = [by_key[k] for k in keys]
    elif len(features) != n:
        raise BadInput.one(
            str(path), "features", f"{len(features)} features for {n} local governments"
        )
    return {"type": "FeatureCollection", "features": features}


def _rounded(values: np.ndarray, digits: int = 4) -> list[float]:
    return [round(float(v), digits) for v in values]


def layout(
    runs: Mapping[str, DiffusionModel],
    positions: np.ndarray,
    *,
    shapes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What stays the same during a run: sent once when the run starts (see module doc)."""
    first = next(iter(runs.values()))
    n = len(positions)
    if shapes is not None and len(shapes.get("features", ())) != n:
        raise ValueError(
            f"shapes: {len(shapes.get('features', ()))} features for {n} local governments"
        )
    agents = sorted(first.agents, key=lambda a: a.index)
    seen: dict[str, int] = {}
    names = []
    for agent in agents:  # "Prefecture 3, #2": a stable, readable name per government
        seen[agent.region] = seen.get(agent.region, 0) + 1
        names.append(f"{agent.region} #{seen[agent.region]}")
    if shapes is not None:  # matched to governments by position: tag each feature
        features = [
            {**f, "properties": {**(f.get("properties") or {}), "sim_id": f"g{i}"}}
            for i, f in enumerate(shapes["features"])
        ]
        names = [_name(f["properties"], names[i]) for i, f in enumerate(features)]
        shapes = {"type": "FeatureCollection", "features": features}
    pairs = viz.edge_pairs(first.engine.world) if shapes is None else None  # as sim animate
    edges = [] if pairs is None else pairs.ravel().tolist()
    params = first.params
    return {
        "id": next(_layout_ids),
        "rules": list(runs),
        "colours": [COLOURS.get(rule, "#444444") for rule in runs],
        "n": n,
        "services": int(first.sources.shape[1]),
        "n_steps": int(params.n_steps),
        "years": float(params.time.years),
        "x": _rounded(positions[:, 0]),
        "y": _rounded(positions[:, 1]),
        "names": names,
        "edges": edges,
        "shapes": dict(shapes) if shapes is not None else None,
        "curves": list(viz.CURVES),
        "titles": [
            viz.SHORT_TITLES[c] if len(runs) > 1 else viz.CURVE_TITLES[c] for c in viz.CURVES
        ],
        "sources": list(SOURCE_NAMES),
        "outage_colour": viz.OUTAGE_COLOUR,
        "coverage_colours": [to_hex(viz.COVERAGE_CMAP(x)) for x in np.linspace(0, 1, 5)],
        # the fill "year it reached half of its services": dark = early, as map.png draws it
        "half_colours": [to_hex(colormaps[CMAP](x)) for x in np.linspace(0, 1, 5)],
        "missing_colour": MISSING,
    }


def _name(properties: Mapping[str, Any], fallback: str) -> str:
    """A county's name in Chinese and English ("义乌市 Yiwu City") when the boundary file has
    both, else whichever it has."""
    parts = [str(properties[k]) for k in ("name_zh", "name") if properties.get(k)]
    return " ".join(parts) or fallback


def frame(runs: Mapping[str, DiffusionModel], *, layout_id: int, since: int = 0) -> dict[str, Any]:
    """The state after the latest step, with the curves' points from step ``since`` on.

    ``since`` is the first step the browser does not have yet (0 sends the whole history,
    as after a reconnect); the browser checks it against what it holds and asks again
    from 0 if there is a gap.
    """
    t = max(run.t for run in runs.values())
    since = max(0, min(int(since), t))
    out: dict[str, Any] = {"layout": layout_id, "step": t, "from": since, "runs": {}}
    for rule, run in runs.items():
        source = run.sources
        served = (source != Source.NONE).sum(axis=1)
        down = run.outage
        hit = np.flatnonzero((source == Source.CONTRACTOR).any(axis=1)) if down else ()
        recorded = run.datacollector.model_vars
        out["runs"][rule] = {
            "served": served.tolist(),
            "main": viz.main_source(source).tolist(),
            "down": down,
            "hit": [int(i) for i in hit],
            "coverage": float(recorded["coverage"][run.t]),
            "half": [None if np.isnan(y) else round(float(y), 4) for y in run.half_years],
            "series": {c: _series(recorded[c], since, run.t) for c in SERIES},
        }
    return out


def _series(values: Sequence[float], since: int, t: int) -> list[float]:
    return [float(v) for v in values[since : t + 1]]
