"""An unwritable kernel cache: the model still runs, and says where its kernels went
(issue 24, item 5)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.core import cache

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_cache_dir():
    """NUMBA_CACHE_DIR unset during the test and removed after it. ``fall_back`` sets it in
    ``os.environ``; ``monkeypatch.delenv`` of an unset variable records nothing to undo, so
    it leaked, and every later subprocess of the test process (CLI runs, sweep and Dask
    workers) compiled the kernels anew into an empty temporary cache."""
    saved = os.environ.pop("NUMBA_CACHE_DIR", None)
    yield
    os.environ.pop("NUMBA_CACHE_DIR", None)
    if saved is not None:
        os.environ["NUMBA_CACHE_DIR"] = saved


def test_a_writable_cache_is_left_alone(no_cache_dir) -> None:
    assert cache.fall_back(lambda folder: True) is None
    assert "NUMBA_CACHE_DIR" not in os.environ


def test_only_the_last_writable_folder_is_enough(no_cache_dir) -> None:
    last = cache.cache_folders()[-1]
    assert cache.fall_back(lambda folder: folder == last) is None


def test_no_writable_cache_gives_a_temporary_one_and_one_line(monkeypatch, no_cache_dir) -> None:
    import numba.core.config

    monkeypatch.setattr(numba.core.config, "CACHE_DIR", numba.core.config.CACHE_DIR)
    note = cache.fall_back(lambda folder: False)
    folder = os.environ["NUMBA_CACHE_DIR"]
    assert note is not None and "\n" not in note and folder in note
    assert Path(folder).is_dir() and cache._writable(Path(folder))
    assert folder == numba.core.config.CACHE_DIR


def test_an_unwritable_numba_cache_dir_is_not_enough_alone(tmp_path: Path) -> None:
    """NUMBA_CACHE_DIR under a plain file cannot be written; the package's own folder
    still can, so nothing is said and a run works."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(blocker / "cache"), "PYTHONPATH": str(ROOT)}
    code = "import sim.core; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok"
    assert "no kernel cache" not in out.stderr
