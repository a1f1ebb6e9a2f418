"""Every file checked like the others (issue 24, item 4): county tables bounded and finite,
damaged polygons, targets rows with extra fields, a prior that overflows, a damaged abc.db
on --resume, and a calibration whose distances are all infinite: messages, not tracebacks
or a winner."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.errors import BadInput

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "scenarios" / "data"
TEACHING = ROOT / "scenarios" / "teaching.toml"
runner = CliRunner()


def county_copy(tmp_path: Path, *, geojson: str | None = None) -> Path:
    """The Zhejiang county table (and its borders) copied, to be damaged."""
    for suffix in ("_counties.csv", "_contiguity.csv"):
        text = (DATA / f"zhejiang{suffix}").read_text(encoding="utf-8")
        (tmp_path / f"zj{suffix}").write_text(text, encoding="utf-8")
    if geojson is not None:
        (tmp_path / "zj_counties.geojson").write_text(geojson, encoding="utf-8")
    return tmp_path / "zj_counties.csv"


def load_error(counties: Path) -> BadInput:
    with pytest.raises(BadInput) as info:
        sim.load_scenario(
            ROOT / "scenarios" / "zhejiang.toml", {"population.counties": str(counties)}
        )
    return info.value


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("population_2020", "inf", "non-finite"),
        ("population_2020", "1e300", "<= 1e+10"),
        ("lat", "inf", "non-finite"),
        ("lat", "999", "<= 90"),
        ("lon", "-1000", ">= -180"),
        ("seat", "1.5", "whole"),
    ],
)
def test_county_values_are_bounded_and_finite(
    tmp_path: Path, column: str, value: str, words: str
) -> None:
    path = county_copy(tmp_path)
    table = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
    table.loc[4, column] = value
    table.to_csv(path, index=False)
    err = load_error(path)
    assert any(
        p.source == str(path) and p.key == column and words in p.message and "5" in p.message
        for p in err.problems
    ), err


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"type": "FeatureCollection", "feat', "not readable GeoJSON"),
        ('{"type": "FeatureCollection"}', "missing or not a list"),
        ("[1, 2]", "missing or not a list"),
        ('{"features": [{"geometry": {"type": "Point", "coordinates": [1, 2]}}]}', "feature(s) 1"),
        (
            '{"features": [{"properties": {"adcode": 1}, "geometry": {"type": "Polygon", '
            '"coordinates": [[[0, 0], [1, "x"], [1, 1]]]}}]}',
            "feature(s) 1",
        ),
    ],
)
def test_a_damaged_geojson_is_a_message(tmp_path: Path, text: str, words: str) -> None:
    path = county_copy(tmp_path, geojson=text)
    err = load_error(path)
    assert err.problems[0].source == str(tmp_path / "zj_counties.geojson"), err
    assert words in str(err)
    result = runner.invoke(
        app, ["run", str(ROOT / "scenarios" / "zhejiang.toml"), "--set",
              f"population.counties={path}", "--out", str(tmp_path / "o")]
    )  # fmt: skip
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_the_shipped_geojson_files_pass() -> None:
    from sim.world.counties import check_boundaries

    for path in sorted(DATA.glob("*_counties.geojson")):
        assert check_boundaries(str(path)) == [], path


# ---- calibration files -----------------------------------------------------------------------
HEAD = f'scenario = "{TEACHING}"\nrules = ["grassroots", "contractor"]\ntargets = "t.csv"\n'
PARAM = '[parameters]\n"collaboration.innovation_rate" = { low = 0.02, high = 0.2 }\n'


def load_calibration_error(tmp_path: Path, targets: str, params: str = PARAM) -> BadInput:
    from sim.calibrate import load_calibration

    (tmp_path / "t.csv").write_text(targets)
    (tmp_path / "c.toml").write_text(HEAD + params)
    with pytest.raises(BadInput) as info:
        load_calibration(tmp_path / "c.toml")
    return info.value


def test_a_targets_row_with_extra_fields_is_named(tmp_path: Path) -> None:
    for csv in ("statistic,year,value\ncoverage,2,0.3,9\n",
                "statistic,year,value\ncoverage,2,0.3\ncoverage,3,0.4,9\n"):  # fmt: skip
        err = load_calibration_error(tmp_path, csv)
        assert str(tmp_path / "t.csv") in str(err) and "do not have the header's 3" in str(err)


def test_an_sd_too_small_for_the_distance(tmp_path: Path) -> None:
    err = load_calibration_error(tmp_path, "statistic,year,value,sd\ncoverage,2,0.3,1e-300\n")
    assert "data row 1, sd" in str(err) and "too small" in str(err)


def test_a_lognorm_prior_that_overflows(tmp_path: Path) -> None:
    params = (
        '[parameters]\n"drive.contractor_capacity" = { dist = "lognorm", params = [1000, 1] }\n'
    )
    err = load_calibration_error(tmp_path, "statistic,year,value\ncoverage,2,0.3\n", params)
    assert "parameters.drive.contractor_capacity" in str(err) and "finite range" in str(err)


needs_pyabc = pytest.mark.skipif(
    importlib.util.find_spec("pyabc") is None, reason="needs the calibrate extra (pyabc)"
)


def short_calibration(tmp_path: Path, targets: str) -> Path:
    (tmp_path / "t.csv").write_text(targets)
    short = tmp_path / "short.toml"
    short.write_text(f'extends = "{TEACHING}"\n[time]\nyears = 3\nsteps_per_year = 2\n')
    path = tmp_path / "c.toml"
    path.write_text(
        HEAD.replace(str(TEACHING), str(short))
        + '[abc]\nmethod = "smc"\npopulation = 10\ngenerations = 2\npredictive = 0\nseed = 1\n'
        + PARAM
    )
    return path


@needs_pyabc
def test_a_damaged_history_on_resume_is_a_message(tmp_path: Path) -> None:
    from sim.calibrate import load_calibration
    from sim.calibrate.run import DB, MANIFEST, _write_manifest

    path = short_calibration(tmp_path, "statistic,year,value\ncoverage,2,0.3\n")
    out = tmp_path / "o"
    out.mkdir()
    _write_manifest(out, load_calibration(path), "interrupted", 1)
    (out / DB).write_bytes(b"SQLite format 3\x00" + b"\x07" * 3000)  # truncated, garbage
    result = runner.invoke(app, ["calibrate", str(path), "--out", str(out), "--resume"])
    assert result.exit_code == 2, result.output
    assert str(out / DB) in " ".join(result.stderr.split()) and "Traceback" not in result.output
    assert sorted(p.name for p in out.iterdir()) == [DB, MANIFEST]


@needs_pyabc
def test_infinite_distances_are_a_failed_calibration_not_a_winner(tmp_path: Path) -> None:
    path = short_calibration(tmp_path, "statistic,year,value\ncoverage,2,1e300\n")
    out = tmp_path / "o"
    result = runner.invoke(app, ["calibrate", str(path), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.stderr.split())
    assert "failed calibration" in text and "infinite" in text and "P(rule" not in result.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml", "short.toml", "t.csv"]


def test_merge_with_a_damaged_shard_manifest(tmp_path: Path) -> None:
    shard = tmp_path / "sw" / "shards" / "1-of-1"
    shard.mkdir(parents=True)
    (shard / "manifest.json").write_text(
        '{"status": "complete", "fingerprint": "x", "n_runs": 4, "replicates": 1, '
        '"rules": ["model"]}'
    )
    result = runner.invoke(app, ["merge", str(tmp_path / "sw")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "n_points" in " ".join(result.stderr.split())
