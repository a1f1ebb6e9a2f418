"""Run a calibration into a folder: the ABC history, then the tables, figures and report.

The folder is written atomically: everything is made in a temporary folder beside
``--out`` (``.NAME.tmp-PID``) and renamed into place at the end, so ``--out`` holds either
the previous state or the new one, never a half-written mix. With ``--resume`` the existing
``abc.db`` is copied into the temporary folder and continued there. When the run is
interrupted (Ctrl-C, SIGTERM) or fails, the history of the finished generations is moved
into ``--out`` (beside what it held) so that ``--resume`` continues from it; when only the
tables, figures or report fail, every result is kept and :class:`ReportFailed` says so.
The folder is locked (:mod:`sim.lock`) while a calibration writes into it; temporary folders
left by a process that was killed are removed by the next calibration into ``--out``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BadInput
from ..io import write_json, write_text
from ..lock import LOCK
from .config import Calibration, load_calibration

DB, MANIFEST = "abc.db", "calibration.json"
FORMAT = 1


@dataclass
class CalibrationResult:
    folder: Path
    generations: int  # in the history
    ran: int  # generations run by this call
    evaluations: int  # runs kept in the history by this call
    runs: int  # runs made by this call (kept, discarded past a generation's end, predictive)
    seconds: float
    probabilities: dict[str, float]  # P(rule | data) in the last generation
    complete: bool


def calibrate(
    calibration: str | Path | Calibration,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    executor: Executor | None = None,
    in_flight: int | None = None,
    batch_size: int | None = None,
    batched: bool | None = None,
    figures: bool = True,
    progress: Callable[[int, int, int], None] | None = None,
    check: int | None = None,
) -> CalibrationResult:
    """Run (or continue) a calibration into ``out``; see the module docstring.

    ``workers``: local processes (1: this process; default: all cores); ``scheduler``: a
    Dask scheduler address or ``"local"`` (as ``sim sweep --scheduler``); ``executor``: any
    :class:`concurrent.futures.Executor` instead. The posterior does not depend on which,
    nor on ``batch_size`` (ids per task) or ``batched`` (simulate each batch in one call;
    default :attr:`~sim.calibrate.smc.Simulator.BATCHED`).
    ``figures=False`` skips ``figures/`` (for benchmarks that repeat many calibrations).
    ``progress(generation, accepted, population)`` is called as particles are accepted.
    ``check``: truths per rule of the recovery check (:mod:`.check`; None: ``[check]``).
    ``[abc] method = "rf"`` runs ABC random forests instead (:mod:`.amortised`).
    """
    started = time.time()
    calib = calibration if isinstance(calibration, Calibration) else load_calibration(calibration)
    folder = Path(out)
    check = calib.spec.check.truths if check is None else check
    from ..lock import FolderLock

    with FolderLock(folder, what="calibration"):  # no second calibration in this folder
        if calib.abc.method == "rf":
            _prepare(folder, calib, resume)
            if resume:
                why = "--resume continues ABC-SMC; a random-forest calibration runs in one go"
                raise BadInput.one(str(calib.path), "abc.method", why)
            with _executor(executor, scheduler, workers, in_flight) as (pool, _):
                return _calibrate_rf(calib, folder, check=check, progress=progress, executor=pool)
        _recover_stranded(folder, calib)
        old = _prepare(folder, calib, resume)
        tmp = _fresh_tmp(folder)
        try:
            if old is not None:
                shutil.copy2(folder / DB, tmp / DB)
            _write_manifest(tmp, calib, "running", 0)  # so that a killed run can be recovered
            with _executor(executor, scheduler, workers, in_flight) as (pool, flight):
                history, ran, evaluations, runs = _run(
                    calib, tmp / DB, resume=old is not None, executor=pool,
                    in_flight=flight, batch_size=batch_size, batched=batched,
                    progress=progress,
                )  # fmt: skip
            generations = history.n_populations
            _check_informative(calib, history, folder)
            from .report import write_outputs

            try:
                probabilities = write_outputs(calib, history, tmp, figures=figures)
            except Exception as exc:  # the generations are kept, and the report can be redone
                _write_manifest(tmp, calib, "complete", generations)
                _copy_inputs(calib, tmp)
                _publish(tmp, folder)
                raise ReportFailed(folder, generations, exc) from exc
            if check > 0:
                from .check import write_smc_check

                runs += write_smc_check(calib, tmp, check, calibrate=calibrate, workers=workers)
            _write_manifest(tmp, calib, "complete", generations)
            _copy_inputs(calib, tmp)
            _publish(tmp, folder)
        except (ReportFailed, FailedCalibration):
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        except BaseException:
            with contextlib.suppress(Exception):  # never hide the original error
                _publish_interrupted(tmp, folder, calib)
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    runs += calib.abc.predictive * sum(p > 0 for p in probabilities.values())
    return CalibrationResult(
        folder, generations, ran, evaluations, runs, time.time() - started, probabilities, True
    )


def _calibrate_rf(
    calib: Calibration,
    folder: Path,
    *,
    check: int,
    progress: Callable[[int, int, int], None] | None,
    executor: Executor | None,
) -> CalibrationResult:
    """The random-forest calibration into a temporary folder, published at the end."""
    from .amortised import calibrate_rf

    tmp = _fresh_tmp(folder)
    try:
        done = calibrate_rf(calib, tmp, check=check, progress=progress, executor=executor)
        _write_manifest(tmp, calib, "complete", 0)
        _copy_inputs(calib, tmp)
        _publish(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return CalibrationResult(folder, 0, 0, done["runs"], done["runs"], done["seconds"],
                             done["probabilities"], True)  # fmt: skip


class ReportFailed(Exception):
    """Every generation ran and is kept in ``folder`` (``abc.db``), but a table, figure or
    the report could not be written; ``--resume`` writes them again without new runs."""

    def __init__(self, folder: Path, generations: int, cause: BaseException) -> None:
        self.folder = folder
        super().__init__(
            f"{folder}: the calibration finished ({generations} generation(s), kept in "
            f"{folder / DB}), but writing its tables, figures or report failed "
            f"({type(cause).__name__}: {cause}); add --resume to write them again"
        )


class FailedCalibration(BadInput):
    """The data cannot tell anything: every distance was infinite, or the posterior is the
    prior. Reported (exit 2) rather than naming a winner; nothing is written."""


def _check_informative(calib: Calibration, history: Any, folder: Path) -> None:
    """Refuse to report a winner when the distances carried no information."""
    pops = history.get_all_populations()
    eps = pops[pops.t >= 0].epsilon.to_numpy(dtype=float)
    if len(eps) and not np.isfinite(eps).any():
        raise FailedCalibration.one(
            str(calib.targets.path),
            "",
            "failed calibration: every distance between the runs and these targets is "
            "infinite (values or weights 1/sd so large that their squares overflow): the "
            f"posterior is the prior, so no rule is preferred; nothing was written to {folder}",
        )


def _recover_stranded(folder: Path, calib: Calibration) -> None:
    """Temporary folders of calibrations into ``folder`` whose process is gone (``kill -9``,
    a power cut): finished generations of this calibration are moved into ``folder`` (so
    that ``--resume`` finds them); folders without any are removed; others are left."""
    from ..lock import _started

    for path in sorted(folder.parent.glob(f".{folder.name}.tmp-*")):
        pid = path.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or int(pid) == os.getpid() or _started(int(pid)) is not None:
            continue
        if _generations(path / DB) == 0:
            shutil.rmtree(path, ignore_errors=True)
            continue
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        here = _read_json(folder / MANIFEST)
        empty = not folder.exists() or all(p.name == LOCK for p in folder.iterdir())
        ours = here is not None and here.get("fingerprint") == calib.fingerprint()
        if manifest.get("fingerprint") == calib.fingerprint() and (empty or ours):
            _publish_interrupted(path, folder, calib)
            shutil.rmtree(path, ignore_errors=True)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _prepare(folder: Path, calib: Calibration, resume: bool) -> dict[str, Any] | None:
    """Check what ``folder`` holds against what this call will do; the old manifest when
    resuming."""
    where = str(folder)
    manifest = None
    if (folder / MANIFEST).is_file():
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BadInput.one(str(folder / MANIFEST), "", f"unreadable: {exc}") from None
    if folder.exists() and not folder.is_dir():
        raise BadInput.one(where, "--out", "exists and is not a folder")
    if manifest is None:
        if resume:
            raise BadInput.one(where, "--resume", "there is no calibration to resume here")
        if folder.exists() and any(p.name != LOCK for p in folder.iterdir()):
            raise BadInput.one(
                where, "--out", "exists and is not empty; choose another --out (nothing was "
                "written)"
            )  # fmt: skip
        return None
    if not resume:
        raise BadInput.one(
            where, "--out", "holds a calibration: add --resume to continue it, or choose "
            "another --out"
        )  # fmt: skip
    if manifest.get("fingerprint") != calib.fingerprint():
        raise BadInput.one(
            where, "--resume", "holds a calibration of a different file, scenario, priors, "
            "targets or seed; only [abc] generations, min_epsilon and predictive may change"
        )  # fmt: skip
    if not (folder / DB).is_file():
        raise BadInput.one(where, "--resume", f"{DB} is missing: nothing to continue")
    _check_history(folder / DB)
    return manifest


def _check_history(db: Path) -> None:
    """A damaged ``abc.db`` (truncated, overwritten, not SQLite) is a message on --resume."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
            con.execute("PRAGMA quick_check").fetchall()
            con.execute("SELECT COUNT(*) FROM populations WHERE t >= 0").fetchone()
    except sqlite3.Error as exc:
        raise BadInput.one(
            str(db), "--resume", f"not a readable calibration history ({exc}); start again "
            "in a new --out"
        ) from None  # fmt: skip


@contextlib.contextmanager
def _executor(
    executor: Executor | None, scheduler: str | None, workers: int | None, in_flight: int | None
) -> Iterator[tuple[Executor | None, int]]:
    """(executor, batches in flight): the given one, a Dask cluster (``scheduler``), local
    processes (``workers`` > 1), or None for this process."""
    if executor is not None:
        yield executor, in_flight or 2 * (workers or os.cpu_count() or 1)
        return
    from ..experiments.executors import executor_for

    with executor_for(scheduler, workers) as (pool, flight):
        if pool is not None:
            yield pool, in_flight or flight or 2
            return
        n = workers or os.cpu_count() or 1
        if n == 1:
            yield None, 1
            return
        from ..experiments.scheduler import die_with_parent, stop_now

        context = multiprocessing.get_context("spawn")
        own = ProcessPoolExecutor(
            max_workers=n, mp_context=context, initializer=die_with_parent,
            initargs=(os.getpid(),),
        )  # fmt: skip
        try:
            yield own, in_flight or 2 * n
        except BaseException:  # Ctrl-C, SIGTERM, a failure: no waiting for the workers
            stop_now(own)
            raise
        own.shutdown(wait=False, cancel_futures=True)


def _run(
    calib: Calibration,
    db: Path,
    *,
    resume: bool,
    executor: Executor | None,
    in_flight: int,
    batch_size: int | None,
    batched: bool | None,
    progress: Callable[[int, int, int], None] | None,
) -> tuple[Any, int, int, int]:
    """Run the ABC-SMC generations that remain; (history, generations run, evaluations kept,
    evaluations run)."""
    from .smc import SeededSampler, Simulator, build

    sampler = SeededSampler(
        calib.abc.seed,
        executor=executor,
        in_flight=in_flight,
        batch_size=batch_size,
        batched=Simulator.BATCHED if batched is None else batched,
        progress=progress,
    )
    abc = build(calib, sampler)
    url = f"sqlite:///{db}"
    np.random.seed(calib.abc.seed)  # anything pyabc draws outside the sampler
    with _quiet_pyabc(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyabc")
        if resume:
            abc.load(url, abc_id=1)
        else:
            abc.new(url, calib.targets.observed, meta_info={"calibration": str(calib.path)})
        history = abc.history
        before = history.n_populations
        evaluations_before = history.total_nr_simulations if before else 0
        remaining = calib.abc.generations - before
        reached = before > 0 and _last_epsilon(history) <= calib.abc.min_epsilon
        if remaining > 0 and not reached:
            history = abc.run(minimum_epsilon=calib.abc.min_epsilon, max_nr_populations=remaining)
    ran = history.n_populations - before
    kept = history.total_nr_simulations - evaluations_before
    return history, ran, kept, sampler.evaluated


def _last_epsilon(history: Any) -> float:
    pops = history.get_all_populations()
    pops = pops[pops.t >= 0]
    return float(pops.epsilon.iloc[-1]) if len(pops) else float("inf")


@contextlib.contextmanager
def _quiet_pyabc() -> Iterator[None]:
    """pyabc logs every generation at INFO; the CLI shows its own progress instead."""
    loggers = [logging.getLogger(name) for name in ("ABC", "ABC.History", "ABC.Distance",
                                                    "ABC.Sampler", "ABC.Epsilon")]  # fmt: skip
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _write_manifest(folder: Path, calib: Calibration, status: str, generations: int) -> None:
    import pyabc

    write_json(
        folder / MANIFEST,
        {
            "format": FORMAT,
            "fingerprint": calib.fingerprint(),
            "status": status,
            "generations": generations,
            "rules": calib.rules,
            "parameters": calib.names,
            "targets": calib.targets.keys,
            "seed": calib.abc.seed,
            "population": calib.abc.population,
            "pyabc": pyabc.__version__,
        },
    )


def _copy_inputs(calib: Calibration, folder: Path) -> None:
    """The calibration file and targets as run, and provenance, for the record."""
    from ..provenance import provenance

    write_text(folder / "calibration.toml", calib.path.read_text(encoding="utf-8"))
    write_text(folder / "targets.csv", Path(calib.targets.path).read_text(encoding="utf-8"))
    write_json(
        folder / "provenance.json",
        provenance(calibration=str(calib.path), seed=calib.abc.seed),
    )


def _publish(tmp: Path, folder: Path) -> None:
    """Move the finished temporary folder into place (the old one out of the way first);
    the lock, when held, moves with it so that no other calibration slips in between."""
    if (folder / LOCK).is_file() and not (tmp / LOCK).exists():
        with contextlib.suppress(OSError):
            os.link(folder / LOCK, tmp / LOCK)
    if folder.exists():
        old = folder.parent / f".{folder.name}.old-{os.getpid()}"
        os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, folder)


def _generations(db: Path) -> int:
    """Finished generations in a pyabc history file (0 if it has none or is unreadable)."""
    import sqlite3

    if not db.is_file():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
            return int(con.execute("SELECT COUNT(*) FROM populations WHERE t >= 0").fetchone()[0])
    except sqlite3.Error:
        return 0


def _publish_interrupted(tmp: Path, folder: Path, calib: Calibration) -> None:
    """Keep the finished generations: the history (and a manifest saying "interrupted") go
    to ``folder``, beside what it held (a finished calibration's report stays until a
    ``--resume`` rewrites it). Nothing changes when no generation was added."""
    new = _generations(tmp / DB)
    if new <= _generations(folder / DB):
        return
    keep = folder.parent / f".{folder.name}.keep-{os.getpid()}"
    shutil.rmtree(keep, ignore_errors=True)
    if folder.is_dir():
        shutil.copytree(folder, keep, ignore=shutil.ignore_patterns(LOCK, DB))
    else:
        keep.mkdir()
    shutil.copy2(tmp / DB, keep / DB)
    _write_manifest(keep, calib, "interrupted", new)
    _publish(keep, folder)


def _fresh_tmp(folder: Path) -> Path:
    """An empty temporary folder beside ``folder`` (this process's own), where a
    calibration is written before it is published."""
    tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
    except OSError as exc:
        raise BadInput.one(str(folder), "--out", f"cannot write beside it: {exc}") from None
    return tmp
