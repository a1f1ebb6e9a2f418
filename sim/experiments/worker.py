"""The work a sweep worker does: run every rule and replicate of some sample points.

Workers receive the pickled :class:`Job` once (cached per process) and a chunk of sample
points; scenario runs are built first and run as batches (:func:`sim.core.engine.run_batched`),
which gives the numbers of running each alone. A run's seed depends only on the experiment
seed, the sample point and the replicate (:func:`run_seed`), never on chunking, workers or
executor.

A matched experiment (``[match]``, :mod:`sim.experiments.match_spec`) first matches each
sample point: :func:`sim.experiments.match.match` on the point's own replicate seeds, then
the point's runs, the matched rule's at the matched value. The match depends on the point
alone, so it too is the same under any chunking, worker count, executor or ``--resume``.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..outcomes import COLUMNS
from .experiment import add_import_path, scenario_with
from .match_spec import COLUMNS as MATCH_COLUMNS


def run_seed(experiment_seed: int, sample_id: int, replicate: int) -> int:
    """The seed of every run of (sample point, replicate), under any rule. With
    ``[design] common_seeds`` every point uses sample 0's seeds (:meth:`Job.seed_of`)."""
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
    match: dict[str, str] | None = None  # [match]: outcome, by, rule
    common_seeds: bool = False  # [design] common_seeds: every point on sample 0's seeds

    def seed_of(self, sample_id: int, replicate: int) -> int:
        """The seed of (sample point, replicate): its own, or with common seeds the same
        for every point (common random numbers across the design)."""
        return run_seed(self.seed, 0 if self.common_seeds else sample_id, replicate)


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
    each alone, only faster. A run that raises (a model function's error, a failing build)
    is returned in ``failures`` (one row per run: ids, seed and the error) and its sample
    point is left out of ``runs`` and ``series``, so that the point stays missing from the
    sweep and ``--resume`` runs it again."""
    from ..core.engine import Engine

    job, model = _job(blob, key)
    n_rules = len(job.rules)
    failures: list[dict[str, Any]] = []
    failed_points: set[int] = set()

    def fail(sid: int, rep: int, ri: int, seed: int, exc: BaseException) -> None:
        failures.append(
            {
                "run_id": run_id(sid, rep, ri, job.replicates, n_rules),
                "sample_id": sid,
                "replicate": rep,
                "rule": job.rules[ri],
                "seed": seed,
                "error": f"{type(exc).__name__}: {exc}"[:2000],
            }
        )
        failed_points.add(sid)

    matched = _match_points(job, sample_ids, rows, fail) if job.match else {}
    plan = _plan(job, sample_ids, rows, fail, matched)
    errors = _run_engines([p[-1] for p in plan if p[-1] is not None], job.batch, Engine)
    results = []
    for sid, values, rep, ri, rule, seed, engine in plan:
        try:
            if engine is None:
                out = {k: float(v) for k, v in model(dict(values), seed).items()}
                ts = None
            else:
                if id(engine) in errors:
                    raise errors[id(engine)]
                out = engine.outcomes()
                ts = engine.recorder.data if job.save_timeseries else None
        except Exception as exc:
            fail(sid, rep, ri, seed, exc)
            continue
        results.append((sid, values, rep, ri, rule, seed, out, ts))
    expected: list[str] | None = None
    for sid, _values, rep, ri, _rule, seed, out, _ts in results:
        if expected is None:
            expected = sorted(out)
        elif sorted(out) != expected:
            fail(sid, rep, ri, seed, ValueError(
                f"the model returned outcomes {sorted(out)}, expected {expected}"
            ))  # fmt: skip
    kept = [r for r in results if r[0] not in failed_points]
    match_runs = sum((m.searched + 1) * job.replicates for m, _ in matched.values())
    return {**_columns(job, kept, matched), "failures": failures, "match_runs": match_runs}


def _scenario(job: Job, values: dict[str, Any]):
    """The job's scenario with ``values`` set (its data tables attached)."""
    scenario = scenario_with(job.base, values, job.integer_keys)  # type: ignore[arg-type]
    scenario._prefectures = job.prefectures
    scenario._provinces = job.provinces
    return scenario


def _match_points(
    job: Job, sample_ids: list[int], rows: list[dict[str, Any]], fail
) -> dict[int, tuple[Any, Any]]:
    """Sample id -> (its :class:`~sim.experiments.match.Match`, the scenario with the
    matched value) for each point, matched on the point's replicate seeds (common random
    numbers with its runs); a point whose match raises is reported to ``fail`` (every run)."""
    from .match import match

    spec = job.match
    assert spec is not None
    out: dict[int, tuple[Any, Any]] = {}
    for sid, values in zip(sample_ids, rows, strict=True):
        seeds = [job.seed_of(sid, rep) for rep in range(job.replicates)]
        try:
            m = match(
                _scenario(job, values), outcome=spec["outcome"], param=spec["by"],
                rule=spec["rule"], rules=job.rules, seeds=seeds, interval=False,
            )  # fmt: skip
            out[sid] = (m, _scenario(job, {**values, spec["by"]: m.value}))
        except Exception as exc:
            for rep, seed in enumerate(seeds):
                for ri in range(len(job.rules)):
                    fail(sid, rep, ri, seed, exc)
    return out


def _plan(
    job: Job, sample_ids: list[int], rows: list[dict[str, Any]], fail, matched: dict
) -> list[tuple]:
    """(sample id, values, replicate, rule index, rule, seed, engine or None) of every run;
    runs whose scenario or world cannot be built are reported to ``fail`` instead. The
    matched rule of a matched point runs its matched scenario (on a world of its own)."""
    from ..run import engine_for
    from ..world.build import build_world, spawn_streams

    plan: list[tuple] = []
    for sid, values in zip(sample_ids, rows, strict=True):
        if job.match is not None and sid not in matched:
            continue  # its match failed (reported)
        scenario = None
        for rep in range(job.replicates):
            seed = job.seed_of(sid, rep)
            try:
                if job.base is not None and scenario is None:
                    scenario = _scenario(job, values)
                world = None
                if scenario is not None and not scenario.is_national:
                    world = build_world(scenario, spawn_streams(seed))
            except Exception as exc:
                for ri in range(len(job.rules)):
                    fail(sid, rep, ri, seed, exc)
                continue
            for ri, rule in enumerate(job.rules):
                engine = None
                if scenario is not None:
                    try:
                        if sid in matched and rule == job.match["rule"]:  # type: ignore[index]
                            engine = engine_for(matched[sid][1], rule=rule, seed=seed)
                        else:
                            engine = engine_for(scenario, rule=rule, seed=seed, world=world)
                    except Exception as exc:
                        fail(sid, rep, ri, seed, exc)
                        continue
                plan.append((sid, values, rep, ri, rule, seed, engine))
    return plan


def _run_engines(engines: list, batch: bool, engine_type: type) -> dict[int, BaseException]:
    """Run the engines (batched where possible); the error of each engine that failed."""
    from ..core.engine import run_batched

    errors: dict[int, BaseException] = {}
    if batch:
        try:
            run_batched([e for e in engines if isinstance(e, engine_type)])
            engines = [e for e in engines if not isinstance(e, engine_type)]
        except Exception:
            pass  # find the failing runs: each alone
    for e in engines:
        try:
            e.run()
        except Exception as exc:
            errors[id(e)] = exc
    return errors


def _columns(job: Job, results: list[tuple], matched: dict) -> dict[str, Any]:
    """The runs (and time-series) columns of the successful runs; a matched sweep's runs
    carry their point's match (:data:`sim.experiments.match_spec.COLUMNS`)."""
    runs: dict[str, list] = {c: [] for c in ("run_id", "sample_id", "replicate", "rule", "seed")}
    runs.update({n: [] for n in job.names})
    if job.match is not None:
        runs.update({c: [] for c in MATCH_COLUMNS})
    outcome_cols: dict[str, list] = {}
    series: dict[str, list] = {"run_id": []} if job.save_timeseries else {}
    n_rules = len(job.rules)
    for sid, values, rep, ri, rule, seed, out, ts in results:
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
        if job.match is not None:
            m = matched[sid][0]
            for c, v in zip(MATCH_COLUMNS, (m.value, m.converged, m.target, m.achieved,
                                            m.searched), strict=True):  # fmt: skip
                runs[c].append(v)
        for k, v in out.items():
            outcome_cols.setdefault(k, []).append(v)
        if ts is not None:
            steps = len(ts["step"])
            series["run_id"].append(np.full(steps, rid, np.int64))
            for c in COLUMNS:
                series.setdefault(c, []).append(ts[c])
    runs.update(outcome_cols)
    if series and series["run_id"]:
        series = {c: np.concatenate(v) for c, v in series.items()}
    elif series:
        series = {}
    return {"runs": runs, "series": series}
