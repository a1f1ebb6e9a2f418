"""The one-time preparation of the compiled model, said out loud.

The engine's kernels (:mod:`sim.core.step`) are compiled by Numba the first time they run
and cached on disk (``sim/core/__pycache__``); later processes load them in a fraction of a
second. The first compile takes about 20 s of CPU, and a command that did it silently
looked stuck (issue 18). So every command that is about to run the model calls
:func:`prepare` first: when an entry point it needs has no cached kernel, it prints one
line saying what it does and about how long it takes, compiles the kernels on a tiny run,
and prints one line with the time taken. With a warm cache it prints nothing and costs a
few milliseconds (it reads the cache's index, not the kernels).

The tiny runs step the same code with the same argument types as any real run (the
arrays' types do not depend on sizes or rules), so the kernels they compile are the ones
real runs load.
"""

from __future__ import annotations

import time
from collections.abc import Callable

PREPARE_TIME = "20-40 seconds"
"""About how long the one-time compile takes on a 2-core machine (about 20 s of CPU for a
province's kernels since they take references to the batch's arrays,
``benchmarks/first_run.py``; longer when the machine is busy); quoted in the line printed
before it starts."""


def _entry_points(national: bool, intent: bool = False) -> list:
    from . import step

    points = [step.advance_coupled] if national else [step.advance]
    if intent:  # class mode: the students' choices (sim.core.mechanisms.intent)
        from .mechanisms import intent as choices

        points.append(choices.act)
    return points


def is_cached(dispatcher) -> bool:
    """Whether Numba's disk cache holds a kernel of ``dispatcher`` compiled from its current
    source for this machine (read from the cache index; unknown counts as not cached)."""
    try:
        cache = dispatcher._cache
        index = cache._cache_file._load_index()
        codegen = dispatcher.targetctx.codegen()
        return any(key[1:] == cache._index_key(key[0], codegen)[1:] for key in index)
    except Exception:  # Numba internals changed, no cache locator, ...: say we prepare
        return False


def is_prepared(*, national: bool = False, intent: bool = False) -> bool:
    """Whether the kernels a (``national``) run needs load from the disk cache; ``intent``:
    also class mode's kernel."""
    return all(is_cached(d) or d.signatures for d in _entry_points(national, intent))


def prepare(
    *, echo: Callable[[str], None] | None = None, national: bool = False, intent: bool = False
) -> float:
    """Compile (or load) the kernels a run needs; ``national``: the coupled entry point of
    national scenarios; ``intent``: class mode's kernel too (so that the teacher's first
    round does not wait on it). Returns the seconds spent compiling (0.0 when nothing was to do).
    ``echo`` receives the two lines (before and after); None: silent."""
    if is_prepared(national=national, intent=intent):
        return 0.0
    if echo is not None:
        echo(
            f"preparing the compiled model (one time, about {PREPARE_TIME}; "
            "later runs start at once)..."
        )
    start = time.perf_counter()
    _tiny_run(national=national, intent=intent)
    seconds = time.perf_counter() - start
    if echo is not None:
        echo(f"compiled model ready ({seconds:.0f} s)")
    return seconds


def _tiny_run(*, national: bool, intent: bool = False) -> None:
    """Step a tiny batch through every mechanism's entry point (compiles and caches it)."""
    import numpy as np

    from ..params import Scenario
    from ..world.build import build_world, spawn_streams
    from .batch import Batch, run_constants

    scenario = Scenario.model_validate(
        {
            "name": "prepare",
            "time": {"years": 1, "steps_per_year": 2},
            "population": {"n_agents": 4, "n_regions": 2},
            "services": {"count": 2},
        }
    )
    setups = []
    for p, rule in enumerate(("contractor", "grassroots")):
        streams = spawn_streams(0, p) if national else spawn_streams(0)
        world = build_world(scenario, streams)
        setups.append(run_constants(scenario, rule, 0, world, streams, national=national))
    if national:
        groups, lag = np.array([[0, len(setups)]]), np.array([1])
        Batch(setups, groups=groups, share_lag=lag, history=True).run()
    else:
        Batch(setups).run()
    if intent:
        from .mechanisms import intent as choices

        one = Batch(setups[1:])
        n, k = one.state.hazard[0].shape
        choices.step(one, 0, np.full((n, k), choices.DEVELOP, np.int64))
