"""What every benchmark section shares: interleaved timing, summaries, tables, the machine.

Every timing is one whole run, measured with ``time.perf_counter`` (and
``time.process_time``): each timed cell is warmed up once (seed 0, not counted), then run
once per seed 1..R; implementations compared in one table are interleaved seed by seed;
garbage is collected between runs, outside the timed region. A run timed in another
process (a worker, see ``engines.py``) returns a :class:`Timing` measured there.
"""

from __future__ import annotations

import gc
import hashlib
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mesa
import networkx as nx
import numpy as np
import scipy
from mesa.discrete_space import Cell
from workloads import BASS_STEPS, ROOT, Timed

import sim

WARMUP_SEED = 0
Series = dict[str, list[float]]


@dataclass(frozen=True)
class Timing:
    """A run timed elsewhere (in a worker process): its wall and CPU seconds there."""

    wall: float
    cpu: float
    value: Any


def measure(fns: dict[str, Timed], reps: int) -> tuple[Series, Series, dict[str, list[Any]]]:
    """Run each function once per seed 1..reps, interleaved (after one warm-up, seed 0).

    Returns wall-clock seconds (``perf_counter``), CPU seconds of the process that ran it
    (``process_time``, less sensitive to other load on the machine) and the results.
    """
    for fn in fns.values():
        fn(WARMUP_SEED)
    times: Series = {name: [] for name in fns}
    cpu: Series = {name: [] for name in fns}
    results: dict[str, list[Any]] = {name: [] for name in fns}
    names = list(fns)
    for seed in range(1, reps + 1):
        order = names if seed % 2 else names[::-1]  # alternate who goes first
        for name in order:
            forget_mesa_models()
            gc.collect()
            c0, t0 = time.process_time(), time.perf_counter()
            out = fns[name](seed)
            wall, used = time.perf_counter() - t0, time.process_time() - c0
            if isinstance(out, Timing):
                wall, used, out = out.wall, out.cpu, out.value
            times[name].append(wall)
            cpu[name].append(used)
            results[name].append(out)
    return times, cpu, results


def forget_mesa_models() -> None:
    """Let finished Mesa models be freed (called between runs, outside the timed region).

    Two module-level caches in Mesa 3.3.1 keep every model alive: ``Agent._ids`` (agent-id
    counters keyed by model) and the ``functools.cache`` on ``Cell.get_neighborhood`` and
    ``Cell._neighborhood`` (keyed by cell; cells hold agents, agents hold their model).
    Without this, each 1,000-agent reference model stays in memory and the heap that
    every garbage collection inside a timed run walks keeps growing, which would slow the
    Mesa runs for reasons that have nothing to do with the model.
    """
    ids = getattr(mesa.Agent, "_ids", None)
    if ids is not None:
        ids.clear()
    for method in (Cell.get_neighborhood, getattr(Cell, "_neighborhood", None)):
        clear = getattr(method, "cache_clear", None)
        if clear is not None:
            clear()


def summary(seconds: Sequence[float]) -> tuple[float, float]:
    """Median and interquartile range, in milliseconds."""
    ms = [1e3 * s for s in seconds]
    if len(ms) < 2:
        return ms[0], 0.0
    q1, _, q3 = statistics.quantiles(ms, n=4, method="inclusive")
    return statistics.median(ms), q3 - q1


def median_ms(seconds: Sequence[float]) -> float:
    return summary(seconds)[0]


def fmt_ms(seconds: Sequence[float]) -> tuple[str, str]:
    med, iqr = summary(seconds)
    return f"{med:.1f}", f"{iqr:.1f}"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], align: str = "") -> str:
    """A markdown table; ``align`` is one of l/r per column (default: first l, rest r)."""
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = [header, rule, *rows]
    return "\n".join("| " + " | ".join(str(c) for c in line) + " |" for line in lines)


def load_average() -> str:
    """The system load (other processes on the machine distort every timing here)."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def source_digest() -> str:
    """A digest of the engine's sources as measured (the working tree may differ from HEAD)."""
    h = hashlib.sha256()
    for path in sorted((ROOT / "sim").rglob("*.py")):
        h.update(path.relative_to(ROOT).as_posix().encode())
        h.update(path.read_bytes())
    return f"sha256 {h.hexdigest()[:12]}"


def machine_info() -> str:
    import numba

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    rows = [
        ("date (UTC)", datetime.now(UTC).strftime("%Y-%m-%d %H:%M")),
        ("CPU", cpu),
        ("cores", f"{os.cpu_count()} ({usable} usable by this process)"),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("numpy", np.__version__),
        ("numba", numba.__version__),
        ("scipy", scipy.__version__),
        ("networkx", nx.__version__),
        ("mesa", mesa.__version__),
        ("reform-diffusion-sim", f"{sim.__version__} (git HEAD {commit}, sim/ {source_digest()})"),
        ("load average at start (1, 5, 15 min)", load_average()),
    ]
    return table(("", ""), rows, align="ll")


def write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_plot(
    sizes: Sequence[int], med: dict[str, list[float]], path: Path, *, batch: int
) -> Path:
    """The scaling plot (median ms per run against N, log-log), written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2))
    labels = {
        "run_outcomes": "engine, sim.run_outcomes",
        "run": "engine, sim.run",
        "mesa": "Mesa reference",
        "batched": f"engine, batched ({batch} runs at once), per run",
    }
    for key, label in labels.items():
        ax.plot(sizes, med[key], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(list(sizes), [f"{n:,}" for n in sizes])
    ax.minorticks_off()
    ax.set_xlabel("local governments N")
    ax.set_ylabel("median time per run (ms)")
    ax.set_title(f"Bass limit, small world (degree 6), {BASS_STEPS} steps")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".scaling-", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=120)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
