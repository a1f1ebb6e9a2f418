"""Nothing a user made is destroyed by another command (issue 24, item 1): an --out holding
another kind of result is refused unless forced; calibrations are locked; interrupted,
killed or failing calibrations keep their finished generations where --resume finds them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import BadInput
from sim.lock import LOCK, FolderLock
from sim.outputs import check_out, kind_of
from tests.conftest import files

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "scenarios" / "teaching.toml"
runner = CliRunner()


def fake(folder: Path, kind: str) -> Path:
    """A folder as each command leaves it (the files that tell its kind, and provenance
    without a "kind", as written before issue 24)."""
    folder.mkdir(parents=True)
    names = {
        "sweep": ["manifest.json", "runs.parquet", "report.md"],
        "calibration": ["calibration.json", "abc.db", "posterior.csv"],
        "comparison": ["compare.csv", "runs.csv"],
        "run": ["outcomes.json", "timeseries.csv"],
    }[kind]
    for name in names:
        (folder / name).write_text("{}")
    (folder / "provenance.json").write_text(json.dumps({"command": ["sim"]}))
    return folder


@pytest.mark.parametrize("kind", ["sweep", "calibration", "comparison"])
def test_run_refuses_an_out_of_another_kind_unless_forced(tmp_path: Path, kind: str) -> None:
    out = fake(tmp_path / "o", kind)
    before = files(out)
    args = ["run", str(TEACHING), "--set", "time.years=1", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    text = " ".join(result.stderr.split())
    assert str(out) in text and f"holds a {kind}" in text and "--force" in text, text
    assert files(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["o"]
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert kind_of(out) == "run"
    assert json.loads((out / "provenance.json").read_text())["kind"] == "run"


def test_compare_refuses_a_run_and_replaces_a_comparison(tmp_path: Path) -> None:
    out = fake(tmp_path / "o", "run")
    args = ["compare", str(TEACHING), "--replicates", "2", "--set", "time.years=1"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 2 and "holds a single run" in " ".join(result.stderr.split())
    same = fake(tmp_path / "c", "comparison")
    assert runner.invoke(app, [*args, "--out", str(same)]).exit_code == 0  # same kind: replaced
    assert kind_of(same) == "comparison"


def test_kind_read_from_provenance_first(tmp_path: Path) -> None:
    out = tmp_path / "x"
    out.mkdir()
    (out / "provenance.json").write_text('{"kind": "atlas"}')
    (out / "outcomes.json").write_text("{}")
    assert kind_of(out) == "atlas"
    with pytest.raises(BadInput, match="holds an atlas"):
        check_out(out, kind="run")
    check_out(out, kind="run", force=True)
    assert kind_of(tmp_path / "none") is None


def test_sweep_refuses_a_calibration(tmp_path: Path) -> None:
    out = fake(tmp_path / "cal", "calibration")
    exp = tmp_path / "e.toml"
    exp.write_text(
        f'scenario = "{TEACHING}"\n[design]\nmethod = "lhs"\nn = 2\n'
        '[parameters]\n"drive.contractor_capacity" = { low = 20, high = 200 }\n'
    )
    before = files(out)
    result = runner.invoke(app, ["sweep", str(exp), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 2 and files(out) == before


# ---- calibrations --------------------------------------------------------------------------

needs_pyabc = pytest.mark.skipif(
    importlib.util.find_spec("pyabc") is None, reason="needs the calibrate extra (pyabc)"
)

ONE = '[parameters]\n"collaboration.innovation_rate" = { low = 0.02, high = 0.2 }\n'


def calibration(tmp_path: Path, targets: str = "statistic,year,value\ncoverage,2,0.3\n") -> Path:
    """One parameter, two rules, two generations of 10 on a 3-year teaching province."""
    (tmp_path / "t.csv").write_text(targets)
    short = tmp_path / "short.toml"
    short.write_text(f'extends = "{TEACHING}"\n[time]\nyears = 3\nsteps_per_year = 2\n')
    path = tmp_path / "c.toml"
    path.write_text(
        f'scenario = "{short}"\nrules = ["grassroots", "contractor"]\ntargets = "t.csv"\n'
        '[abc]\nmethod = "smc"\npopulation = 10\ngenerations = 2\npredictive = 3\nseed = 1\n' + ONE
    )
    return path


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(calibration file, its finished output folder), made once for the tests below."""
    from sim.calibrate import calibrate

    d = tmp_path_factory.mktemp("finished")
    path = calibration(d)
    calibrate(path, d / "done", workers=1)
    return path, d / "done"


@needs_pyabc
def test_one_parameter_calibration_writes_its_report(finished: tuple[Path, Path]) -> None:
    """pyabc's KDE matrix cannot draw one parameter ('Axes' object is not subscriptable)."""
    _, out = finished
    assert (out / "report.md").is_file() and (out / "abc.db").is_file()
    assert list((out / "figures").glob("posterior*.png"))


@needs_pyabc
def test_a_failing_report_keeps_every_generation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.calibrate.report as report

    def broken(*args, **kwargs):
        raise TypeError("a figure failed")

    monkeypatch.setattr(report, "write_outputs", broken)
    path = calibration(tmp_path)
    out = tmp_path / "o"
    result = runner.invoke(app, ["calibrate", str(path), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 1, result.output
    said = " ".join(result.stderr.split())  # the message is wrapped at the terminal's width
    assert "--resume" in said and "a figure failed" in said
    assert "Traceback" not in result.stderr
    assert (out / "abc.db").is_file()
    assert json.loads((out / "calibration.json").read_text())["generations"] == 2
    monkeypatch.undo()
    again = runner.invoke(
        app, ["calibrate", str(path), "--out", str(out), "--workers", "1", "--resume"]
    )
    assert again.exit_code == 0 and "0 generation(s) run (2 in all)" in again.output
    assert (out / "report.md").is_file()


@needs_pyabc
def test_interrupt_in_the_predictive_runs_keeps_the_generations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.calibrate.report as report

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "write_outputs", interrupted)
    path = calibration(tmp_path)
    out = tmp_path / "o"
    result = runner.invoke(app, ["calibrate", str(path), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 130
    assert "kept in" in result.stderr and (out / "abc.db").is_file()
    assert json.loads((out / "calibration.json").read_text())["status"] == "interrupted"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    monkeypatch.undo()
    resumed = runner.invoke(
        app, ["calibrate", str(path), "--out", str(out), "--workers", "1", "--resume"]
    )
    assert resumed.exit_code == 0 and "0 generation(s) run (2 in all)" in resumed.output


@needs_pyabc
def test_interrupting_a_resume_keeps_the_finished_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, finished: tuple[Path, Path]
) -> None:
    from sim.calibrate import calibrate, run

    path, done = finished
    out = tmp_path / "o"
    shutil.copytree(done, out)
    before = files(out)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "_run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        calibrate(path, out, workers=1, resume=True)
    assert files(out) == before


@needs_pyabc
def test_a_killed_calibration_is_recovered_by_resume(
    tmp_path: Path, finished: tuple[Path, Path]
) -> None:
    """kill -9 leaves the temporary folder; the next call moves its generations to --out."""
    path, done = finished
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stranded = tmp_path / f".o.tmp-{int(dead.stdout)}"
    stranded.mkdir()
    for name in ("abc.db", "calibration.json"):
        (stranded / name).write_bytes((done / name).read_bytes())
    out = tmp_path / "o"
    result = runner.invoke(
        app, ["calibrate", str(path), "--out", str(out), "--workers", "1", "--resume"]
    )
    assert result.exit_code == 0, result.output
    assert "0 generation(s) run (2 in all)" in result.output
    assert not stranded.exists()


@needs_pyabc
def test_two_calibrations_into_one_out_are_refused(tmp_path: Path) -> None:
    path = calibration(tmp_path)
    out = tmp_path / "o"
    with FolderLock(out):
        result = runner.invoke(app, ["calibrate", str(path), "--out", str(out)])
        assert result.exit_code == 2
        assert "another calibration is writing" in " ".join(result.stderr.split())
        assert [p.name for p in out.iterdir()] == [LOCK]
    assert os.path.exists(out) is False
