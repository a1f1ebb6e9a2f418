"""The work a sweep worker does: run every rule and replicate of some sample points.

Workers receive the pickled :class:`Job` once (cached per process) and a chunk of sample
points; scenario runs are built first and run as batches (:func:`sim.core.engine.run_batched`),
which gives the numbers of running each alone. A run's seed depends only on the experiment
seed, the sample point and the replicate (:func:`run_seed`), never on chunking, workers or
executor.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..outcomes import COLUMNS
from .experiment import add_import_path, scenario_with


def run_seed(experiment_seed: int, sample_id: int, replicate: int) -> int:
    """The seed of every run of (sample point, replicate), under any rule."""
    ss = np.random.SeedSequence(entropy=experiment_seed, spawn_key=(sample_id, replicate))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))  # fits int64 (Parquet)


def run_id(sample_id: int, replicate: int, rule_index: int, replicates: int, n_rules: int) -> int:
    return (sample_id * replicates + replicate) * n_rules + rule_index


# ---- the work a worker does ----------------------------------------------------------------


@dataclass
class Job:
    """Everything a worker needs, pickled once per sweep and cached per worker process."""

    key: str
    folder: str  # the experiment's folder (import path for model = "module:function")
    model_ref: str | None
    base: dict[str, Any] | None  # the resolved scenario as a dict
    prefectures: Any
    provinces: Any
    integer_keys: set[str]
    names: list[str]
    rules: list[str]
    replicates: int
    seed: int
    save_timeseries: bool
    batch: bool = True  # run scenario runs batched (core.engine.run_batched): same numbers


_JOBS: dict[str, tuple[Job, Any]] = {}  # per worker process: key -> (job, model function)


def _job(blob: bytes, key: str) -> tuple[Job, Any]:
    if key not in _JOBS:
        job: Job = pickle.loads(blob)
        model = None
        if job.model_ref is not None:
            import importlib

            add_import_path(Path(job.folder))
            module, _, func = job.model_ref.partition(":")
            model = getattr(importlib.import_module(module), func)
        _JOBS.clear()  # one sweep at a time per worker
        _JOBS[key] = (job, model)
    return _JOBS[key]


def run_chunk(blob: bytes, key: str, sample_ids: list[int], rows: list[dict[str, Any]]) -> dict:
    """Run every rule and replicate of the given sample points; return column arrays.

    Scenario runs are built first and run batched where they share a rule and a shape
    (:func:`sim.core.engine.run_batched`; ``job.batch``), which gives the same numbers as running
    each alone, only faster."""
    from ..core.engine import Engine, run_batched
    from ..run import engine_for
    from ..world.build import build_world, spawn_streams

    job, model = _job(blob, key)
    runs: dict[str, list] = {c: [] for c in ("run_id", "sample_id", "replicate", "rule", "seed")}
    runs.update({n: [] for n in job.names})
    outcome_cols: dict[str, list] = {}
    series: dict[str, list] = {"run_id": []} if job.save_timeseries else {}
    n_rules = len(job.rules)
    plan: list[tuple[int, dict[str, Any], int, int, str, int, Any]] = []
    for sid, values in zip(sample_ids, rows, strict=True):
        scenario = None
        if job.base is not None:
            scenario = scenario_with(job.base, values, job.integer_keys)
            scenario._prefectures = job.prefectures
            scenario._provinces = job.provinces
        for rep in range(job.replicates):
            seed = run_seed(job.seed, sid, rep)
            world = None
            if scenario is not None and not scenario.is_national:
                world = build_world(scenario, spawn_streams(seed))
            for ri, rule in enumerate(job.rules):
                engine = None
                if scenario is not None:
                    engine = engine_for(scenario, rule=rule, seed=seed, world=world)
                plan.append((sid, values, rep, ri, rule, seed, engine))
    engines = [p[-1] for p in plan if p[-1] is not None]
    if job.batch:
        single = [e for e in engines if not isinstance(e, Engine)]
        run_batched([e for e in engines if isinstance(e, Engine)])
    else:
        single = engines
    for e in single:
        e.run()
    for sid, values, rep, ri, rule, seed, engine in plan:
        if engine is None:
            out = {k: float(v) for k, v in model(dict(values), seed).items()}
            ts = None
        else:
            out = engine.outcomes()
            ts = engine.recorder.data if job.save_timeseries else None
        rid = run_id(sid, rep, ri, job.replicates, n_rules)
        for c, v in (
            ("run_id", rid),
            ("sample_id", sid),
            ("replicate", rep),
            ("rule", rule),
            ("seed", seed),
        ):
            runs[c].append(v)
        for n in job.names:
            runs[n].append(values[n])
        if not outcome_cols:
            outcome_cols = {k: [] for k in out}
        if out.keys() != outcome_cols.keys():
            raise RuntimeError(
                f"sample {sid}: the model returned outcomes {sorted(out)}, "
                f"expected {sorted(outcome_cols)}"
            )
        for k, v in out.items():
            outcome_cols[k].append(v)
        if ts is not None:
            steps = len(ts["step"])
            series["run_id"].append(np.full(steps, rid, np.int64))
            for c in COLUMNS:
                series.setdefault(c, []).append(ts[c])
    runs.update(outcome_cols)
    if series:
        series = {c: np.concatenate(v) for c, v in series.items()}
    return {"runs": runs, "series": series}
