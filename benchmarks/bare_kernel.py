"""The limit: a bare compiled kernel of the Bass dynamics, for scale.

What an engine of this model could at best reach on the 1,000-government Bass run: the
same dynamics as ``scenarios/validation/bass.toml`` on a small world (and as
``mesa_reference.py``), written as one minimal ``numba.njit`` function and nothing else:
no scenario, no outcomes, no DataFrames. Per step, every unserved government has the
hazard ``(p + q * served neighbours / degree) * dt`` from the start-of-step state
(synchronous update). Random numbers follow the engine's scheme: **one exponential clock
per government** for the whole run, drawn when the run starts (inside the timed kernel);
a government is served in the first step where its cumulative hazard exceeds its clock,
which has the same law as one uniform draw per government and step. Served-neighbour
counts are kept up to date as governments are served (no recount per step). The kernel
records coverage at every step (the one time series of the Bass run).

The network is the engine's own small world for the same scenario and seed
(``sim.world.build.build_world``), built outside the timed region: the time per run
excludes network building. Only the Bass limit has a bare kernel; the Zhejiang,
national and sweep workloads have none.

    python benchmarks/bare_kernel.py    # median time per run over 30 seeds
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Iterable

import numpy as np
from numba import njit
from workloads import Timed, bass_scenario

import sim


@njit
def bass_kernel(
    indptr: np.ndarray,
    indices: np.ndarray,
    p_dt: float,
    q_dt: float,
    n_steps: int,
    seed: int,
) -> np.ndarray:
    """Coverage at steps 0..n_steps of one run (``p_dt``, ``q_dt``: rates times dt)."""
    np.random.seed(seed)
    n = indptr.size - 1
    clock = np.empty(n)
    for i in range(n):
        clock[i] = np.random.standard_exponential()
    hazard = np.zeros(n)
    count = np.zeros(n, np.int64)  # served neighbours
    served = np.zeros(n, np.bool_)
    fired = np.empty(n, np.int64)
    coverage = np.zeros(n_steps + 1)
    total = 0
    for t in range(1, n_steps + 1):
        m = 0
        for i in range(n):
            if served[i]:
                continue
            deg = indptr[i + 1] - indptr[i]
            share = count[i] / deg if deg > 0 else 0.0
            hazard[i] += p_dt + q_dt * share
            if hazard[i] >= clock[i]:
                fired[m] = i
                m += 1
        for f in range(m):  # apply after every decision: synchronous update
            i = fired[f]
            served[i] = True
            for e in range(indptr[i], indptr[i + 1]):
                count[indices[e]] += 1
        total += m
        coverage[t] = total / n
    return coverage


def bass_limit(s: sim.Scenario, seeds: Iterable[int]) -> Timed:
    """seed -> the coverage curve of one bare-kernel run. The networks of ``seeds`` are
    built here, before any timing: a timed call is the kernel alone."""
    args = _rates(s)
    networks = {seed: network(s, seed) for seed in seeds}
    return lambda seed: bass_kernel(*networks[seed], *args, seed)


def _rates(s: sim.Scenario) -> tuple[float, float, int]:
    c = s.collaboration
    return c.innovation_rate * s.dt, c.peer_learning * s.dt, s.n_steps


def network(s: sim.Scenario, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The engine's small world for (scenario, seed), as CSR arrays."""
    from sim.world.build import build_world, spawn_streams

    adj = build_world(s, spawn_streams(seed)).network.adjacency
    return adj.indptr.astype(np.int64), adj.indices.astype(np.int64)


def main() -> int:
    s = bass_scenario()
    fn = bass_limit(s, range(31))
    fn(0)  # compile
    times = []
    for seed in range(1, 31):
        t0 = time.perf_counter()
        curve = fn(seed)
        times.append(time.perf_counter() - t0)
    print(
        f"bare kernel, Bass N = {s.population.n_agents}, {s.n_steps} steps: median "
        f"{1e3 * statistics.median(times):.3f} ms per run (final coverage {curve[-1]:.3f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
