"""The scenario loader: every bad input raises one BadInput naming the file and the key.

Also the positive paths of ``extends``, relative paths, overrides and ``parse_assignment``,
and a smoke check that every shipped scenario loads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.errors import BadInput
from sim.scenario import parse_assignment

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "scenarios").glob("*.toml")) + sorted(
    (ROOT / "scenarios" / "validation").glob("*.toml")
)

CSV_HEADER = "name,local_governments,population,gdp_100m_yuan,lat,lon\n"
GOOD_ROWS = "Alpha,2,1000000,500,30.0,120.0\nBeta,1,500000,100,29.0,119.0\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path, overrides: dict | None = None) -> BadInput:
    """Load ``path`` expecting BadInput; return it."""
    with pytest.raises(BadInput) as info:
        sim.load_scenario(path, overrides)
    err = info.value
    assert err.problems, "BadInput without problems"
    return err


def assert_names(err: BadInput, *parts: str) -> None:
    """Every part appears in the message (the file, the dotted key, a hint...)."""
    text = str(err)
    for part in parts:
        assert part in text, f"{part!r} not in message:\n{text}"


def scenario_error(tmp_path: Path, text: str, name: str = "scenario.toml") -> tuple[BadInput, str]:
    path = write(tmp_path / name, text)
    return load_error(path), str(path)


# ---- unknown keys ---------------------------------------------------------------------------


def test_unknown_key_in_table_names_file_key_and_suggestion(tmp_path):
    err, path = scenario_error(tmp_path, "[drive]\ncontractor_capacty = 5\n")
    assert_names(err, path, "drive.contractor_capacty", 'did you mean "contractor_capacity"')
    assert len(err.problems) == 1
    assert err.problems[0].source == path
    assert err.problems[0].key == "drive.contractor_capacty"


def test_unknown_top_level_key(tmp_path):
    err, path = scenario_error(tmp_path, 'nmae = "x"\n')
    assert_names(err, path, "nmae", 'did you mean "name"')
    assert err.problems[0].key == "nmae"


def test_unknown_table(tmp_path):
    err, path = scenario_error(tmp_path, "[driv]\ncontractor_capacity = 5\n")
    assert_names(err, path, "driv", 'did you mean "drive"')
    assert err.problems[0].key == "driv"


def test_unknown_key_without_close_match_lists_valid_keys(tmp_path):
    err, path = scenario_error(tmp_path, "[time]\nzzzzzz = 1\n")
    assert_names(err, path, "time.zzzzzz", "years", "steps_per_year")
    assert "did you mean" not in str(err)


# ---- wrong types: errors, never coercion ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[time]\nyears = "ten"\n', "time.years"),
        ('[time]\nyears = "10"\n', "time.years"),  # a numeric string is still a string
        ("[time]\nsteps_per_year = 12.5\n", "time.steps_per_year"),
        ("[time]\nsteps_per_year = 12.0\n", "time.steps_per_year"),
        ("[time]\nyears = true\n", "time.years"),
        ("[time]\nsteps_per_year = true\n", "time.steps_per_year"),
        ("[drive]\ncontractor_capacity = false\n", "drive.contractor_capacity"),
        ("[population]\nn_agents = 50.5\n", "population.n_agents"),
        ("[population]\nnetwork = 3\n", "population.network"),
        ('seed = "7"\n', "seed"),
        ("time = 5\n", "time"),
    ],
)
def test_wrong_type_is_an_error(tmp_path, text, key):
    err, path = scenario_error(tmp_path, text)
    assert_names(err, path, key)
    assert [p.key for p in err.problems] == [key]


# ---- out of range -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[collaboration]\ninnovation_rate = -0.1\n", "collaboration.innovation_rate"),
        ("[drive]\nfailure_rate = -1.0\n", "drive.failure_rate"),
        ("[support]\ncatalog_visibility = 1.5\n", "support.catalog_visibility"),
        ("[population]\nrewiring = 1.01\n", "population.rewiring"),
        ("[time]\nyears = 0\n", "time.years"),
        ("[time]\nsteps_per_year = 0\n", "time.steps_per_year"),
        ("[population]\nn_agents = 1\nn_regions = 1\n", "population.n_agents"),
        ("[services]\ncount = 0\n", "services.count"),
        ("seed = -1\n", "seed"),
        ('[drive]\nrollout_order = "alphabetical"\n', "drive.rollout_order"),
        ('[population]\nnetwork = "ring"\n', "population.network"),
    ],
)
def test_out_of_range_field(tmp_path, text, key):
    err, path = scenario_error(tmp_path, text)
    assert_names(err, path, key)
    assert [p.key for p in err.problems] == [key]


# Cross-field checks (PopulationParams._regions_fit): (file text, parameter, other words).
CROSS_FIELD = [
    pytest.param(
        "[population]\ncapacity_mean = 0.5\ncapacity_spread = 0.6\n",
        "capacity_spread",
        ("Beta",),
        id="capacity_spread-beta",
    ),
    pytest.param(
        "[population]\nn_agents = 5\nn_regions = 6\n",
        "n_regions",
        ("n_agents",),
        id="n_regions>n_agents",
    ),
    pytest.param(
        '[population]\nnetwork = "small_world"\nmean_degree = 5\n',
        "mean_degree",
        ("even",),
        id="odd-mean_degree",
    ),
]


@pytest.mark.parametrize(("text", "param", "words"), CROSS_FIELD)
def test_cross_field_range_names_file_table_and_parameter(tmp_path, text, param, words):
    err, path = scenario_error(tmp_path, text)
    assert_names(err, path, "population", param, *words)
    assert len(err.problems) == 1


@pytest.mark.parametrize(("text", "param", "words"), CROSS_FIELD)
def test_cross_field_range_names_dotted_key(tmp_path, text, param, words):
    err, path = scenario_error(tmp_path, text)
    assert_names(err, path, f"population.{param}")


def test_cross_field_checks_do_not_apply_where_irrelevant(tmp_path):
    # mean_degree may be odd for other networks; the Beta limit is synthetic-only.
    path = write(
        tmp_path / "ok.toml",
        '[population]\nnetwork = "hierarchy"\nmean_degree = 5\nn_agents = 6\nn_regions = 6\n',
    )
    s = sim.load_scenario(path)
    assert s.population.mean_degree == 5


def test_unknown_rule_in_file(tmp_path):
    err, path = scenario_error(tmp_path, 'rule = "central"\n')
    assert_names(err, path, "rule", "central", "grassroots", "contractor")
    assert err.problems[0].key == "rule"


def test_unknown_rule_at_run_time(tmp_path):
    s = sim.params.Scenario.model_validate(
        {"time": {"years": 1, "steps_per_year": 2}, "population": {"n_agents": 4, "n_regions": 2}}
    )
    with pytest.raises(BadInput) as info:
        sim.run(s, rule="central")
    assert_names(info.value, "central", "grassroots", "contractor")


def test_several_problems_reported_together(tmp_path):
    err, path = scenario_error(
        tmp_path,
        '[time]\nyears = "ten"\n[drive]\ncontractor_capacty = 5\n'
        "[support]\ncatalog_visibility = 2.0\n",
    )
    assert len(err.problems) >= 2
    keys = {p.key for p in err.problems}
    assert {"time.years", "drive.contractor_capacty", "support.catalog_visibility"} <= keys
    assert_names(err, path, "time.years", "drive.contractor_capacty", "support.catalog_visibility")
    assert all(p.source == path for p in err.problems)


# ---- files: missing, malformed, extends --------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "absent.toml"
    err = load_error(path)
    assert_names(err, str(path), "not found")


def test_malformed_toml(tmp_path):
    err, path = scenario_error(tmp_path, "[time\nyears = 1\n")
    assert_names(err, path, "TOML")


def test_duplicate_key_is_malformed_toml(tmp_path):
    err, path = scenario_error(tmp_path, "[time]\nyears = 1\nyears = 2\n")
    assert_names(err, path, "TOML")


def test_extends_missing_file(tmp_path):
    child = write(tmp_path / "child.toml", 'extends = "parents/missing.toml"\n')
    err = load_error(child)
    assert_names(err, str(child), "extends", "missing.toml", "not found")
    assert err.problems[0].key == "extends"


def test_extends_not_a_string(tmp_path):
    err, path = scenario_error(tmp_path, "extends = 5\n")
    assert_names(err, path, "extends")


def test_extends_cycle(tmp_path):
    a = write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    err = load_error(a)
    assert_names(err, str(a), "extends", "cycle", "b.toml")
    assert err.problems[0].key == "extends"


def test_extends_cycle_through_subfolder(tmp_path):
    a = write(tmp_path / "a.toml", 'extends = "sub/b.toml"\n')
    write(tmp_path / "sub" / "b.toml", 'extends = "../a.toml"\n')
    err = load_error(a)
    assert_names(err, "extends", "cycle")


def test_extends_self_cycle(tmp_path):
    a = write(tmp_path / "self.toml", 'extends = "self.toml"\n')
    err = load_error(a)
    assert_names(err, str(a), "extends", "cycle")


def test_error_in_parent_names_key(tmp_path):
    write(tmp_path / "base" / "parent.toml", "[drive]\ncontractor_capacty = 5\n")
    child = write(tmp_path / "child.toml", 'extends = "base/parent.toml"\n')
    err = load_error(child)
    assert_names(err, "drive.contractor_capacty", 'did you mean "contractor_capacity"')


# ---- population CSV ---------------------------------------------------------------------------


def csv_scenario(tmp_path: Path, csv_text: str) -> tuple[Path, Path]:
    csv = write(tmp_path / "data" / "prefs.csv", csv_text)
    scen = write(tmp_path / "province.toml", '[population]\nsource = "data/prefs.csv"\n')
    return scen, csv


def test_csv_missing_column(tmp_path):
    scen, csv = csv_scenario(
        tmp_path, "name,population,gdp_100m_yuan,lat,lon\nAlpha,1000,5,30,120\n"
    )
    err = load_error(scen)
    assert_names(err, str(csv), "missing column", "local_governments")


def test_csv_non_numeric_value(tmp_path):
    scen, csv = csv_scenario(tmp_path, CSV_HEADER + "Alpha,2,lots,500,30,120\n")
    err = load_error(scen)
    assert_names(err, str(csv), "population", "non-numeric")
    assert err.problems[0].key == "population"


def test_csv_several_problems_together(tmp_path):
    scen, _ = csv_scenario(tmp_path, CSV_HEADER + "Alpha,two,lots,500,30,120\n")
    err = load_error(scen)
    assert {"local_governments", "population"} <= {p.key for p in err.problems}


def test_csv_zero_local_governments(tmp_path):
    scen, csv = csv_scenario(tmp_path, CSV_HEADER + "Alpha,0,1000,500,30,120\n")
    err = load_error(scen)
    assert_names(err, str(csv), "local_governments", ">= 1")


def test_csv_fractional_local_governments(tmp_path):
    scen, csv = csv_scenario(tmp_path, CSV_HEADER + "Alpha,1.5,1000,500,30,120\n")
    err = load_error(scen)
    assert_names(err, str(csv), "local_governments")


def test_csv_no_rows(tmp_path):
    scen, csv = csv_scenario(tmp_path, CSV_HEADER)
    err = load_error(scen)
    assert_names(err, str(csv), "no rows")


@pytest.mark.parametrize("column", ["population", "gdp_100m_yuan"])
@pytest.mark.parametrize("value", ["-1000", "0"])
def test_csv_non_positive(tmp_path, column, value):
    row = {
        "name": "Gamma",  # distinct from GOOD_ROWS' names (duplicates are a problem of their own)
        "local_governments": "2",
        "population": "1000",
        "gdp_100m_yuan": "500",
        "lat": "30",
        "lon": "120",
    }
    row[column] = value
    scen, csv = csv_scenario(tmp_path, CSV_HEADER + ",".join(row.values()) + "\n" + GOOD_ROWS)
    err = load_error(scen)
    assert_names(err, str(csv), column, "> 0")
    assert [p.key for p in err.problems] == [column]


def test_csv_file_missing(tmp_path):
    scen = write(tmp_path / "province.toml", '[population]\nsource = "data/absent.csv"\n')
    err = load_error(scen)
    assert_names(err, str(scen), "population.source", "absent.csv")
    assert err.problems[0].key == "population.source"


# ---- overrides -------------------------------------------------------------------------------


def test_override_unknown_key_with_suggestion(tmp_path):
    path = write(tmp_path / "s.toml", "")
    err = load_error(path, {"drive.contractor_capacty": 5})
    assert_names(err, "drive.contractor_capacty", 'did you mean "drive.contractor_capacity"')
    assert err.problems[0].key == "drive.contractor_capacty"


def test_override_unknown_table(tmp_path):
    path = write(tmp_path / "s.toml", "")
    err = load_error(path, {"driv.contractor_capacity": 5})
    assert_names(err, "driv.contractor_capacity", "did you mean")


def test_override_wrong_type(tmp_path):
    path = write(tmp_path / "s.toml", "[time]\nyears = 10\n")
    err = load_error(path, {"time.years": "ten"})
    assert_names(err, "time.years", "ten")
    assert [p.key for p in err.problems] == ["time.years"]


def test_override_wrong_type_is_attributed_to_overrides(tmp_path):
    path = write(tmp_path / "s.toml", "[time]\nyears = 10\n")
    err = load_error(path, {"time.years": "ten"})
    assert err.problems[0].source == "--set"


def test_override_problems_and_file_problems_together(tmp_path):
    path = write(tmp_path / "s.toml", "[drive]\ncontractor_capacty = 5\n")
    err = load_error(path, {"time.yeers": 3, "support.catalog_visibility": 3.0})
    keys = {p.key for p in err.problems}
    assert {"drive.contractor_capacty", "time.yeers", "support.catalog_visibility"} <= keys


def test_override_out_of_range(tmp_path):
    path = write(tmp_path / "s.toml", "")
    err = load_error(path, {"support.catalog_visibility": 1.5})
    assert_names(err, "support.catalog_visibility")


# ---- positive paths --------------------------------------------------------------------------


def test_extends_relative_to_child_folder_and_leaf_merge(tmp_path, monkeypatch):
    write(
        tmp_path / "base" / "parent.toml",
        'name = "parent"\nseed = 3\n[drive]\ncontractor_capacity = 10.0\nfailure_rate = 0.1\n'
        "[time]\nyears = 4\n",
    )
    child = write(
        tmp_path / "child.toml",
        'extends = "base/parent.toml"\nname = "child"\n[drive]\ncontractor_capacity = 40.0\n',
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # relative to the child's folder, not the working directory
    s = sim.load_scenario(child)
    assert s.name == "child"
    assert s.seed == 3
    assert s.drive.contractor_capacity == 40.0
    assert s.drive.failure_rate == 0.1  # parent's other key in the same table is kept
    assert s.time.years == 4
    assert s.time.steps_per_year == sim.params.TimeParams().steps_per_year  # default
    assert s.path == str(child)


def test_extends_chain_of_three(tmp_path):
    write(tmp_path / "a" / "b" / "grand.toml", "[time]\nyears = 3\nsteps_per_year = 6\n")
    write(tmp_path / "a" / "parent.toml", 'extends = "b/grand.toml"\n[time]\nyears = 5\n')
    child = write(tmp_path / "child.toml", 'extends = "a/parent.toml"\n')
    s = sim.load_scenario(child)
    assert (s.time.years, s.time.steps_per_year) == (5, 6)


def test_csv_source_in_parent_resolved_relative_to_parent(tmp_path, monkeypatch):
    csv = write(tmp_path / "base" / "data" / "prefs.csv", CSV_HEADER + GOOD_ROWS)
    write(tmp_path / "base" / "parent.toml", '[population]\nsource = "data/prefs.csv"\n')
    child = write(
        tmp_path / "child.toml",
        'extends = "base/parent.toml"\n[population]\nnetwork = "complete"\n',
    )
    assert not (tmp_path / "data").exists()
    monkeypatch.chdir(tmp_path)
    s = sim.load_scenario(child)
    assert Path(s.population.source) == csv.resolve()
    assert s.population.network == "complete"
    assert s.prefectures is not None
    assert len(s.prefectures.frame) == 2
    assert s.prefectures.frame["local_governments"].sum() == 3


def test_absolute_paths(tmp_path):
    csv = write(tmp_path / "x" / "prefs.csv", CSV_HEADER + GOOD_ROWS)
    parent = write(tmp_path / "y" / "parent.toml", f"[population]\nsource = '{csv}'\n")
    child = write(tmp_path / "z" / "child.toml", f"extends = '{parent}'\n")
    s = sim.load_scenario(child)
    assert Path(s.population.source) == csv
    assert s.prefectures is not None


def test_overrides_take_precedence(tmp_path):
    write(tmp_path / "parent.toml", "[drive]\ncontractor_capacity = 10.0\nbuild_rate = 3.0\n")
    child = write(
        tmp_path / "child.toml",
        'extends = "parent.toml"\nrule = "grassroots"\n[drive]\ncontractor_capacity = 20.0\n',
    )
    s = sim.load_scenario(
        child,
        {"drive.contractor_capacity": 40, "rule": "contractor", "population.network": "complete"},
    )
    assert s.drive.contractor_capacity == 40
    assert s.drive.build_rate == 3.0
    assert s.rule == "contractor"
    assert s.population.network == "complete"


def test_parse_assignment():
    assert parse_assignment("drive.contractor_capacity=40") == ("drive.contractor_capacity", 40)
    _, value = parse_assignment("drive.contractor_capacity=40")
    assert isinstance(value, int)
    assert parse_assignment("population.network=small_world") == (
        "population.network",
        "small_world",
    )
    assert parse_assignment(" time.years = 2.5 ") == ("time.years", 2.5)
    assert parse_assignment('name="a b"') == ("name", "a b")
    assert parse_assignment("drive.rollout_order=lagging") == ("drive.rollout_order", "lagging")


@pytest.mark.parametrize("text", ["novalue", "=5", ""])
def test_parse_assignment_rejects_malformed(text):
    with pytest.raises(BadInput):
        parse_assignment(text)


def test_parse_assignment_feeds_overrides(tmp_path):
    path = write(tmp_path / "s.toml", "")
    good = dict(
        parse_assignment(a) for a in ["drive.contractor_capacity=40", "population.network=complete"]
    )
    s = sim.load_scenario(path, good)
    assert s.drive.contractor_capacity == 40
    assert s.population.network == "complete"
    err = load_error(path, dict([parse_assignment("time.years=ten")]))
    assert_names(err, "time.years")


# ---- shipped scenarios -----------------------------------------------------------------------


def test_shipped_scenarios_found():
    names = {p.name for p in SHIPPED}
    assert {"zhejiang.toml", "guangdong.toml", "teaching.toml"} <= names
    assert any(p.parent.name == "validation" for p in SHIPPED)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.relative_to(ROOT).as_posix() for p in SHIPPED])
def test_shipped_scenario_loads(path):
    s = sim.load_scenario(path)
    assert s.n_steps >= 1
    if s.population.source != "synthetic":
        assert Path(s.population.source).is_file()
        assert s.prefectures is not None
