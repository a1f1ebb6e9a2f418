"""Province maps of national scenarios: ``map.png`` of ``sim run``, ``maps.png`` of ``sim compare``.

The provinces of a national scenario are synthetic inside (no county populations for all of
China), but their outlines are real: ``<national.source stem>.geojson`` beside the provinces
CSV (``scenarios/data/china_provinces.geojson``, built by ``scenarios/data/build_provinces.py``)
holds one simplified polygon per province, matched to the CSV by ``name``. A map is drawn only
when that file exists and names every province of the CSV (a custom country without outlines
simply gets no map). Drawn with matplotlib through :func:`sim.interactive.maps.draw_counties`
(no run-time geometry package).

What a map shows, per province:

* fill: the time (years) at which the province's own coverage first reached one half
  (``t50_years`` of ``provinces.csv``): dark = early, light = late, grey hatched = not within
  the horizon. In ``maps.png`` the fill is the mean over replicates (a replicate that never got
  there counts as the horizon, as ``t50_years`` does), on one colour scale for every panel;
* marker at a point inside the province: its rule, in the rule's colour
  (:data:`sim.rules.COLOURS`) and shape (:data:`SHAPES`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .polygons import MISSING, _save, _scale, draw_counties, read_boundaries

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..experiments.compare import Comparison
    from ..params import Scenario
    from ..run import RunResult

OUTCOME = "t50_years"
"""The column of ``provinces.csv`` that fills the map."""
SHAPES: dict[str, str] = {"grassroots": "o", "contractor": "s", "hybrid": "D"}
"""Each rule's marker: its colour alone (:data:`sim.rules.COLOURS`) can vanish on the fill."""


def province_boundaries(scenario: Scenario) -> Path | None:
    """The outlines file of a national scenario's provinces, or None (not national, no file,
    an unreadable file, or a province of the CSV missing from it)."""
    table = scenario.provinces
    if table is None:
        return None
    path = Path(table.path).with_suffix(".geojson")
    try:
        names = {f["properties"]["name"] for f in _features(path)}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return path if set(table.names) <= names else None


def _features(path: Path) -> list[dict]:
    return json.loads(Path(path).read_text(encoding="utf-8"))["features"]


def read_provinces(path: Path) -> tuple[dict[str, int], dict[int, list[np.ndarray]], dict]:
    """name -> adcode, adcode -> rings (as :func:`sim.interactive.maps.read_boundaries`), and
    adcode -> label point (lon, lat)."""
    features = _features(path)
    codes = {f["properties"]["name"]: int(f["properties"]["adcode"]) for f in features}
    labels = {
        int(f["properties"]["adcode"]): (f["properties"]["label_lon"], f["properties"]["label_lat"])
        for f in features
    }
    return codes, read_boundaries(path), labels


def draw_provinces(
    ax: Axes,
    path: Path,
    names: list[str],
    values: np.ndarray,
    rules: list[str],
    *,
    vmax: float,
) -> object:
    """Fill each province by ``values`` (NaN: grey, hatched) and mark its rule by a marker in the
    rule's colour and shape; returns the mappable for a colour bar."""
    from ..rules import COLOURS

    codes, shapes, labels = read_provinces(path)
    adcodes = [codes[name] for name in names]
    points = np.array([labels[c] for c in adcodes], float)  # lon, lat
    mappable = draw_counties(
        ax,
        shapes,
        adcodes,
        np.asarray(values, float),
        np.zeros(len(adcodes), int),  # no source markers
        points[:, ::-1],
        vmax=vmax,
    )
    for rule in dict.fromkeys(rules):
        hit = np.array([r == rule for r in rules])
        ax.scatter(
            points[hit, 0],
            points[hit, 1],
            s=34,
            marker=SHAPES.get(rule, "o"),
            color=COLOURS.get(rule, "#1d1d1d"),
            edgecolor="#1d1d1d",
            linewidth=0.9,
            zorder=3,
        )
    return mappable


def _order(rule: str) -> int:
    from ..rules import COLOURS

    return list(COLOURS).index(rule) if rule in COLOURS else len(COLOURS)


def _legend(fig: Figure, rules: list[str], *, missing_label: str | None) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from ..rules import COLOURS

    handles = [
        Line2D(
            [],
            [],
            marker=SHAPES.get(rule, "o"),
            linestyle="",
            markerfacecolor=COLOURS.get(rule, "#1d1d1d"),
            markeredgecolor="#1d1d1d",
            markersize=8,
            label=f"rule: {rule}",
        )
        for rule in sorted(set(rules), key=_order)
    ]
    if missing_label:
        handles.append(
            Patch(facecolor=MISSING, hatch="////", edgecolor="white", label=missing_label)
        )
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, fontsize=8)


def province_run_map(result: RunResult, scenario: Scenario, path: Path) -> None:
    """``map.png`` of one national run: when each province first served half of its pairs."""
    from matplotlib.figure import Figure

    table = result.provinces
    values = table[OUTCOME].to_numpy(float).copy()
    values[table["t50_reached"].to_numpy(float) < 1] = np.nan
    rules = table["rule"].astype(str).tolist()
    fig = Figure(figsize=(8.0, 6.6))
    ax = fig.add_axes((0.02, 0.1, 0.82, 0.8))
    mappable = draw_provinces(
        ax,
        province_boundaries(scenario),  # type: ignore[arg-type]
        table["province"].tolist(),
        values,
        rules,
        vmax=_scale(values, scenario.time.years),
    )
    bar = fig.colorbar(mappable, cax=fig.add_axes((0.86, 0.2, 0.025, 0.6)))
    bar.set_label("years until half of its (government, service) pairs are served")
    ax.set_title(
        f"{scenario.name} · rule {result.rule} · seed {result.seed}: when each province first "
        "served half of its pairs\n(marker: the province's rule; provinces synthetic inside)",
        fontsize=9,
    )
    _legend(fig, rules, missing_label=f"not within {scenario.time.years:g} years")
    _save(fig, path)


def province_compare_maps(cmp: Comparison, path: Path) -> None:
    """``maps.png`` of a national comparison: each rule (mixed and every uniform rule) as a
    panel, the mean over replicates of when each province served half of its pairs."""
    from matplotlib.figure import Figure

    scenario = cmp.scenario
    outlines = province_boundaries(scenario)
    horizon = scenario.n_steps * scenario.dt
    panels = {}
    for rule in cmp.rules:
        runs = cmp.provinces[rule]
        values = np.vstack([p[OUTCOME].to_numpy(float) for p in runs]).mean(axis=0)
        panels[rule] = (values, runs[0]["rule"].astype(str).tolist())
    names = cmp.provinces[cmp.rules[0]][0]["province"].tolist()
    vmax = _scale(np.concatenate([v for v, _ in panels.values()]), horizon)
    n = len(cmp.rules)
    ncol = 2 if n > 2 else n
    nrow = -(-n // ncol)
    fig = Figure(figsize=(5.4 * ncol + 0.9, 4.3 * nrow + 0.9))
    width, height = 0.9 / ncol, 0.84 / nrow
    mappable = None
    for k, rule in enumerate(cmp.rules):
        row, col = divmod(k, ncol)
        ax = fig.add_axes(
            (0.01 + col * width, 0.08 + (nrow - 1 - row) * height, width - 0.01, height - 0.04)
        )
        values, rules = panels[rule]
        mappable = draw_provinces(ax, outlines, names, values, rules, vmax=vmax)  # type: ignore[arg-type]
        ax.set_title(rule, fontsize=11, fontweight="bold")
    bar = fig.colorbar(mappable, cax=fig.add_axes((0.925, 0.25, 0.015, 0.5)))
    bar.set_label("years until half of its pairs are served\n(mean; horizon if never)", fontsize=8)
    fig.suptitle(
        f"{scenario.name}: when each province first served half of its pairs, mean of "
        f"{len(cmp.seeds)} paired replicates (marker: the province's rule)",
        fontsize=10,
    )
    all_rules = [r for _, rules in panels.values() for r in rules]
    _legend(fig, all_rules, missing_label=None)
    _save(fig, path)
