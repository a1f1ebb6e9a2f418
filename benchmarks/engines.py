"""The engines compared side by side: this checkout and the previous engine.

The previous engine is measured in the same benchmark run from a temporary git worktree of
its commit (:func:`previous_checkout`), imported by subprocesses that run with the same
interpreter (the venv has every dependency both need) and with that checkout first on
``PYTHONPATH`` (:class:`Checkout`). This checkout is measured the same way where a
subprocess is needed (whole-process timings, sweeps), so the two are treated alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PREVIOUS_COMMIT = "e737add"  # the last commit of the NumPy engine (before issue 9)


@dataclass(frozen=True)
class Checkout:
    """A source tree of ``sim`` that subprocesses import: ``label`` names it in tables."""

    label: str
    path: Path

    def env(self) -> dict[str, str]:
        """This environment with only ``path`` on ``PYTHONPATH``. ``NUMBA_CACHE_DIR`` is
        dropped so that compiled kernels are cached where the cache timings look for them
        (``sim/**/__pycache__``)."""
        env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
        env["PYTHONPATH"] = str(self.path)
        return env

    def python(self, *args: str) -> list[str]:
        """A command line running this checkout's ``sim`` (run it with :meth:`env`, and
        ``cwd=self.path``: ``python -m`` puts the working directory first on the path)."""
        return [sys.executable, *args]

    def sim(self, *args: str) -> list[str]:
        return self.python("-m", "sim", *args)


THIS = Checkout("this engine", ROOT)


@contextlib.contextmanager
def previous_checkout(commit: str = PREVIOUS_COMMIT) -> Iterator[Checkout | None]:
    """A detached git worktree of ``commit`` under a fresh temporary folder, byte-compiled,
    removed afterwards; None (with a note on stderr) when it cannot be made (outside git)."""
    folder = Path(tempfile.mkdtemp(prefix="prev-engine-"))
    path = folder / "src"
    made = subprocess.run(
        ["git", "worktree", "add", "--detach", str(path), commit],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if made.returncode:
        shutil.rmtree(folder, ignore_errors=True)
        print(f"previous engine not measured: {made.stderr.strip()}", file=sys.stderr)
        yield None
        return
    # byte-compile it, as installing does (this checkout's .pyc files exist already)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(path / "sim")], check=False)
    try:
        yield Checkout(f"previous engine ({commit})", path)
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, capture_output=True
        )
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


class Worker:
    """A running ``engine_worker.py`` on one checkout; :meth:`time` is one timed run."""

    def __init__(self, checkout: Checkout) -> None:
        self.checkout = checkout
        self.proc = subprocess.Popen(
            checkout.python(str(HERE / "engine_worker.py")),
            cwd=checkout.path,
            env=checkout.env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        hello = self._read()
        self.sim_file = Path(hello["sim"])
        if not self.sim_file.is_relative_to(checkout.path):
            self.close()
            raise RuntimeError(f"{checkout.label}: imported {self.sim_file}, not its own sim")

    def _read(self) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.checkout.label}: the timing worker exited")
        return json.loads(line)

    def time(self, workload: str, seed: int) -> tuple[float, float, object]:
        """(wall seconds, CPU seconds, check value) of one whole run, timed in the worker."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"workload": workload, "seed": seed}) + "\n")
        self.proc.stdin.flush()
        answer = self._read()
        return answer["wall"], answer["cpu"], answer["check"]

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
