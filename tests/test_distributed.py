"""Distributed sweeps: Dask LocalCluster, shards + merge, a worker dying mid-sweep."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.errors import BadInput
from sim.experiments.sweep import covered, merge, read_runs, sweep

from .test_sweep import write_experiment

distributed = pytest.importorskip("dask.distributed", reason="needs the [dask] extra")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("ref")
    exp = write_experiment(folder, n=16, replicates=2)
    sweep(exp, folder / "out", workers=1)
    return exp, read_runs(folder / "out")


def test_dask_local_cluster_gives_identical_runs(reference, tmp_path: Path) -> None:
    exp, expected = reference
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as c,
        distributed.Client(c) as client,
    ):
        sweep(exp, tmp_path / "dask", executor=client.get_executor(), in_flight=4)
    pd.testing.assert_frame_equal(read_runs(tmp_path / "dask"), expected)


def test_shards_merged_give_identical_runs(reference, tmp_path: Path) -> None:
    exp, expected = reference
    out = tmp_path / "sharded"
    for i in (2, 3, 1):  # any order, separately (as separate jobs on a cluster would)
        sweep(exp, out, workers=1, shard=(i, 3))
    shard2 = read_runs(out / "shards" / "2-of-3")
    assert set(shard2["sample_id"] % 3) == {1}  # shard I holds ids with id mod N == I - 1
    merge(out)
    pd.testing.assert_frame_equal(read_runs(out), expected)


def test_merge_names_missing_and_unfinished_shards(reference, tmp_path: Path) -> None:
    exp, _ = reference
    out = tmp_path / "partial"
    sweep(exp, out, workers=1, shard=(1, 3))
    with pytest.raises(BadInput, match=r"missing shard\(s\) 2/3, 3/3"):
        merge(out)
    manifest = out / "shards" / "1-of-3" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"complete"', '"running"'))
    with pytest.raises(BadInput, match=r"unfinished shard\(s\) 1/3"):
        merge(out)


@pytest.mark.slow
def test_a_dying_dask_worker_loses_and_duplicates_nothing(reference, tmp_path: Path) -> None:
    exp, expected = reference
    out = tmp_path / "dying"
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as c,
        distributed.Client(c) as client,
    ):
        pids = list(client.run(os.getpid).values())
        killed = threading.Event()

        def kill_one_worker() -> None:
            deadline = time.monotonic() + 60
            while not covered(out) and time.monotonic() < deadline:
                time.sleep(0.02)
            os.kill(pids[0], signal.SIGKILL)  # the nanny restarts it; its tasks are retried
            killed.set()

        killer = threading.Thread(target=kill_one_worker)
        killer.start()
        sweep(exp, out, executor=client.get_executor(), in_flight=4)
        killer.join()
    assert killed.is_set()
    runs = read_runs(out)
    assert not runs["run_id"].duplicated().any()
    pd.testing.assert_frame_equal(runs, expected)


def test_mpi_pool_gives_identical_runs(reference, tmp_path: Path) -> None:
    """mpiexec -n 3 python -m mpi4py.futures -m sim sweep ... --scheduler mpi (the [mpi] extra)."""
    import shutil
    import subprocess
    import sys

    pytest.importorskip("mpi4py", reason="needs the [mpi] extra")
    mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which(
        "mpiexec"
    )
    if mpiexec is None:
        pytest.skip("no mpiexec found (the [mpi] extra installs MPICH's)")
    exp, expected = reference
    out = tmp_path / "mpi"
    cmd = [mpiexec, "-n", "3", sys.executable, "-m", "mpi4py.futures", "-m", "sim", "sweep",
           str(exp), "--out", str(out), "--scheduler", "mpi", "--no-analyze"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    pd.testing.assert_frame_equal(read_runs(out), expected)
