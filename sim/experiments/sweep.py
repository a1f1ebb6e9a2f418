"""``sim sweep``: run an experiment's design in parallel, stream results to disk, resume.

Identity of a run. Sample point ``i`` is row ``i`` of the design; each point is run under
every rule and replicate. A run's seed depends only on the experiment seed, the sample id
and the replicate — not on the rule (rules are compared on common random numbers), not on
the design size (``--extend`` keeps every run) and not on the worker that runs it::

    seed   = SeedSequence(entropy=experiment_seed, spawn_key=(sample_id, replicate)) -> int63
    run_id = (sample_id * replicates + replicate) * n_rules + rule_index

The folder. ``DIR/runs.parquet/`` is a Parquet dataset: one part file per finished chunk
of sample points, named by its sample-id range and written atomically (temporary name,
then rename), so an interrupted sweep — Ctrl-C, a crash, ``kill -9`` — loses at most the
chunks in flight, and ``--resume`` runs exactly the sample ids that no part file covers.
With ``save_timeseries`` the per-step rows go to ``DIR/timeseries.parquet/`` the same way
(written before the chunk's runs part, so a finished chunk always has both).
``DIR/manifest.json`` records the experiment's fingerprint, the design and the status.

Parallelism. Chunks are submitted to any :class:`concurrent.futures.Executor` (default:
local processes), at most ``2 x workers`` in flight, so memory stays flat however many runs
there are. Results never depend on the executor, the worker count or completion order.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BadInput
from ..io import atomic_write, write_csv, write_json, write_text
from ..lock import LOCK, FolderLock
from ..outcomes import HIGHER_IS_BETTER
from ..outputs import replace_folder
from .experiment import Experiment, load_experiment
from .match_spec import TYPICAL_EVALUATIONS
from .scheduler import FAILURES, consecutive, in_process, point_rows, run_chunks
from .worker import Job, run_chunk, run_id

FORMAT = 1
PART = re.compile(r"^part-(\d{9})-(\d{9})\.parquet$")
RUNS, SERIES, MANIFEST = "runs.parquet", "timeseries.parquet", "manifest.json"
ARTEFACTS = (
    RUNS,
    SERIES,
    MANIFEST,
    "experiment.toml",
    "provenance.json",
    "indices.csv",
    "convergence.csv",
    "report.md",
    "figures",
    FAILURES,
)
TARGET_RUNS_PER_CHUNK = 128


# ---- the folder -----------------------------------------------------------------------------


def covered(folder: Path) -> list[tuple[int, int]]:
    """Sample-id ranges [start, stop) that finished part files cover, sorted."""
    parts = folder / RUNS
    if not parts.is_dir():
        return []
    ranges = []
    for f in parts.iterdir():
        m = PART.match(f.name)
        if m:
            ranges.append((int(m.group(1)), int(m.group(2))))
    return sorted(ranges)


def missing_ids(
    n_points: int, ranges: list[tuple[int, int]], shard: tuple[int, int] | None = None
) -> np.ndarray:
    """Sample ids (of this shard, if any) that no finished part covers."""
    done = np.zeros(n_points, bool)
    for a, b in ranges:
        done[a : min(b, n_points)] = True
    if shard is not None:  # shard I of N owns the ids with id mod N == I - 1
        i, n = shard
        mine = np.zeros(n_points, bool)
        mine[i - 1 :: n] = True
        done |= ~mine
    return np.flatnonzero(~done)


def chunks(ids: np.ndarray, per_chunk: int, stride: int = 1) -> Iterator[list[int]]:
    """Runs of consecutive missing ids (consecutive: ``stride`` apart, the shard count),
    cut into chunks of at most ``per_chunk`` points."""
    if len(ids) == 0:
        return
    breaks = np.flatnonzero(np.diff(ids) != stride) + 1
    for block in np.split(ids, breaks):
        for i in range(0, len(block), per_chunk):
            yield block[i : i + per_chunk].tolist()


def _write_part(folder: Path, name: str, columns: dict[str, Any], first: int, stop: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(columns)
    target = folder / name / f"part-{first:09d}-{stop:09d}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


@dataclass
class SweepResult:
    folder: Path
    n_points: int
    n_runs: int
    ran: int  # runs executed by this call
    seconds: float
    complete: bool
    notes: list[str] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)  # runs that failed (this call)
    match_runs: int = 0  # runs of the matches ([match]) this call made, besides ``ran``

    @property
    def failed(self) -> bool:
        return bool(self.failures)


def _manifest(
    exp: Experiment,
    n: int | None,
    n_points: int,
    status: str,
    shard: tuple[int, int] | None = None,
) -> dict[str, Any]:
    d = exp.design
    manifest = {
        "format": FORMAT,
        "fingerprint": exp.fingerprint(),
        "method": d.method,
        "n": n,
        "second_order": d.second_order,
        "num_levels": d.num_levels,
        "optimal_trajectories": d.optimal_trajectories,
        "M": d.M,
        "replicates": d.replicates,
        "seed": d.seed,
        "parameters": exp.names,
        "integer_parameters": sorted(exp.integer_keys),
        "problem": exp.problem(),
        "rules": exp.rules,
        "contrasts": exp.spec.contrasts,
        "outcomes": exp.outcomes,
        "higher_is_better": (
            dict(HIGHER_IS_BETTER)
            if exp.scenario is not None
            else dict.fromkeys(exp.outcomes, True)
        ),
        "n_points": n_points,
        "n_runs": n_points * d.replicates * len(exp.rules),
        "status": status,
        "save_timeseries": d.save_timeseries,
    }
    if shard is not None:
        manifest["shard"] = list(shard)
    if d.common_seeds:
        manifest["common_seeds"] = True
    if exp.spec.match is not None:
        reference = next(r for r in exp.rules if r != exp.spec.match.rule)
        manifest["match"] = {**exp.spec.match.model_dump(), "reference": reference}
    if d.method == "sobol":
        manifest["points_per_base"] = exp.points_per_base()
    if d.method == "grid":
        manifest["grid_values"] = {k: p.values for k, p in exp.spec.parameters.items()}
    return manifest


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInput.one(str(path), "", f"unreadable sweep manifest: {exc}") from None


def _prepare(
    folder: Path, exp: Experiment, resume: bool, extend: int | None, force: bool
) -> tuple[int | None, dict | None]:
    """Decide what this call does with ``folder``; return (design n, old manifest)."""
    old = _read_manifest(folder)
    where = str(folder)
    n = exp.design.n
    if old is None:
        if folder.exists() and any(f.name != LOCK for f in folder.iterdir()) and not force:
            raise BadInput.one(
                where,
                "--out",
                "exists and is not a sweep folder; choose another "
                "--out or add --force to write into it",
            )
        if resume:
            raise BadInput.one(where, "--resume", "there is no sweep to resume in this folder")
        if extend is not None:
            raise BadInput.one(where, "--extend", "there is no finished sweep to extend here")
        return n, None
    unfinished = old.get("status") != "complete" and not resume and extend is None
    if old.get("fingerprint") != exp.fingerprint() or (force and unfinished):
        if not force:
            raise BadInput.one(
                where,
                "--out",
                "holds a different experiment or resolved scenario "
                "(foreign sweep); use another --out, or --force to replace it",
            )
        for name in ARTEFACTS:  # --force: start over
            target = folder / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        return n, None
    n = old.get("n", n)
    if extend is not None:
        if exp.design.method != "sobol":
            raise BadInput.one(
                where, "--extend", f"only Sobol designs nest; this one is {exp.design.method}"
            )
        if extend <= (n or 0) or extend & (extend - 1):
            raise BadInput.one(
                where,
                "--extend",
                f"must be a power of two above the current n = {n} (got {extend})",
            )
        return extend, old
    if old.get("status") == "failed" and not resume:
        raise BadInput.one(
            where,
            "--out",
            "holds a sweep of this experiment whose runs failed at some sample points "
            f"(see {FAILURES}): fix the cause and add --resume to run them again "
            "(or --force to start over)",
        )
    if old.get("status") != "complete" and not resume:
        raise BadInput.one(
            where,
            "--out",
            "holds an unfinished sweep of this experiment: add "
            "--resume to continue it (or --force to start over)",
        )
    return n, old


def sweep(
    experiment: str | Path | Experiment,
    out: str | Path,
    *,
    workers: int | None = None,
    resume: bool = False,
    extend: int | None = None,
    force: bool = False,
    batch: bool = True,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    shard: tuple[int, int] | None = None,
    in_flight: int | None = None,
) -> SweepResult:
    """Run (or continue) a sweep into ``out``; see the module docstring.

    ``progress(done, total)`` is called as runs finish. ``executor``: any
    :class:`concurrent.futures.Executor`; default a local process pool of ``workers``
    processes (``workers=1``: run in this process). ``shard=(i, n)``: run only the sample
    points with ``sample_id % n == i - 1``, into ``out/shards/i-of-n`` (combine the shards
    with :func:`merge`). ``in_flight``: chunks submitted at once (default 2 x workers).
    """

    started = time.time()
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    root = Path(out)
    if shard is not None:
        i, k = shard
        if not 1 <= i <= k:
            raise BadInput.one("--shard", "", f"expected I/N with 1 <= I <= N (got {i}/{k})")
        if extend is not None:
            raise BadInput.one("--shard", "", "extend the merged sweep, not a shard")
        _guard_root(root, exp, force)
        folder = root / "shards" / f"{i}-of-{k}"
    else:
        folder = root
    with FolderLock(folder):  # no other sweep in this folder meanwhile (sim.lock)
        return _sweep_into(
            folder, root, exp, started, resume, extend, force, batch, executor, progress,
            shard, in_flight, workers,
        )  # fmt: skip


def _sweep_into(
    folder: Path,
    root: Path,
    exp: Experiment,
    started: float,
    resume: bool,
    extend: int | None,
    force: bool,
    batch: bool,
    executor: Executor | None,
    progress: Callable[[int, int], None] | None,
    shard: tuple[int, int] | None,
    in_flight: int | None,
    workers: int | None,
) -> SweepResult:
    """The body of :func:`sweep`, run while holding the folder's lock."""
    from ..provenance import provenance

    n, old = _prepare(folder, exp, resume, extend, force)
    design = exp.build_design(n)
    if old is not None and extend is not None:
        previous = exp.build_design(old["n"])
        if not np.array_equal(previous.values, design.values[: previous.n_points]):
            raise BadInput.one(
                str(folder),
                "--extend",
                "the larger design does not start with "
                "the existing one (SALib's sampler changed?); start a new sweep",
            )
    folder.mkdir(parents=True, exist_ok=True)
    for target in {folder, root}:
        if not (target / "experiment.toml").exists():
            text = exp.path.read_text(encoding="utf-8")
            write_text(target / "experiment.toml", text)
    (folder / FAILURES).unlink(missing_ok=True)  # the failures of an earlier call
    n_rules, reps = len(exp.rules), exp.design.replicates
    mine = design.n_points if shard is None else len(range(shard[0] - 1, design.n_points, shard[1]))
    total = mine * reps * n_rules
    write_json(folder / MANIFEST, _manifest(exp, n, design.n_points, "running", shard))
    todo = missing_ids(design.n_points, covered(folder), shard)
    done_runs = total - len(todo) * reps * n_rules
    if progress:
        progress(done_runs, total)
    matching = TYPICAL_EVALUATIONS + 1 if exp.spec.match else 0  # runs / replicate to match
    per_chunk = max(1, TARGET_RUNS_PER_CHUNK // (reps * (n_rules + matching)))
    job = Job(
        key=exp.fingerprint(),
        folder=str(exp.path.parent.resolve()),
        model_ref=exp.model_ref,
        base=exp.scenario.model_dump() if exp.scenario else None,
        prefectures=exp.scenario.prefectures if exp.scenario else None,
        provinces=exp.scenario.provinces if exp.scenario else None,
        integer_keys=exp.integer_keys,
        names=exp.names,
        rules=exp.rules,
        replicates=reps,
        seed=exp.design.seed,
        save_timeseries=exp.design.save_timeseries,
        batch=batch,
        match=exp.spec.match.model_dump() if exp.spec.match else None,
        common_seeds=exp.design.common_seeds,
    )
    blob = pickle.dumps(job)
    ran = match_runs = 0
    failures: list[dict[str, Any]] = []

    def finish(ids: list[int], result: dict) -> None:
        nonlocal done_runs, ran, match_runs
        match_runs += result.get("match_runs", 0)
        bad = {f["sample_id"] for f in result.get("failures", ())}
        if bad:
            failures.extend(result["failures"])
            _write_failures(folder, failures)
        for part in consecutive([i for i in ids if i not in bad], ids):
            first, stop = part[0], part[-1] + 1
            if result["series"]:
                series = point_rows(result["series"], first, stop, reps * n_rules)
                _write_part(folder, SERIES, series, first, stop)
            _write_part(folder, RUNS, point_rows(result["runs"], first, stop), first, stop)
        k = len(ids) * reps * n_rules
        done_runs += k
        ran += k - len(bad) * reps * n_rules
        if progress:
            progress(done_runs, total)

    def lost(ids: list[int], message: str) -> None:
        nonlocal done_runs
        failures.extend(
            {"run_id": run_id(i, rep, ri, reps, n_rules), "sample_id": i, "replicate": rep,
             "rule": rule, "seed": job.seed_of(i, rep), "error": message}
            for i in ids for rep in range(reps) for ri, rule in enumerate(job.rules)
        )  # fmt: skip
        _write_failures(folder, failures)
        done_runs += len(ids) * reps * n_rules
        if progress:
            progress(done_runs, total)

    work = list(chunks(todo, per_chunk, stride=shard[1] if shard else 1))
    rows = {i: design.row(i) for chunk in work for i in chunk} if len(todo) < 200_000 else None

    def args(ids: list[int]) -> tuple:
        return (blob, job.key, ids, [rows[i] if rows else design.row(i) for i in ids])

    n_workers = workers or os.cpu_count() or 1
    if not work or (executor is None and n_workers == 1):
        in_process(work, args, run_chunk, finish, lost)
    else:
        run_chunks(
            work, args, run_chunk, finish, lost,
            executor=executor,
            workers=min(n_workers, len(work)),
            limit=in_flight or 2 * max(1, n_workers),
        )  # fmt: skip
    complete = len(missing_ids(design.n_points, covered(folder), shard)) == 0
    status = "complete" if complete else ("failed" if failures else "running")
    manifest = _manifest(exp, n, design.n_points, status, shard)
    if failures:
        manifest["failed_points"] = len({f["sample_id"] for f in failures})
    write_json(folder / MANIFEST, manifest)
    write_json(
        folder / "provenance.json",
        provenance(
            kind="sweep",
            experiment=str(exp.path),
            started=_iso(started),
            finished=_iso(time.time()),
            runs_total=total,
            runs_this_call=ran,
            **({"match_runs_this_call": match_runs} if exp.spec.match else {}),
            workers=workers or os.cpu_count(),
            executor=type(executor).__name__ if executor is not None else "in-process",
        ),
    )
    seconds = time.time() - started
    return SweepResult(
        folder, design.n_points, total, ran, seconds, complete, failures=failures,
        match_runs=match_runs,
    )  # fmt: skip


def _write_failures(folder: Path, failures: list[dict[str, Any]]) -> None:
    import pandas as pd

    write_csv(folder / FAILURES, pd.DataFrame(failures))


def _guard_root(root: Path, exp: Experiment, force: bool) -> None:
    """Shards may share a root folder only with shards of the same experiment."""
    if force:
        return
    shards = sorted((root / "shards").glob("*-of-*")) if (root / "shards").is_dir() else []
    for folder in (root, *shards):
        m = _read_manifest(folder)
        if m is not None and m.get("fingerprint") != exp.fingerprint():
            raise BadInput.one(
                str(folder),
                "--out",
                "holds a different experiment (foreign sweep); use "
                "another --out, or --force to replace it",
            )


SHARD = re.compile(r"^(\d+)-of-(\d+)$")
MERGE_KEYS = ("n_points", "n_runs", "replicates", "rules")
"""What merging reads from a shard's manifest."""


def merge(out: str | Path) -> SweepResult:
    """Combine ``out/shards/*-of-N`` into ``out/runs.parquet`` (the rows an unsharded sweep
    writes). Every shard 1..N must be there and finished; missing or unfinished shards are
    named. Streams sample-id blocks, so memory stays flat."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    started = time.time()
    root = Path(out)
    shards_dir = root / "shards"
    found: dict[int, tuple[int, dict]] = {}
    counts: set[int] = set()
    if shards_dir.is_dir():
        for sub in sorted(shards_dir.iterdir()):
            m = SHARD.match(sub.name)
            if not m:
                continue
            i, k = int(m.group(1)), int(m.group(2))
            counts.add(k)
            manifest = _read_manifest(sub)
            found[i] = (k, manifest or {})
    where = str(root)
    if not found:
        raise BadInput.one(
            where, "", "no shards here (expected shards/I-of-N folders from sim sweep --shard I/N)"
        )
    if len(counts) != 1:
        raise BadInput.one(where, "", f"shards of different counts N: {sorted(counts)}")
    (k,) = counts
    problems = []
    missing = [i for i in range(1, k + 1) if i not in found]
    if missing:
        problems.append(f"missing shard(s) {', '.join(f'{i}/{k}' for i in missing)}")
    unfinished = [i for i, (_, m) in sorted(found.items()) if m.get("status") != "complete"]
    if unfinished:
        problems.append(
            "unfinished shard(s) "
            + ", ".join(f"{i}/{k}" for i in unfinished)
            + ": finish them with sim sweep ... --shard I/N --resume"
        )
    prints = {m.get("fingerprint") for _, m in found.values()}
    if len(prints) > 1:
        problems.append("shards of different experiments")
    damaged = [
        f"{i}/{k} ({', '.join(needed)})"
        for i, (_, m) in sorted(found.items())
        if (needed := [key for key in MERGE_KEYS if not isinstance(m.get(key), int | list)])
    ]
    if damaged and not unfinished:
        problems.append(f"shard manifest(s) without {', '.join(damaged)}: damaged; run the "
                        "shard again with sim sweep ... --shard I/N --force")  # fmt: skip
    if problems:
        raise BadInput.one(where, "", "; ".join(problems))
    manifest = dict(next(iter(found.values()))[1])
    manifest.pop("shard", None)
    n_points = manifest["n_points"]
    with FolderLock(root, key=""):  # not while a sweep or another merge writes here
        old = _read_manifest(root)
        if old is not None and old.get("status") == "complete" and covered(root):
            notes = ["already merged"]
            return SweepResult(root, n_points, manifest["n_runs"], 0, 0.0, True, notes)
        block = max(1, 200_000 // max(1, manifest["replicates"] * len(manifest["rules"])))
        for name in (RUNS, SERIES):
            parts = [shards_dir / f"{i}-of-{k}" / name for i in range(1, k + 1)]
            if not all(p.is_dir() for p in parts):
                continue
            files = [f for p in parts for f in sorted(p.iterdir()) if PART.match(f.name)]
            _check_parts(files, where)
            dataset = ds.dataset([str(f) for f in files], format="parquet")
            key = "sample_id" if name == RUNS else "run_id"
            per_sample = 1 if name == RUNS else manifest["replicates"] * len(manifest["rules"])
            staging = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=root))
            try:
                for a in range(0, n_points, block):
                    b = min(n_points, a + block)
                    lo, hi = (a, b) if name == RUNS else (a * per_sample, b * per_sample)
                    table = dataset.to_table(filter=(ds.field(key) >= lo) & (ds.field(key) < hi))
                    order = [("run_id", "ascending")]
                    table = table.sort_by(
                        order + ([("step", "ascending")] if name == SERIES else [])
                    )
                    pq.write_table(table, staging / f"part-{a:09d}-{b:09d}.parquet",
                                   compression="zstd")  # fmt: skip
                replace_folder(staging, root / name)  # all parts, or the old ones
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        manifest["status"] = "complete"
        manifest["merged_from_shards"] = k
        write_json(root / MANIFEST, manifest)
    return SweepResult(root, n_points, manifest["n_runs"], 0, time.time() - started, True)


def _check_parts(files: list[Path], where: str) -> None:
    """Every part file is a whole Parquet file (its footer readable), else name them."""
    import pyarrow.parquet as pq

    bad = []
    for f in files:
        try:
            pq.read_metadata(f)
        except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid is a ValueError
            bad.append(f"{f} ({exc})")
    if bad:
        raise BadInput.one(
            where,
            "",
            f"{len(bad)} shard part file(s) are truncated or not Parquet: {'; '.join(bad[:3])}. "
            "Delete them and run their shards again with sim sweep ... --shard I/N --resume",
        )


def _iso(t: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="seconds")


def read_runs(folder: str | Path, columns: list[str] | None = None):
    """The runs table of a sweep folder as a DataFrame sorted by run id."""
    import pandas as pd

    frame = pd.read_parquet(Path(folder) / RUNS, columns=columns)
    if "run_id" in frame.columns:
        frame = frame.sort_values("run_id", kind="stable").reset_index(drop=True)
    return frame
