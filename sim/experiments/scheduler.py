"""Running a sweep's chunks on an executor, surviving workers that die.

A chunk whose *model function* fails is not a problem here: the worker catches the error
per run and returns it (:func:`sim.experiments.worker.run_chunk`). What this module handles
is a worker process that dies — killed by the kernel for memory, ``os._exit`` or a crash in
compiled code in the model. A local process pool is then broken for every chunk in flight,
so none of them can be blamed yet: the pool is rebuilt and those chunks are run again *one
at a time*; a chunk that kills its worker again is cut in halves until the sample points
that do are found. Such a point gets :data:`ATTEMPTS` tries alone and is then reported as
failed (every other point goes on), and the sweep ends "failed", resumable.

An executor that is not the sweep's own (Dask, MPI) cannot be rebuilt here: Dask retries
tasks on other workers itself and reports a task that kills workers (``KilledWorker``),
which is recorded as the chunk's failure like any other error from the executor.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np

FAILURES = "failures.csv"
"""The table of runs whose model function failed, in the sweep folder."""
ATTEMPTS = 2
"""Tries a chunk gets alone after it was in flight when a worker died."""

DIED = (
    "the worker process died running this sample point (killed for memory, "
    "os._exit or a crash in compiled code), {n} times running it alone"
)


def local_pool(workers: int) -> ProcessPoolExecutor:
    """The sweep's own pool: ``spawn`` processes (safe with threads and compiled code) that
    die with this process (:func:`die_with_parent`)."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )


PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """A worker's initializer: end this process when ``parent`` ends, even by ``kill -9``
    (which runs no clean-up in the parent), so that no worker (each holding hundreds of MB)
    is left behind. On Linux the kernel sends SIGKILL (``prctl(PR_SET_PDEATHSIG)``);
    elsewhere, and in case the parent was gone before, a thread watches the parent id."""
    import signal
    import sys
    import threading
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the prctl
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def stop_now(pool: Executor) -> None:
    """End a local pool at once: its workers are terminated (their chunks were not
    recorded and run again on --resume), nothing waits for them."""
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def run_chunks(
    work: Iterable[list[int]],
    call: Callable[[list[int]], tuple],
    fn: Callable[..., dict],
    done: Callable[[list[int], dict], None],
    failed: Callable[[list[int], str], None],
    *,
    executor: Executor | None,
    workers: int,
    limit: int,
) -> None:
    """Run ``fn(*call(ids))`` for every chunk of ``work``; ``done(ids, result)`` or
    ``failed(ids, message)`` for each. ``executor``: an external executor, or None for the
    sweep's own pool of ``workers`` processes, which is rebuilt when a worker dies (after
    the chunks in flight then ran alone)."""
    own = executor is None
    pool: Executor | None = executor
    queue = iter(work)
    pending: dict[Future, list[int]] = {}
    suspects: list[list[int]] = []
    try:
        while True:
            while len(pending) < limit and not suspects:
                ids = next(queue, None)
                if ids is None:
                    break
                if pool is None:  # made when needed (again after suspects ran alone)
                    pool = local_pool(workers)
                pending[pool.submit(fn, *call(ids))] = ids
            if not pending:
                if not suspects:
                    return
                _alone(suspects, call, fn, done, failed)
                continue
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for fut in finished:
                ids = pending.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool:
                    broken = True
                    suspects.append(ids)
                    continue
                except Exception as exc:  # the executor's own failure (e.g. KilledWorker)
                    failed(ids, f"{type(exc).__name__}: {exc}")
                    continue
                done(ids, result)
            if broken and own:
                suspects += pending.values()  # every chunk in flight went down with it
                pending.clear()
                assert pool is not None
                pool.shutdown(wait=True, cancel_futures=True)
                pool = None
            elif broken:  # an external executor cannot be rebuilt from here
                for ids in [*suspects, *pending.values(), *queue]:
                    failed(ids, "the executor broke (a worker died); resume when it is back")
                return
    except BaseException:  # Ctrl-C, SIGTERM: nothing waits for the chunks in flight
        if own and pool is not None:
            stop_now(pool)
            pool = None
        raise
    finally:
        if own and pool is not None:
            pool.shutdown(wait=True)


def _alone(
    suspects: list[list[int]],
    call: Callable[[list[int]], tuple],
    fn: Callable[..., dict],
    done: Callable[[list[int], dict], None],
    failed: Callable[[list[int], str], None],
) -> None:
    """Run each suspect chunk alone, in a pool of one process; a chunk that kills its
    worker alone is cut in halves until the sample points that do are found, and a single
    point gets :data:`ATTEMPTS` tries."""
    tries: dict[int, int] = {}
    pool = None
    try:
        while suspects:
            ids = suspects.pop(0)
            pool = pool or local_pool(1)
            try:
                result = pool.submit(fn, *call(ids)).result()
            except BrokenProcessPool:
                pool.shutdown(wait=True, cancel_futures=True)
                pool = None
                if len(ids) > 1:
                    half = len(ids) // 2
                    suspects[:0] = [ids[:half], ids[half:]]
                    continue
                tries[ids[0]] = tries.get(ids[0], 0) + 1
                if tries[ids[0]] < ATTEMPTS:
                    suspects.insert(0, ids)
                else:
                    failed(ids, DIED.format(n=ATTEMPTS))
                continue
            except Exception as exc:
                failed(ids, f"{type(exc).__name__}: {exc}")
                continue
            done(ids, result)
    except BaseException:
        if pool is not None:
            stop_now(pool)
            pool = None
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


def in_process(
    work: Iterable[list[int]],
    call: Callable[[list[int]], tuple],
    fn: Callable[..., Any],
    done: Callable[[list[int], dict], None],
    failed: Callable[[list[int], str], None],
) -> None:
    """Every chunk in this process, in order (``--workers 1``)."""
    for ids in work:
        try:
            result = fn(*call(ids))
        except Exception as exc:  # not a run's error (those come back in the result)
            failed(ids, f"{type(exc).__name__}: {exc}")
            continue
        done(ids, result)


# ---- writing what succeeded ----------------------------------------------------------------


def consecutive(ids: list[int], chunk: list[int]) -> list[list[int]]:
    """``ids`` (a subset of ``chunk``, in its order) cut where ``chunk`` had ids between."""
    position = {sid: p for p, sid in enumerate(chunk)}
    parts: list[list[int]] = []
    for sid in ids:
        if parts and position[sid] == position[parts[-1][-1]] + 1:
            parts[-1].append(sid)
        else:
            parts.append([sid])
    return parts


def point_rows(
    columns: dict[str, Any], first: int, stop: int, per_point: int = 0
) -> dict[str, Any]:
    """The rows of sample ids [first, stop): ``runs`` columns by sample id; time-series
    columns (``per_point`` > 0) by run id, which is sample id x runs per point + ..."""
    if per_point:
        sid = np.asarray(columns["run_id"]) // per_point
    else:
        sid = np.asarray(columns["sample_id"])
    keep = (sid >= first) & (sid < stop)
    if keep.all():
        return columns
    return {c: np.asarray(v)[keep] for c, v in columns.items()}


def failure_summary(failures: list[dict[str, Any]], folder: Any, again: str) -> list[str]:
    """What a failed sweep tells the user: how many runs and points, where every error is,
    the most frequent errors, and the command that continues (``again`` + ``--resume``)."""

    points = {f["sample_id"] for f in failures}
    errors: dict[str, int] = {}
    for f in failures:
        errors[f["error"]] = errors.get(f["error"], 0) + 1
    lines = [
        f"error: the sweep failed: {len(failures):,} run(s) at {len(points):,} sample point(s) "
        f"raised an error (every run: {folder}/{FAILURES}). The other runs are kept; the "
        "failed points stay missing. Most frequent errors:"
    ]
    lines += [f"  {n:,} x {e}" for e, n in sorted(errors.items(), key=lambda e: -e[1])[:3]]
    lines.append(f"Fix the cause, then continue with: {again} --resume")
    return lines
