"""How many local workers a sweep can have: the memory estimate of :mod:`sim.limits` for
the largest runs an experiment's design asks for."""

from __future__ import annotations

import os

from .. import limits
from ..errors import BadInput
from .design import expected_points
from .experiment import Experiment


def sweep_estimate(exp: Experiment, workers: int) -> limits.Estimate:
    """Peak memory of a sweep of ``exp`` on ``workers`` local workers: each builds a chunk
    of the largest runs the design samples (most governments, services, steps, links)."""
    spec = exp.spec
    columns = [p.values or [p.low, p.high] for p in spec.parameters.values()]
    size = limits.run_size(exp.scenario, **limits.largest_values(exp.names, columns))
    levels = [p.values or () for p in spec.parameters.values()]
    points = expected_points(exp.design, exp.problem(), levels, exp.design.n)
    return limits.sweep_estimate(
        size,
        runs_per_point=exp.design.replicates * len(exp.rules),
        workers=workers,
        points=points,
        dims=len(exp.names),
    )


def workers_that_fit(exp: Experiment, workers: int | None) -> tuple[int, str | None]:
    """(workers to use, a note for the user or None). All cores by default, fewer when
    they would not fit in memory; an explicit ``workers`` that does not fit is refused
    with the number that does. A Python model's memory is its own: not estimated."""
    wanted = workers or os.cpu_count() or 1
    if exp.scenario is None:
        return wanted, None
    limit, _ = limits.memory_limit()
    fits = wanted
    while fits > 1 and limit is not None and sweep_estimate(exp, fits).bytes > limit:
        fits -= 1
    if workers is not None and fits < workers:
        need = limits.format_bytes(sweep_estimate(exp, workers).bytes)
        raise BadInput.one(
            "--workers",
            str(workers),
            f"{workers} workers need about {need} of memory; {fits} fit in "
            f"{limits.format_bytes(limit or 0)} (use --workers {fits}, or --max-memory SIZE "
            "if you know more fit)",
        )
    limits.check(sweep_estimate(exp, fits), str(exp.path), "design")
    note = f"note: {fits} of {wanted} workers fit in memory" if fits < wanted else None
    return fits, note
