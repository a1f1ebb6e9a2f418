"""The national scenario: provinces in lockstep, each with its own rule, coupled.

Most tests use a small country written to a temporary folder (four provinces, five
services, three years) so that they run in well under a second each; one test runs the
shipped ``scenarios/china.toml``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.core.engine import Engine
from sim.core.national import NationalEngine
from sim.errors import BadInput
from sim.outcomes import COLUMNS, OUTCOMES, gini_rows
from sim.run import engine_for

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

PROVINCES = """\
# a small test country
name,prefectures,local_governments,population_2020,gdp_per_capita_yuan
North,2,12,20000000,120000
East,1,8,9000000,90000
South,3,15,30000000,60000
West,2,10,6000000,40000
"""

SCENARIO = """\
name = "tiny-country"
rule = "mixed"
seed = 7
[time]
years = 3
steps_per_year = 12
[national]
source = "provinces.csv"
cross_learning = 0.3
sharing_lag = 0.25
[national.rules]
South = "contractor"
West = "hybrid"
[services]
count = 5
[support]
recognition_lag = 0.25
[collaboration]
innovation_rate = 0.3
peer_learning = 1.5
[drive]
contractor_capacity = 60.0
build_time = 0.25
"""


@pytest.fixture
def country(tmp_path: Path) -> Path:
    (tmp_path / "provinces.csv").write_text(PROVINCES)
    path = tmp_path / "country.toml"
    path.write_text(SCENARIO)
    return path


def load(path: Path, **overrides: object) -> sim.Scenario:
    return sim.load_scenario(path, {k.replace("__", "."): v for k, v in overrides.items()})


def test_uncoupled_provinces_run_exactly_as_alone(country: Path) -> None:
    """With no cross-province learning and a sharing lag beyond the horizon, coupling must
    not touch any province: each one's series equals its own Engine run on the same world
    and streams, and the national series adds them up."""
    s = load(country, national__cross_learning=0.0, national__sharing_lag=50.0)
    national = NationalEngine(s, seed=11).run()
    assert national.rules == ["grassroots", "grassroots", "contractor", "hybrid"]
    for p, e in enumerate(national.engines):
        alone = Engine(e.scenario, e.rule, 11, world=e.world, stream_key=(p,)).run()
        for c in COLUMNS:
            np.testing.assert_array_equal(e.recorder.data[c], alone.recorder.data[c], err_msg=c)
        assert e.outcomes() == alone.outcomes()
    data = national.recorder.data
    sizes = np.array([e.world.n for e in national.engines])
    coverage = sum(
        n * e.recorder.data["coverage"] for n, e in zip(sizes, national.engines, strict=True)
    )
    np.testing.assert_allclose(data["coverage"], coverage / sizes.sum(), rtol=1e-12)
    assert data["developments"][-1] == sum(e.state.developments for e in national.engines)
    assert data["cost"][-1] == pytest.approx(sum(e.state.cost for e in national.engines))


def test_coupling_moves_solutions_between_provinces(country: Path) -> None:
    s = load(country)
    national = NationalEngine(s, seed=3).run()
    table = national.provinces()
    assert table["cross_province_reuses"].sum() > 0
    # catalogue imports only reach provinces that keep a catalogue (not the contractor one)
    alone = NationalEngine(load(country, national__cross_learning=0.0), seed=3).run()
    imports = alone.provinces().set_index("province")["imported_solutions"]
    assert imports["South"] == 0
    assert imports[["North", "East", "West"]].sum() > 0
    assert alone.provinces()["cross_province_reuses"].sum() == 0


def test_cross_learning_speeds_national_diffusion(country: Path) -> None:
    """Learning across provinces at 0.3 of the within-province rate raises mean coverage.

    Paired over 12 seeds (common random numbers). Measured over 30 seeds: mean gain 0.019,
    s.d. 0.011, so the expected t statistic at n = 12 is about 5.6; we require t > 2.5
    (one-sided p ~ 0.01 were there no effect, e.g. if the coupling were never applied)."""
    faster = load(country, national__sharing_lag=50.0)
    slower = load(country, national__sharing_lag=50.0, national__cross_learning=0.0)
    gains = np.array(
        [
            sim.run_outcomes(faster, seed=k)["coverage_mean"]
            - sim.run_outcomes(slower, seed=k)["coverage_mean"]
            for k in range(12)
        ]
    )
    t = gains.mean() / (gains.std(ddof=1) / np.sqrt(len(gains)))
    assert t > 2.5, gains


def test_mixed_with_one_rule_everywhere_equals_that_rule(country: Path) -> None:
    s = load(country, national__rules={}, national__default_rule="hybrid")
    assert NationalEngine(s, "mixed", 5).run().outcomes() == (
        NationalEngine(s, "hybrid", 5).run().outcomes()
    )


def test_national_duplicates_count_work_done_anywhere_before(country: Path) -> None:
    national = NationalEngine(load(country), seed=2).run()
    out = national.outcomes()
    developed = np.zeros(5, bool)
    for e in national.engines:
        developed |= e.state.first_dev_step >= 0
    assert out["duplicate_developments"] == out["developments"] - developed.sum()
    within = sum(e.state.duplicates for e in national.engines)
    assert out["duplicate_developments"] >= within


def test_outputs_have_the_province_run_shape(country: Path) -> None:
    result = sim.run(load(country), seed=1)
    assert list(result.timeseries.columns) == list(COLUMNS)
    assert set(result.outcomes) == set(OUTCOMES)
    assert len(result.agents) == 12 + 8 + 15 + 10
    assert result.agents["agent_id"].tolist() == list(range(45))
    assert result.provinces is not None
    assert result.provinces["province"].tolist() == ["North", "East", "South", "West"]
    # the national Gini is over all 45 governments of the four provinces: recompute it from
    # the agents table (seed 1 does not end in an outage, so every served pair counts)
    last = result.timeseries.iloc[-1]
    assert last["outage"] == 0
    served = (result.agents["coverage"].to_numpy() * 5).round().astype(np.int64)
    assert last["gini"] == pytest.approx(gini_rows(served[None, :], 5)[0], abs=1e-12)
    assert last["gini"] > 0


def test_same_seed_same_numbers_and_seeds_differ(country: Path) -> None:
    s = load(country)
    a, b = sim.run_outcomes(s, seed=4), sim.run_outcomes(s, seed=4)
    assert a == b
    assert sim.run_outcomes(s, seed=5) != a


def test_shipped_china_scenario_runs() -> None:
    s = sim.load_scenario(ROOT / "scenarios" / "china.toml")
    assert s.provinces.sizes.sum() == 2845
    assert len(s.provinces.names) == 31
    e = engine_for(s)
    assert isinstance(e, NationalEngine)
    rules = dict(zip(s.provinces.names, e.rules, strict=True))
    assert rules["Zhejiang"] == "grassroots" and rules["Guangdong"] == "contractor"
    assert set(e.rules) == {"grassroots", "contractor", "hybrid"}
    out = e.run().outcomes()
    assert 0.5 < out["coverage_mean"] < 1


# ---- bad input ---------------------------------------------------------------------------
def test_unknown_province_in_rule_table(country: Path) -> None:
    text = country.read_text().replace('South = "contractor"', 'Suoth = "contractor"')
    country.write_text(text)
    with pytest.raises(BadInput) as err:
        sim.load_scenario(country)
    message = str(err.value)
    assert str(country) in message and "national.rules.Suoth" in message
    assert 'did you mean "South"' in message


@pytest.mark.parametrize(
    ("csv", "words"),
    [
        (PROVINCES.replace("gdp_per_capita_yuan", "gdp"), "missing column(s) gdp_per_capita_yuan"),
        (PROVINCES.replace("East,1,8", "East,1,x"), "local_governments"),
        (PROVINCES.replace("East,1,8", "East,9,8"), "exceeds local_governments"),
        (PROVINCES.replace("West,", "North,"), "duplicate province name(s): North"),
    ],
)
def test_bad_provinces_csv_names_the_file_and_column(country: Path, csv: str, words: str) -> None:
    (country.parent / "provinces.csv").write_text(csv)
    with pytest.raises(BadInput) as err:
        sim.load_scenario(country)
    assert "provinces.csv" in str(err.value) and words in str(err.value)


def test_mixed_needs_a_national_scenario(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('rule = "mixed"\n')
    with pytest.raises(BadInput) as err:
        sim.load_scenario(path)
    assert "national.source" in str(err.value)
    result = runner.invoke(
        app, ["run", str(ROOT / "scenarios" / "teaching.toml"), "--rule", "mixed"]
    )
    assert result.exit_code == 2 and "unknown rule 'mixed'" in result.output


def test_cli_run_and_compare_on_a_country(country: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(country), "--out", str(out)])
    assert result.exit_code == 0, result.output
    provinces = pd.read_csv(out / "provinces.csv")
    assert provinces["rule"].tolist() == ["grassroots", "grassroots", "contractor", "hybrid"]
    cmp_out = tmp_path / "compare"
    result = runner.invoke(
        app, ["compare", str(country), "--replicates", "2", "--out", str(cmp_out)]
    )
    assert result.exit_code == 0, result.output
    runs = pd.read_csv(cmp_out / "runs.csv")
    assert sorted(runs["rule"].unique()) == ["contractor", "grassroots", "hybrid", "mixed"]
    result = runner.invoke(app, ["animate", str(country), "--out", str(tmp_path / "a.gif")])
    assert result.exit_code == 2 and "shows one province" in result.output


def test_a_tiny_province_can_import_more_solutions_than_it_has_pairs(tmp_path: Path) -> None:
    """A province imports again whenever the national entry improves: a province of two
    governments among big ones imports a service's solution more often than it has pairs
    (its solution table is sized for that), and a local development after an import is a
    duplicate."""
    (tmp_path / "provinces.csv").write_text(
        "name,prefectures,local_governments,population_2020,gdp_per_capita_yuan\n"
        + "".join(f"Big{i},2,200,20000000,120000\n" for i in range(3))
        + "Tiny,1,2,1000000,20000\n"
    )
    (tmp_path / "c.toml").write_text(
        'rule = "grassroots"\n[national]\nsource = "provinces.csv"\ncross_learning = 0.0\n'
        "sharing_lag = 0.0\n[services]\ncount = 1\nquality_sd = 0.3\nquality_mean = 0.3\n"
        "[support]\nrecognition_lag = 0.0\ncatalog_visibility = 0.0\npromotion_rate = 0.0\n"
        "[collaboration]\ninnovation_rate = 0.02\npeer_learning = 0.0\n"
    )
    national = NationalEngine(sim.load_scenario(tmp_path / "c.toml"), seed=3).run()
    tiny = national.engines[3].state
    imports = national.provinces().set_index("province")["imported_solutions"]["Tiny"]
    assert imports > tiny.n * tiny.k
    assert tiny.n_solutions == imports + tiny.developments
    # every development of a service that had a solution (here: imported) is a duplicate
    for e in national.engines:
        st = e.state
        own = st.sol_origin[: st.n_solutions] >= 0
        first_is_import = st.sol_origin[0] == -2 if st.n_solutions else False
        assert st.duplicates == own.sum() - (0 if first_is_import or not own.any() else 1)


@pytest.mark.parametrize("rule", ["mixed", "grassroots", "contractor", "hybrid"])
def test_stepping_a_country_equals_running_it(country: Path, rule: str) -> None:
    """A national run stepped one step at a time (as the app does) gives exactly what one
    call to run gives (series, outcomes, province table, agents)."""
    s = load(country, national__sharing_lag=0.0)
    whole = NationalEngine(s, rule, 9).run()
    stepped = NationalEngine(s, rule, 9)
    while not stepped.done:
        stepped.step()
    assert stepped.outcomes() == whole.outcomes()
    a, b = whole.recorder.data, stepped.recorder.data
    for c in a:
        np.testing.assert_array_equal(b[c], a[c], err_msg=c)
    pd.testing.assert_frame_equal(stepped.provinces(), whole.provinces())
    pd.testing.assert_frame_equal(stepped.agents(), whole.agents())
    if rule != "contractor":  # (crowded out there: few or no cross-province copies)
        assert whole.provinces()["cross_province_reuses"].sum() > 0


def test_a_country_of_one_province_runs_as_that_province(tmp_path: Path) -> None:
    """With no other province there is nothing to learn from abroad: cross-province
    learning must change nothing (it once turned every hazard into NaN)."""
    (tmp_path / "p.csv").write_text(PROVINCES.splitlines()[0] + "\n" + "\n".join(
        PROVINCES.splitlines()[1:3]) + "\n")  # fmt: skip
    (tmp_path / "s.toml").write_text('[national]\nsource = "p.csv"\ncross_learning = 0.5\n')
    coupled = sim.load_scenario(tmp_path / "s.toml")
    alone = sim.load_scenario(tmp_path / "s.toml", {"national.cross_learning": 0.0})
    assert coupled.provinces.names == ("North",)
    out = sim.run_outcomes(coupled, seed=1)
    assert out == sim.run_outcomes(alone, seed=1)
    assert out["coverage_final"] > 0


def test_sweep_over_a_country(country: Path, tmp_path: Path) -> None:
    """A national scenario sweeps like any other: its rules may include mixed, the workers
    get the province table, and every run equals the same run made directly."""
    from sim.experiments.sweep import read_runs, sweep

    exp_file = tmp_path / "exp.toml"
    exp_file.write_text(
        f'scenario = "{country}"\nrules = ["mixed", "grassroots"]\n'
        '[design]\nmethod = "grid"\nreplicates = 1\nseed = 5\n'
        '[parameters]\n"national.cross_learning" = { values = [0.0, 0.5] }\n'
    )
    sweep(exp_file, tmp_path / "out", workers=1)
    runs = read_runs(tmp_path / "out")
    assert len(runs) == 2 * 2
    for row in runs.to_dict("records"):
        s = load(country, national__cross_learning=row["national.cross_learning"])
        direct = sim.run_outcomes(s, rule=row["rule"], seed=int(row["seed"]))
        assert {k: row[k] for k in direct} == direct
