"""The province map of the national scenario (sim.interactive.province_maps): the outlines
file agrees with the provinces table, and ``sim run`` / ``sim compare`` draw it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.path import Path as MplPath
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.interactive import maps, polygons, province_maps

from .test_counties import not_blank

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "scenarios" / "data"
CHINA = ROOT / "scenarios" / "china.toml"


def features() -> list[dict]:
    return json.loads((DATA / "china_provinces.geojson").read_text(encoding="utf-8"))["features"]


def test_outlines_name_every_province_of_the_table_once() -> None:
    table = pd.read_csv(DATA / "china_provinces.csv", comment="#")
    props = pd.DataFrame([f["properties"] for f in features()])
    assert len(table) == 31 and len(props) == 31
    assert props["name"].is_unique and props["adcode"].is_unique
    merged = table.merge(props, on="name", validate="one_to_one")
    assert len(merged) == 31
    assert (merged["name_zh_x"] == merged["name_zh_y"]).all()
    assert (merged["code"] * 10000 == merged["adcode"]).all()
    assert (DATA / "china_provinces.geojson").stat().st_size < 1_000_000


def test_each_label_point_lies_inside_its_province() -> None:
    """The rule marker sits inside the province it describes (non-zero fill, as drawn)."""
    shapes = maps.read_boundaries(DATA / "china_provinces.geojson")
    for f in features():
        p = f["properties"]
        path = MplPath.make_compound_path(*(MplPath(r, closed=True) for r in shapes[p["adcode"]]))
        assert path.contains_point((p["label_lon"], p["label_lat"])), p["name"]


def test_a_country_without_outlines_gets_no_map(tmp_path: Path) -> None:
    """A provinces CSV with no GeoJSON beside it, or one that misses a province: no map."""
    csv = tmp_path / "country.csv"
    shutil.copy(DATA / "china_provinces.csv", csv)
    s = sim.load_scenario(CHINA, {"national.source": str(csv)})
    assert maps.boundaries_for(s) is None
    outlines = json.loads((DATA / "china_provinces.geojson").read_text(encoding="utf-8"))
    (tmp_path / "country.geojson").write_text(json.dumps(outlines), encoding="utf-8")
    assert maps.boundaries_for(s) == tmp_path / "country.geojson"
    outlines["features"] = outlines["features"][1:]
    (tmp_path / "country.geojson").write_text(json.dumps(outlines), encoding="utf-8")
    assert maps.boundaries_for(s) is None


def test_each_province_gets_its_own_value_colour() -> None:
    """Draw Xinjiang early and every other province late; the pixel beside Xinjiang's marker
    has the early colour, one beside Sichuan's the late colour."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    props = {f["properties"]["name"]: f["properties"] for f in features()}
    names = list(props)
    values = np.where(np.array(names) == "Xinjiang", 0.0, 9.0)
    fig = Figure(figsize=(6, 5), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    path = DATA / "china_provinces.geojson"
    province_maps.draw_provinces(ax, path, names, values, ["grassroots"] * 31, vmax=9.0)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())

    def pixel(name: str) -> np.ndarray:
        x, y = ax.transData.transform((props[name]["label_lon"], props[name]["label_lat"]))
        # 12 pixels right of the marker (radius ~4 px): still well inside either province
        return rgba[rgba.shape[0] - round(y), round(x) + 12, :3] / 255

    early, late = (np.array(mpl.colormaps[polygons.CMAP](v)[:3]) for v in (0.0, 1.0))
    assert np.abs(pixel("Xinjiang") - early).max() < 0.05
    assert np.abs(pixel("Sichuan") - late).max() < 0.05


def test_sim_run_and_compare_write_province_maps(tmp_path: Path) -> None:
    runner = CliRunner()
    run = runner.invoke(
        app, ["run", str(CHINA), "--set", "time.years=2", "--out", str(tmp_path / "run")]
    )
    assert run.exit_code == 0, run.output
    assert "map.png" in run.output
    not_blank(tmp_path / "run" / "map.png")
    cmp = runner.invoke(
        app,
        [
            "compare",
            str(CHINA),
            "--replicates",
            "2",
            "--rules",
            "mixed,contractor",
            "--set",
            "time.years=2",
            "--out",
            str(tmp_path / "cmp"),
        ],
    )
    assert cmp.exit_code == 0, cmp.output
    assert "maps.png" in cmp.output
    not_blank(tmp_path / "cmp" / "maps.png")
