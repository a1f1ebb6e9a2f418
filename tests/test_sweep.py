"""sim sweep: identity of runs, resume after a kill, --extend, worker independence, guards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.errors import BadInput
from sim.experiments.sweep import covered, read_runs, sweep
from sim.experiments.worker import run_seed

ROOT = Path(__file__).resolve().parent.parent


def write_experiment(folder: Path, n: int = 16, replicates: int = 2, years: float = 2.0) -> Path:
    """A small experiment on a shortened teaching scenario (runs of ~2 ms)."""
    (folder / "short.toml").write_text(
        f'extends = "{ROOT / "scenarios" / "teaching.toml"}"\n[time]\nyears = {years}\n'
    )
    path = folder / "exp.toml"
    path.write_text(
        f"""scenario = "short.toml"
rules = ["grassroots", "contractor"]
contrasts = ["grassroots - contractor"]
outcomes = ["coverage_mean", "total_cost"]

[design]
method = "sobol"
n = {n}
replicates = {replicates}
seed = 5

[parameters]
"collaboration.peer_learning" = {{ low = 0.1, high = 1.0 }}
"drive.contractor_capacity" = {{ low = 20, high = 200 }}
"services.count" = {{ low = 2, high = 9 }}
"""
    )
    return path


def test_runs_have_stable_ids_and_rule_independent_seeds(tmp_path: Path) -> None:
    exp = write_experiment(tmp_path)
    sweep(exp, tmp_path / "out", workers=1)
    runs = read_runs(tmp_path / "out")
    n_points = 16 * (3 + 2)
    assert len(runs) == n_points * 2 * 2
    assert runs["run_id"].tolist() == list(range(len(runs)))
    # seeds depend on (sample, replicate) only: both rules share them (common random numbers)
    per_rule = runs.pivot_table(index=["sample_id", "replicate"], columns="rule", values="seed")
    assert (per_rule["grassroots"] == per_rule["contractor"]).all()
    row = runs.iloc[7]
    assert row["seed"] == run_seed(5, int(row["sample_id"]), int(row["replicate"]))
    # integer keys are rounded: the scenario ran with a whole number of services
    assert runs["services.count"].between(2, 9).all()


def test_results_do_not_depend_on_worker_count(tmp_path: Path) -> None:
    exp = write_experiment(tmp_path, n=8)
    sweep(exp, tmp_path / "one", workers=1)
    sweep(exp, tmp_path / "two", workers=2)
    pd.testing.assert_frame_equal(read_runs(tmp_path / "one"), read_runs(tmp_path / "two"))


def test_extend_runs_only_new_rows_and_equals_a_fresh_sweep(tmp_path: Path) -> None:
    exp = write_experiment(tmp_path, n=8, replicates=1)
    first = sweep(exp, tmp_path / "grow", workers=1)
    before = read_runs(tmp_path / "grow")
    grown = sweep(exp, tmp_path / "grow", workers=1, extend=16)
    assert grown.ran == grown.n_runs - first.n_runs  # only the new rows ran
    after = read_runs(tmp_path / "grow")
    pd.testing.assert_frame_equal(after.iloc[: len(before)], before)  # old runs kept as they were
    (tmp_path / "fresh").mkdir()
    exp16 = write_experiment(tmp_path / "fresh", n=16, replicates=1)
    sweep(exp16, tmp_path / "fresh" / "out", workers=1)
    pd.testing.assert_frame_equal(after, read_runs(tmp_path / "fresh" / "out"))


@pytest.mark.slow
def test_resume_after_kill_equals_uninterrupted(tmp_path: Path) -> None:
    exp = write_experiment(tmp_path, n=32, replicates=2, years=4.0)
    reference = tmp_path / "reference"
    sweep(exp, reference, workers=2)
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "sweep", str(exp), "--out", str(out), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while len(covered(out)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = len(covered(out))
    assert partial >= 2
    # without --resume the unfinished folder is refused, and the message says what to do
    with pytest.raises(BadInput, match="--resume"):
        sweep(exp, out, workers=1)
    result = sweep(exp, out, workers=2, resume=True)
    assert result.complete and 0 < result.ran < result.n_runs
    pd.testing.assert_frame_equal(read_runs(out), read_runs(reference))
    assert not any(p.name.startswith(".") for p in (out / "runs.parquet").iterdir())


def test_interrupt_exits_130_and_suggests_resume(tmp_path: Path) -> None:
    exp = write_experiment(tmp_path, n=32, replicates=2, years=4.0)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "sweep", str(exp), "--out", str(out), "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not covered(out) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "--resume" in stderr and "Traceback" not in stderr


def test_folder_guards(tmp_path: Path) -> None:
    exp = write_experiment(tmp_path, n=4, replicates=1)
    out = tmp_path / "out"
    sweep(exp, out, workers=1)
    again = sweep(exp, out, workers=1)  # complete and same experiment: nothing to run
    assert again.ran == 0 and again.complete
    (tmp_path / "other").mkdir()
    other = write_experiment(tmp_path / "other", n=4, replicates=1, years=3.0)
    with pytest.raises(BadInput, match="foreign"):
        sweep(other, out, workers=1)
    forced = sweep(other, out, workers=1, force=True)
    assert forced.ran == forced.n_runs
    with pytest.raises(BadInput, match="power of two"):
        sweep(other, out, workers=1, extend=6)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "mine.txt").write_text("keep me")
    with pytest.raises(BadInput, match="not a sweep folder"):
        sweep(exp, notes, workers=1)
    assert (notes / "mine.txt").read_text() == "keep me"
