"""The command line end to end, on temporary folders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.outcomes import COLUMNS, OUTCOMES

ROOT = Path(__file__).resolve().parent.parent
TEACHING = str(ROOT / "scenarios" / "teaching.toml")
runner = CliRunner()


def strict_json(path: Path) -> dict:
    def reject(token: str) -> None:
        raise ValueError(f"non-strict JSON token {token}")

    return json.loads(path.read_text(), parse_constant=reject)


def test_run_writes_every_output(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(
        app, ["run", TEACHING, "--rule", "contractor", "--seed", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "coverage_final" in result.output
    ts = pd.read_csv(out / "timeseries.csv")
    assert list(ts.columns) == list(COLUMNS)
    agents = pd.read_csv(out / "agents.csv")
    assert {"region", "population", "capacity", "coverage"} <= set(agents.columns)
    outcomes = strict_json(out / "outcomes.json")
    assert set(outcomes) == set(OUTCOMES)
    scenario = strict_json(out / "scenario.json")
    assert (
        scenario["drive"]["contractor_capacity"]
        == sim.load_scenario(TEACHING).drive.contractor_capacity
    )
    prov = strict_json(out / "provenance.json")
    assert prov["seed"] == 3 and prov["rule"] == "contractor" and prov["version"] == sim.__version__
    direct = sim.run(sim.load_scenario(TEACHING), rule="contractor", seed=3)
    assert outcomes == pytest.approx(direct.outcomes)


def test_set_overrides_reach_the_model(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = [
        "run",
        TEACHING,
        "--set",
        "time.years=2",
        "--set",
        "population.network=small_world",
        "--set",
        "population.mean_degree=4",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    scenario = strict_json(out / "scenario.json")
    assert scenario["time"]["years"] == 2 and scenario["population"]["network"] == "small_world"
    assert len(pd.read_csv(out / "timeseries.csv")) == 2 * 12 + 1


def test_compare_writes_table_and_figure(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", TEACHING, "--replicates", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "paired difference" in result.output and "service_loss" in result.output
    table = pd.read_csv(out / "compare.csv")
    assert {"outcome", "rule", "mean", "ci_low", "ci_high", "n"} <= set(table.columns)
    contrasts = {f"{a} - {b}" for i, a in enumerate(sim.RULES) for b in sim.RULES[i + 1 :]}
    assert set(table["rule"]) == {*sim.RULES, *contrasts}
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 4 * len(sim.RULES)
    # the contrast row is the mean of the paired per-replicate differences
    g = runs[runs.rule == "grassroots"].sort_values("replicate")["total_cost"].to_numpy()
    c = runs[runs.rule == "contractor"].sort_values("replicate")["total_cost"].to_numpy()
    row = table[(table.rule == "grassroots - contractor") & (table.outcome == "total_cost")].iloc[0]
    assert row["mean"] == pytest.approx((g - c).mean())
    assert row.ci_low < row["mean"] < row.ci_high
    for png in ("coverage.png", "panels.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_a_subset_of_rules(tmp_path: Path) -> None:
    out = tmp_path / "two"
    args = [
        "compare",
        TEACHING,
        "--replicates",
        "3",
        "--rules",
        "contractor,hybrid",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "compare.csv")
    assert set(table["rule"]) == {"contractor", "hybrid", "contractor - hybrid"}


def test_validate(tmp_path: Path) -> None:
    good = runner.invoke(app, ["validate", TEACHING, str(ROOT / "scenarios" / "zhejiang.toml")])
    assert good.exit_code == 0 and good.output.count("ok") == 2
    bad = tmp_path / "bad.toml"
    bad.write_text('[time]\nyears = "ten"\n')
    result = runner.invoke(app, ["validate", TEACHING, str(bad)])
    assert result.exit_code == 2
    assert "time.years" in result.stderr and str(bad) in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "{missing}"], "file not found"),
        (["run", "{bad}"], "drive.contractor_capacty"),
        (["run", TEACHING, "--rule", "central"], "unknown rule"),
        (["run", TEACHING, "--set", "drive.build_rat=3"], 'did you mean "drive.build_rate"'),
        (["run", TEACHING, "--set", "drive.build_rate=-3"], "drive.build_rate"),
        (["run", TEACHING, "--set", "noequals"], "KEY=VALUE"),
        (["compare", "{bad}"], "drive.contractor_capacty"),
        (["compare", TEACHING, "--replicates", "0"], "replicates"),
        (["run", TEACHING, "--seed", "-1"], "seed"),
        (["compare", TEACHING, "--rules", "grassroots,central"], "--rules"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[drive]\ncontractor_capacty = 5\n")
    out = tmp_path / "out"
    args = [a.format(missing=tmp_path / "nope.toml", bad=bad) for a in args] + ["--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr + result.output
    assert "Traceback" not in result.stderr + result.output
    assert not out.exists()


def test_python_m_sim_and_console_script() -> None:
    result = subprocess.run([sys.executable, "-m", "sim", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "compare" in result.stdout
    result = subprocess.run([sys.executable, "-m", "sim", "bogus"], capture_output=True, text=True)
    assert result.returncode == 2


def test_parameter_reference_is_current() -> None:
    """docs/parameters.md is generated from sim/params.py; regenerate with `make docs`."""
    from sim.reference import markdown

    assert (ROOT / "docs" / "parameters.md").read_text() == markdown()
