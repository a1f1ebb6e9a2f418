"""Where sweep chunks run: local processes (default), a Dask cluster, or MPI.

Every option yields a :class:`concurrent.futures.Executor`; the sweep never depends on
which (results are identical, see tests/test_distributed.py).

* ``None``          — a local process pool (``--workers`` processes), made by the sweep;
* ``"local"``       — a Dask ``LocalCluster`` of ``--workers`` single-threaded processes;
* ``"tcp://host:port"`` (any other string) — an existing Dask scheduler
  (``dask.distributed.Client(address).get_executor()``; ``--workers`` is ignored);
* ``"mpi"``         — ``mpi4py.futures.MPIPoolExecutor`` under
  ``mpiexec -n K python -m mpi4py.futures -m sim sweep ... --scheduler mpi``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from concurrent.futures import Executor

from ..errors import BadInput


@contextlib.contextmanager
def executor_for(
    scheduler: str | None, workers: int | None
) -> Iterator[tuple[Executor | None, int | None]]:
    """Yield (executor, parallelism): the executor (None: the sweep's own process pool) and
    how many chunks to keep in flight."""
    if scheduler is None:
        yield None, None
        return
    if scheduler == "mpi":
        try:
            from mpi4py.futures import MPIPoolExecutor
        except ImportError:
            raise BadInput.one(
                "--scheduler", "mpi", "needs mpi4py: pip install 'reform-diffusion-sim[mpi]'"
            ) from None
        with MPIPoolExecutor() as pool:
            yield pool, 2 * (workers or os.cpu_count() or 1)
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise BadInput.one(
            "--scheduler", scheduler, "needs Dask: pip install 'reform-diffusion-sim[dask]'"
        ) from None
    if scheduler == "local":
        n = workers or os.cpu_count() or 1
        with (
            LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client.get_executor(), 2 * n
        return
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise BadInput.one(
            "--scheduler", scheduler, f"cannot reach the Dask scheduler: {exc}"
        ) from None
    with client:
        threads = sum(client.nthreads().values()) or 1
        yield client.get_executor(), 2 * threads
