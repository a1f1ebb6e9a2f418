"""Ctrl-C and SIGTERM (issue 24, item 2): SIGTERM is taken as Ctrl-C, a second one exits at
once and removes the lock, and workers die with their parent, even after ``kill -9``.

Linux only where it uses /proc-like process checks (psutil) and POSIX signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def wait_for(check, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def gone(pids: list[int], seconds: float = 5.0) -> bool:
    def dead() -> bool:
        alive = []
        for pid in pids:
            try:
                alive.append(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
            except psutil.NoSuchProcess:
                alive.append(False)
        return not any(alive)

    return wait_for(dead, seconds)


def test_sigterm_is_an_interrupt() -> None:
    from sim.cli.safety import terminate_as_interrupt

    saved = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        terminate_as_interrupt()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1.0)  # the handler runs at the next bytecode
    finally:
        signal.signal(signal.SIGTERM, saved[0])
        signal.signal(signal.SIGINT, saved[1])


HOLDER = """
import sys, time
from sim.cli.safety import terminate_as_interrupt
from sim.lock import FolderLock
terminate_as_interrupt()
with FolderLock(sys.argv[1]):
    try:  # "locked" is printed inside: a Ctrl-C right after it must reach the except
        print("locked", flush=True)
        time.sleep(60)
    except KeyboardInterrupt:
        print("cleaning up", flush=True)
        time.sleep(60)  # a slow clean-up: the second Ctrl-C must not wait for it
"""


def test_a_second_interrupt_exits_at_once_and_releases_the_lock(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        assert (out / "sweep.lock").exists()
        proc.send_signal(signal.SIGINT)
        assert proc.stdout.readline().strip() == "cleaning up"
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=10)
        assert time.monotonic() - started < 5
    finally:
        proc.kill()
    assert code == 130
    assert not (out / "sweep.lock").exists()
    assert "interrupted again" in proc.stderr.read()  # type: ignore[union-attr]


POOL = """
import time
from sim.experiments.scheduler import local_pool
pool = local_pool(1)
print(pool.submit(__import__("os").getpid).result(), flush=True)
time.sleep(120)
"""


def test_workers_die_with_their_parent_after_kill_9() -> None:
    proc = subprocess.Popen([sys.executable, "-c", POOL], env=ENV, stdout=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        worker = int(proc.stdout.readline())
        assert psutil.pid_exists(worker)
        proc.kill()  # SIGKILL: no clean-up runs in the parent
        proc.wait(timeout=10)
        assert gone([worker]), "the worker outlived its parent"
    finally:
        proc.kill()


MODEL = """
import time


def slow(params, seed):
    time.sleep(30)
    return {"y": params["x"]}
"""


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl-c twice", "kill -9"])
def test_a_sweep_with_workers_stops_and_leaves_nothing(tmp_path: Path, how: str) -> None:
    """``sim sweep --workers 2`` (the workers only sleep): Ctrl-C twice exits at once with
    the lock removed; after ``kill -9`` the workers end too."""
    (tmp_path / "slowmodel.py").write_text(MODEL)
    exp = tmp_path / "slow.toml"
    exp.write_text(
        textwrap.dedent("""\
        model = "slowmodel:slow"
        [design]
        method = "lhs"
        n = 8
        [parameters]
        x = { low = 0, high = 1 }
        """)
    )
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "sweep", str(exp), "--out", str(out), "--workers", "2"],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        parent = psutil.Process(proc.pid)

        def workers() -> list[int]:
            return [c.pid for c in parent.children(recursive=True) if "python" in c.name()]

        assert wait_for(lambda: len(workers()) >= 2 and (out / "sweep.lock").exists(), 120)
        time.sleep(1.0)  # the chunks are running in the workers
        children = [c.pid for c in parent.children(recursive=True)]
        started = time.monotonic()
        if how == "kill -9":
            proc.kill()
        else:
            proc.send_signal(signal.SIGINT)
            time.sleep(0.2)
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=20)
        assert time.monotonic() - started < 10
        assert gone(children, 10), "workers or the resource tracker outlived the sweep"
        if how != "kill -9":
            # 130, or killed by the second SIGINT itself once Python's exit has restored
            # the default handler: at once either way
            assert code in (130, -signal.SIGINT), proc.stderr.read()  # type: ignore[union-attr]
            assert not (out / "sweep.lock").exists()
            assert "Traceback" not in proc.stderr.read()  # type: ignore[union-attr]
    finally:
        proc.kill()
