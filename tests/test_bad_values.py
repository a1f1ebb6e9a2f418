"""Every value checked before work starts: finite numbers with upper bounds, CSVs checked row
by row, experiment designs checked whole, problems caused by ``--set`` blamed on ``--set``."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import sim
from sim.errors import BadInput
from sim.experiments.experiment import load_experiment
from sim.params import SECTIONS

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "scenarios" / "teaching.toml"
CHINA = ROOT / "scenarios" / "china.toml"
CSV_HEADER = "name,local_governments,population,gdp_100m_yuan,lat,lon\n"
GOOD = "Alpha,2,1000000,500,30.0,120.0\nBeta,1,500000,100,29.0,119.0\n"


def load_error(path: Path, overrides: dict | None = None) -> BadInput:
    with pytest.raises(BadInput) as info:
        sim.load_scenario(path, overrides)
    return info.value


FLOAT_KEYS = [
    f"{table}.{name}"
    for table, cls in SECTIONS.items()
    for name, field in cls.model_fields.items()
    if field.annotation is float
]


def upper(key: str) -> float | None:
    table, _, name = key.partition(".")
    field = SECTIONS[table].model_fields[name]
    return next((m.le for m in field.metadata if getattr(m, "le", None) is not None), None)


@pytest.mark.parametrize("key", FLOAT_KEYS)
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_every_float_parameter_must_be_finite(key: str, value: float) -> None:
    err = load_error(TEACHING, {key: value})
    assert [(p.source, p.key) for p in err.problems] == [("--set", key)], str(err)


@pytest.mark.parametrize("key", FLOAT_KEYS)
def test_every_float_parameter_has_an_upper_bound(key: str) -> None:
    assert upper(key) is not None, f"{key} has no upper bound (add le=...)"
    err = load_error(TEACHING, {key: 1e308})
    assert err.problems[0].key == key


# The quantities whose huge values broke the arithmetic: at their upper bound a run of every
# rule, provincial and national, finishes with finite outcomes.
BOUNDED = [
    "support.recognition_lag",
    "drive.outage_duration",
    "drive.build_time",
    "national.sharing_lag",
    "collaboration.peer_learning",
    "collaboration.innovation_rate",
    "support.promotion_rate",
    "drive.failure_rate",
    "drive.contractor_capacity",
    "costs.development",
    "costs.adaptation",
    "costs.deployment",
]


@pytest.mark.parametrize("key", BOUNDED)
def test_runs_at_the_upper_bound_give_finite_outcomes(key: str) -> None:
    s = sim.load_scenario(TEACHING, {key: upper(key)})
    for rule in s.valid_rules:
        outcomes = sim.run(s, rule=rule, seed=2).outcomes
        assert all(math.isfinite(v) for k, v in outcomes.items() if k != "t50_years"), outcomes


def test_national_run_at_the_sharing_lag_bound() -> None:
    s = sim.load_scenario(CHINA, {"national.sharing_lag": upper("national.sharing_lag")})
    s = s.model_copy(update={"time": s.time.model_copy(update={"years": 1.0})})
    outcomes = sim.run(s, rule="grassroots", seed=1).outcomes
    assert math.isfinite(outcomes["coverage_final"])


def test_a_cross_field_problem_caused_by_set_is_blamed_on_set() -> None:
    err = load_error(TEACHING, {"population.capacity_mean": 1.0})
    (p,) = err.problems
    assert p.source == "--set" and p.key == "population.capacity_spread"
    assert "population.capacity_mean=1.0" in p.message


def test_a_problem_of_the_file_stays_the_file_s(tmp_path: Path) -> None:
    bad = tmp_path / "s.toml"
    bad.write_text("[population]\ncapacity_mean = 0.9\ncapacity_spread = 0.5\n")
    err = load_error(bad, {"time.years": 2.0})
    assert [(p.source, p.key) for p in err.problems] == [(str(bad), "population.capacity_spread")]


# ---- CSV files, row by row ------------------------------------------------------------------


def csv_error(tmp_path: Path, text: str) -> BadInput:
    (tmp_path / "p.csv").write_text(text)
    (tmp_path / "s.toml").write_text('[population]\nsource = "p.csv"\n')
    return load_error(tmp_path / "s.toml")


@pytest.mark.parametrize(
    ("rows", "key", "words"),
    [
        ("Alpha,2,1000000,500,30.0,120.0,7\n", "", "data row(s) 1 do not have the header's 6"),
        ("Alpha,2,1000000,500,30.0\n", "", "data row(s) 1 do not have"),
        ("Alpha,2,1000000,500,30.0,120.0\n", "name", "duplicate prefecture name(s): Alpha"),
        (" ,2,1000000,500,30.0,120.0\n", "name", "empty prefecture name in data row(s) 1"),
        ("Gamma,2,1000000,500,999,120.0\n", "lat", "data row(s) 1"),
        ("Gamma,2,1000000,500,30.0,-181\n", "lon", "data row(s) 1"),
        ("Gamma,2,inf,500,30.0,120.0\n", "population", "non-finite"),
        ("Gamma,2,1000000,-inf,30.0,120.0\n", "gdp_100m_yuan", "non-finite"),
        ("Gamma,2,1e300,500,30.0,120.0\n", "population", "<= 1e+10"),
        ("Gamma,200000,1000000,500,30.0,120.0\n", "local_governments", "<= 100000"),
        ("Gamma,nan,1000000,500,30.0,120.0\n", "local_governments", "non-numeric"),
    ],
)
def test_csv_rows_are_checked(tmp_path: Path, rows: str, key: str, words: str) -> None:
    err = csv_error(tmp_path, CSV_HEADER + rows + GOOD)
    assert any(p.key == key and words in p.message for p in err.problems), str(err)
    assert all(p.source == str(tmp_path / "p.csv") for p in err.problems), str(err)


def test_csv_header_must_have_distinct_names(tmp_path: Path) -> None:
    err = csv_error(tmp_path, CSV_HEADER.strip() + ",lat\n" + "Alpha,2,1000000,500,30,120,30\n")
    assert "duplicate column name(s) lat" in str(err)


def test_csv_row_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.world import tables

    monkeypatch.setattr(tables, "MAX_CSV_ROWS", 3)
    rows = "".join(f"P{i},1,1000,5,30,120\n" for i in range(4))
    assert "more than 3 data rows" in str(csv_error(tmp_path, CSV_HEADER + rows))


def test_csv_total_governments_limit(tmp_path: Path) -> None:
    rows = "".join(f"P{i},60000,1000,5,30,120\n" for i in range(2))
    assert "120,000 in all" in str(csv_error(tmp_path, CSV_HEADER + rows))


def test_a_quoted_name_with_comma_and_hash_is_one_field(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(
        CSV_HEADER + '"Alpha, #1",2,1000,5,30,120 # note\n' + GOOD.split("\n", 1)[1]
    )
    (tmp_path / "s.toml").write_text('[population]\nsource = "p.csv"\n')
    s = sim.load_scenario(tmp_path / "s.toml")
    assert list(s.prefectures.frame["name"]) == ["Alpha, #1", "Beta"]


PROVINCES = (
    "name,prefectures,local_governments,population_2020,gdp_per_capita_yuan\n"
    "A,2,10,1000000,50000\nB,1,5,500000,30000\n"
)


def test_provinces_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim import limits

    monkeypatch.setattr(limits, "MAX_PROVINCES", 2)
    (tmp_path / "p.csv").write_text(PROVINCES + "C,1,5,500000,30000\n")
    (tmp_path / "s.toml").write_text('[national]\nsource = "p.csv"\n')
    assert "3 provinces: more than the 2" in str(load_error(tmp_path / "s.toml"))


@pytest.mark.parametrize(
    ("row", "key", "words"),
    [
        ("A,1,5,500000,30000\n", "name", "duplicate province name(s): A"),
        (",1,5,500000,30000\n", "name", "empty province name"),
        ("C,1,5,inf,30000\n", "population_2020", "non-finite"),
        ("C,1,5,500000,1e300\n", "gdp_per_capita_yuan", "<= 1e+09"),
        ("C,1,5,500000,30000,9\n", "", "do not have the header's 5"),
    ],
)
def test_provinces_csv_rows_are_checked(tmp_path: Path, row: str, key: str, words: str) -> None:
    (tmp_path / "p.csv").write_text(PROVINCES + row)
    (tmp_path / "s.toml").write_text('[national]\nsource = "p.csv"\n')
    err = load_error(tmp_path / "s.toml")
    assert any(p.key == key and words in p.message for p in err.problems), str(err)


# ---- experiments, checked whole --------------------------------------------------------------

MODEL = 'model = "testfunctions:ishigami"\n'
SOBOL = '[design]\nmethod = "sobol"\nn = 16\n'
X = "x1 = { low = -3, high = 3 }\nx2 = { low = -3, high = 3 }\nx3 = { low = -3, high = 3 }\n"


def experiment_error(tmp_path: Path, text: str) -> BadInput:
    path = tmp_path / "e.toml"
    path.write_text(text)
    (tmp_path / "testfunctions.py").write_text(
        (ROOT / "experiments" / "testfunctions.py").read_text()
    )
    with pytest.raises(BadInput) as info:
        load_experiment(path)
    return info.value


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (MODEL + SOBOL + "[parameters]\n" + X.replace("high = 3 }", "high = inf }", 1),
         "parameters.x1.high", "finite"),
        (MODEL + SOBOL + "[parameters]\n" + X.replace("low = -3,", "low = nan,", 1),
         "parameters.x1.low", "finite"),
        (MODEL + SOBOL + "[parameters]\n"
         + X.replace("-3", "-1e308", 1).replace("3 }", "1e308 }", 1),
         "parameters.x1", "too large"),
        (MODEL + '[design]\nmethod = "lhs"\nn = 8\n[parameters]\n'
         'x1 = { dist = "lognorm", params = [800.0, 1.0] }\nx2 = { low = -3, high = 3 }\n'
         "x3 = { low = -3, high = 3 }\n",
         "parameters.x1", "non-finite"),
        (MODEL + SOBOL + "[parameters]\n" + X.replace(" }", ', group = "g" }'),
         "parameters", "at least two groups"),
        (MODEL + SOBOL + "[parameters]\n" + X.replace(" }", ', group = "x3" }', 1),
         "parameters", "name of an ungrouped parameter"),
        (f'scenario = "{TEACHING}"\nrules = []\n' + SOBOL
         + '[parameters]\n"support.standardization" = { low = 0, high = 1 }\n',
         "rules", "at least 1 item"),
        (f'scenario = "{TEACHING}"\noutcomes = []\n' + SOBOL
         + '[parameters]\n"support.standardization" = { low = 0, high = 1 }\n',
         "outcomes", "at least 1 item"),
    ],
)  # fmt: skip
def test_experiment_checked_whole(tmp_path: Path, text: str, key: str, words: str) -> None:
    err = experiment_error(tmp_path, text)
    assert any(p.key == key and words in p.message for p in err.problems), str(err)


def test_a_design_too_large_for_memory_is_refused_before_it_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIM_MAX_MEMORY", "1G")
    err = experiment_error(tmp_path, MODEL + SOBOL.replace("16", str(2**30)) + "[parameters]\n" + X)
    (p,) = err.problems
    assert p.key == "design" and "5,368,709,120 sample points" in p.message
    assert "--max-memory" in p.message
