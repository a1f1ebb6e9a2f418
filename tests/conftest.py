"""Shared fixtures and helpers.

``tiny_batch`` builds a hand-made batch of one run (a few governments and services, every
constant and draw chosen by the test), so that each mechanism can be tested alone against
hand-computed expectations (tests/test_mechanisms.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.core.batch import Batch, RunSetup
from sim.core.mechanism_setup import neutral

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def csr(n: int, edges: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, indices) of an undirected graph, neighbours sorted."""
    nbrs: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        nbrs[a].append(b)
        nbrs[b].append(a)
    indptr = np.cumsum([0] + [len(x) for x in nbrs])
    indices = np.array([j for x in nbrs for j in sorted(x)], np.int64)
    return indptr.astype(np.int64), indices


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (to show that a command left it as it was)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def tiny_arrays(n: int = 3, k: int = 2, n_steps: int = 10, **over: Any) -> dict[str, Any]:
    """Constants of one run with everything off: no hazard, no contractor, no province.
    Draws: clocks at infinity (nothing fires), find and quality draws neutral."""
    indptr, indices = csr(n, [(i, i + 1) for i in range(n - 1)])  # a path 0 - 1 - ... - n-1
    arrays: dict[str, Any] = {
        "n": n,
        "k": k,
        "n_steps": n_steps,
        "dt": 1.0,
        "can_settle": False,
        "complete": False,
        "indptr": indptr,
        "indices": indices,
        "pair_weight": np.full((n, k), 1.0 / (n * k)),
        "priority": np.ones(k),
        "dev_dt": np.zeros(n),
        "peer_dt": np.zeros(n),
        "promo_dt": np.zeros(n),
        "cross_dt": np.zeros(n),
        "visibility": 0.0,
        "quality_mean": np.full(n, 0.5),
        "quality_sd": 0.0,
        "dev_cost": 1.0,
        "reuse_fit": 0.8,
        "reuse_cost": 0.25,
        "dev_steps": 0,
        "dev_slots": np.full(n, k + 1),
        "has_province": False,
        "lag_steps": 0,
        "judge": False,
        "min_users": 1,
        "judge_z": np.zeros(1),
        "has_contractor": False,
        "adopt": False,
        "modules": np.arange(k),
        "rank": np.arange(k),
        "ready_step": np.full(k, n_steps + 1),
        "rollout": np.arange(n),
        "contractor_fit": np.full(n, 0.9),
        "live_steps": np.zeros(n, np.int64),
        "contractor_quality": 0.75,
        "price": 0.5,
        "p_fail": 0.0,
        "outage_steps": 1,
        "rate": 0.0,
        "build_time": 0.0,
        "build_rate": 1.0,
        "never": n_steps + 1,
        "module_cost": 2.0,
        "standardize_cost": 0.5,
        "platform_cost": 0.0,
        "top": np.array([n - 1]),
        "bottom": np.array([0]),
        "quartile": 1,
        "clock": np.full((n, k), np.inf),
        "find_u": np.full((n, k), 0.5),
        "quality_z": np.zeros((n, k)),
        "outage_u": np.ones(n_steps + 1),
        "recognition_cost": 0.0,
        "p_local": 0.0,
        "p_local_cat": 0.0,
        "local_outage_steps": 1,
        "local_u": np.ones((1, 1)),
        "consolidation_dt": 0.0,
        "migration_cost": 0.0,
        "cons_clock": np.ones((1, 1)),
    }
    arrays.update(neutral(n, k, n_steps))  # the mechanisms of issues 19 and 22: off
    arrays.update(over)
    return arrays


def tiny_batch(**over: Any) -> Batch:
    """A batch of one hand-made run (see :func:`tiny_arrays`)."""
    arrays = tiny_arrays(**over)
    n, k, t = arrays["n"], arrays["k"], arrays["n_steps"]
    setup = RunSetup(None, "tiny", 0, None, arrays, 2 * n * k + 2 * k + 1 + k * (t + 1))  # type: ignore[arg-type]
    return Batch([setup])


@pytest.fixture
def teaching_path() -> Path:
    return SCENARIOS / "teaching.toml"
