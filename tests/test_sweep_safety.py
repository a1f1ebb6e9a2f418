"""Sweeps under stress: a lock keeps a second sweep out, failing runs are recorded and stay
resumable, a worker that dies is retried and then reported, a truncated shard part is named."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import BadInput
from sim.experiments.sweep import FAILURES, merge, read_runs, sweep
from sim.lock import LOCK, FolderLock

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

MODELS = '''
import os


def flaky(params, seed):
    """Fails (or kills its process) in parts of the space until FLAKY_FIXED=1."""
    if os.environ.get("FLAKY_FIXED") != "1":
        if params["x1"] > 0.6:
            raise ValueError(f"x1 too large [/]: {params['x1']:.3f}")
        if params["x1"] < -0.75 and os.environ.get("FLAKY_KILL") == "1":
            os._exit(3)
    return {"y": params["x1"] + 2 * params["x2"]}
'''


def experiment(tmp_path: Path, n: int = 16, replicates: int = 1) -> Path:
    (tmp_path / "flakymodels.py").write_text(MODELS)
    path = tmp_path / "flaky.toml"
    path.write_text(
        'model = "flakymodels:flaky"\n'
        f'[design]\nmethod = "lhs"\nn = {n}\nseed = 3\nreplicates = {replicates}\n'
        "[parameters]\nx1 = { low = -1, high = 1 }\nx2 = { low = -1, high = 1 }\n"
    )
    return path


# ---- the lock --------------------------------------------------------------------------------


def write_lock(folder: Path, **holder) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK).write_text(json.dumps(holder))


def test_a_live_lock_keeps_force_and_resume_out(tmp_path: Path) -> None:
    exp = experiment(tmp_path)
    out = tmp_path / "out"
    with FolderLock(out):  # this process: alive
        for kwargs in ({"force": True}, {"resume": True}, {}):
            with pytest.raises(BadInput, match="another sweep is writing") as info:
                sweep(exp, out, workers=1, **kwargs)
            assert f"process {os.getpid()}" in str(info.value)
            assert socket.gethostname() in str(info.value)
        assert [p.name for p in out.iterdir()] == [LOCK]  # nothing touched
    assert not out.exists()  # released, and the folder it made removed again


def test_stale_locks_are_replaced(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = int(done.stdout)
    host = socket.gethostname()
    stale = [
        {"host": host, "pid": dead, "started": 1.0, "since": time.time()},  # process gone
        {"host": host, "pid": os.getpid(), "started": 1.0, "since": time.time()},  # id reused
    ]
    for i, holder in enumerate(stale):
        folder = tmp_path / f"s{i}"
        write_lock(folder, **holder)
        with FolderLock(folder):
            assert json.loads((folder / LOCK).read_text())["pid"] == os.getpid()
        assert not (folder / LOCK).exists()


def test_a_lock_of_another_host_or_being_written_is_respected(tmp_path: Path) -> None:
    other = tmp_path / "other"
    write_lock(other, host="elsewhere.example", pid=1, started=1.0, since=time.time())
    with pytest.raises(BadInput, match=r"host elsewhere\.example"), FolderLock(other):
        pass
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / LOCK).write_text("")  # created, not yet written
    with pytest.raises(BadInput, match="being written"), FolderLock(fresh):
        pass
    old = time.time() - 3600
    os.utime(fresh / LOCK, (old, old))  # an empty lock an hour old: its writer died
    with FolderLock(fresh):
        pass


def test_a_second_sweep_cli_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    exp = experiment(tmp_path)
    out = tmp_path / "out"
    with FolderLock(out):
        result = runner.invoke(app, ["sweep", str(exp), "--out", str(out), "--force"])
    assert result.exit_code == 2
    assert "another sweep is writing" in result.stderr and "Traceback" not in result.stderr


# ---- failing runs ------------------------------------------------------------------------------


def test_failing_runs_are_recorded_and_stay_resumable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = experiment(tmp_path)
    monkeypatch.delenv("FLAKY_FIXED", raising=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["sweep", str(exp), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 1, result.output
    text = " ".join(result.stderr.split())
    assert "the sweep failed" in text and "x1 too large [/]" in text and "--resume" in text
    failures = pd.read_csv(out / FAILURES)
    runs = read_runs(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert len(failures) > 0 and failures["error"].str.startswith("ValueError").all()
    assert set(failures["sample_id"]).isdisjoint(runs["sample_id"])
    assert len(runs) + len(failures) == manifest["n_runs"]
    assert (runs["x1"] <= 0.6).all()
    # without --resume the folder is refused and the message says why
    again = runner.invoke(app, ["sweep", str(exp), "--out", str(out), "--workers", "1"])
    assert again.exit_code == 2 and "failed" in again.stderr
    # fixed: --resume runs exactly the failed points, and the folder equals a clean sweep
    monkeypatch.setenv("FLAKY_FIXED", "1")
    resumed = sweep(exp, out, workers=1, resume=True)
    assert resumed.complete and not resumed.failed and resumed.ran == len(failures)
    assert not (out / FAILURES).exists()
    clean = sweep(exp, tmp_path / "clean", workers=1)
    pd.testing.assert_frame_equal(read_runs(out), read_runs(clean.folder))


def test_a_worker_that_dies_is_retried_then_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three points, one chunk each (128 replicates); the last kills its worker every time.
    It is run alone twice, then reported; the others are kept. (Each new worker process
    imports the package, a few seconds: the design is as small as shows the mechanism.)"""
    (tmp_path / "flakymodels.py").write_text(MODELS)
    exp = tmp_path / "dying.toml"
    exp.write_text(
        'model = "flakymodels:flaky"\n[design]\nmethod = "grid"\nreplicates = 128\n'
        "[parameters]\nx1 = { values = [0.1, 0.2, -0.9] }\nx2 = { values = [0.0] }\n"
    )
    monkeypatch.delenv("FLAKY_FIXED", raising=False)
    monkeypatch.setenv("FLAKY_KILL", "1")
    out = tmp_path / "out"
    result = sweep(exp, out, workers=2)
    failures = pd.read_csv(out / FAILURES)
    assert result.failed and not result.complete
    assert set(failures["sample_id"]) == {2} and len(failures) == 128  # every run of it
    assert failures["error"].str.contains("worker process died").all()
    assert "2 times" in failures["error"].iloc[0]
    assert set(read_runs(out)["sample_id"]) == {0, 1}
    assert json.loads((out / "manifest.json").read_text())["status"] == "failed"


# ---- merge -------------------------------------------------------------------------------------


def test_merge_names_a_truncated_shard_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLAKY_FIXED", "1")
    exp = experiment(tmp_path, n=8)
    out = tmp_path / "out"
    for i in (1, 2):
        sweep(exp, out, workers=1, shard=(i, 2))
    part = next((out / "shards" / "2-of-2" / "runs.parquet").iterdir())
    part.write_bytes(part.read_bytes()[:40])
    result = runner.invoke(app, ["merge", str(out)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.stderr.split())
    assert "truncated" in text and part.name in text and "Traceback" not in text
    assert not (out / "runs.parquet").exists() and not (out / LOCK).exists()
    part.unlink()  # what the message says to do
    sweep(exp, out, workers=1, shard=(2, 2), resume=True)
    assert merge(out).complete
