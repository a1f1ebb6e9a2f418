"""The reference table of ABC random forests: runs drawn from the priors of every rule.

Row ``i`` of a table with root ``seed`` is drawn from
``SeedSequence(entropy=seed, spawn_key=(key, i))``: its rule is ``rules[i % len(rules)]``
(the uniform prior over the rules, balanced), its parameters are drawn from their priors
(the distributions of :func:`sim.calibrate.smc.prior`), and its run seed is the next draw.
So a row depends only on (seed, key, i): the same table with any chunk size, and the first
``m`` rows of a larger table are the table of ``m`` rows. The rows run through
:meth:`~sim.calibrate.smc.Simulator.summaries`, whose jobs of one chunk step as one batch
of the compiled engine.

The recovery check (:mod:`.check`) draws its truths with the same function and another
``key``, so truths and table never share a run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import Calibration

TABLE_KEY = 1 << 28
"""spawn_key of the reference table's rows (far from the generations of ABC-SMC)."""
TRUTH_KEY = (1 << 28) + 1
"""spawn_key of the recovery check's truths."""
CHUNK = 256
"""Runs stepped as one batch (the engine also caps a batch's size in pairs)."""


@dataclass(frozen=True)
class Draw:
    """Rows of a table before they run: rule, parameters and run seed of each."""

    rules: list[str]
    params: pd.DataFrame  # one column per calibrated parameter
    seeds: np.ndarray  # (rows,) int63 run seeds


def draw(calib: Calibration, n: int, *, seed: int, key: int = TABLE_KEY) -> Draw:
    """Rows 0..n-1 drawn from the priors (see the module docstring)."""
    from .smc import prior

    dists = {name: prior(spec).distribution for name, spec in calib.spec.parameters.items()}
    rules, values, seeds = [], {name: np.empty(n) for name in dists}, np.empty(n, np.int64)
    for i in range(n):
        rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(key, i)))
        rules.append(calib.rules[i % len(calib.rules)])
        for name, dist in dists.items():
            values[name][i] = float(dist.rvs(random_state=rng))
        seeds[i] = int(rng.integers(0, 2**63 - 1))
    for name in calib.integer_keys & set(values):  # as the scenario will use them
        values[name] = np.round(values[name])
    return Draw(rules, pd.DataFrame(values), seeds)


def _chunk(calib: Calibration, rows: Draw, lo: int, hi: int) -> list[dict[str, float]]:
    """The summary statistics of rows lo..hi-1 (one batch of the engine; runs anywhere)."""
    from .smc import Job, Simulator

    names = list(rows.params.columns)
    jobs = [
        Job(rows.rules[i], {k: float(rows.params[k].iat[i]) for k in names}, int(rows.seeds[i]))
        for i in range(lo, hi)
    ]
    return Simulator(calib).summaries(jobs)


def simulate(
    calib: Calibration,
    rows: Draw,
    *,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Run every row: ``rule``, ``seed``, the parameters, then one column per target key
    (the summary statistics). ``progress(done, total)`` after each chunk. ``executor``:
    chunks run on it (local processes, a Dask cluster); the table is the same."""
    n = len(rows.rules)
    bounds = [(lo, min(n, lo + CHUNK)) for lo in range(0, n, CHUNK)]
    stats: list[dict[str, float]] = []
    if executor is None:
        for lo, hi in bounds:
            stats += _chunk(calib, rows, lo, hi)
            if progress is not None:
                progress(len(stats), n)
    else:
        futures = [executor.submit(_chunk, calib, _rows(rows, lo, hi), 0, hi - lo)
                   for lo, hi in bounds]  # fmt: skip
        for future in futures:  # in order: the table does not depend on who ran what
            stats += future.result()
            if progress is not None:
                progress(len(stats), n)
    frame = pd.DataFrame({"rule": rows.rules, "seed": rows.seeds})
    frame = pd.concat([frame, rows.params.reset_index(drop=True)], axis=1)
    table = pd.DataFrame(stats, columns=calib.targets.keys)
    return pd.concat([frame, table], axis=1)


def _rows(rows: Draw, lo: int, hi: int) -> Draw:
    """Rows lo..hi-1 alone (what a worker needs of them)."""
    return Draw(rows.rules[lo:hi], rows.params.iloc[lo:hi].reset_index(drop=True),
                rows.seeds[lo:hi])  # fmt: skip


def build(
    calib: Calibration,
    n: int,
    *,
    seed: int,
    key: int = TABLE_KEY,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
) -> tuple[pd.DataFrame, float]:
    """(the table of ``n`` rows, seconds it took); see :func:`simulate`."""
    started = time.perf_counter()
    rows = draw(calib, n, seed=seed, key=key)
    table = simulate(calib, rows, progress=progress, executor=executor)
    return table, time.perf_counter() - started


__all__ = ["CHUNK", "TABLE_KEY", "TRUTH_KEY", "Draw", "build", "draw", "simulate"]
