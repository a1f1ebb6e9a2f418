"""Design matrices: which parameter values each sample point gets (SALib samplers).

Row i of the design is sample point ``sample_id = i``. Designs are deterministic in the
experiment seed. Sobol' designs nest — the first rows of the design of size 2N are the
design of size N (same seed) — which is what lets ``sim sweep --extend`` grow a finished
sweep by running only the new rows.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


class DesignSettings(Protocol):
    """What a sampler reads from an experiment's ``[design]`` table (its spec)."""

    method: str
    seed: int
    second_order: bool
    num_levels: int
    optimal_trajectories: int | None
    M: int


@dataclass(frozen=True)
class Design:
    names: list[str]
    values: np.ndarray  # points x parameters (float, or object for grids with strings)

    @property
    def n_points(self) -> int:
        return len(self.values)

    def row(self, i: int) -> dict[str, object]:
        return {name: _plain(v) for name, v in zip(self.names, self.values[i], strict=True)}


def _plain(v: object) -> object:
    return v.item() if isinstance(v, np.generic) else v


Sampler = Callable[[DesignSettings, dict[str, Any], int | None, Sequence[Sequence]], np.ndarray]


def _grid(d: DesignSettings, problem: dict, n: int | None, levels: Sequence[Sequence]):
    grid = list(itertools.product(*levels))
    kind = float if all(isinstance(v, int | float) for row in grid for v in row) else object
    return np.array(grid, dtype=kind)


def _sobol(d: DesignSettings, problem: dict, n: int | None, levels: Sequence[Sequence]):
    from SALib.sample import sobol

    return sobol.sample(problem, n, calc_second_order=d.second_order, seed=d.seed)


def _morris(d: DesignSettings, problem: dict, n: int | None, levels: Sequence[Sequence]):
    from SALib.sample import morris

    return morris.sample(
        problem,
        n,
        num_levels=d.num_levels,
        optimal_trajectories=d.optimal_trajectories,
        seed=d.seed,
    )


def _lhs(d: DesignSettings, problem: dict, n: int | None, levels: Sequence[Sequence]):
    from SALib.sample import latin

    return latin.sample(problem, n, seed=d.seed)


def _fast(d: DesignSettings, problem: dict, n: int | None, levels: Sequence[Sequence]):
    from SALib.sample import fast_sampler

    return fast_sampler.sample(problem, n, M=d.M, seed=d.seed)


SAMPLERS: dict[str, Sampler] = {
    "grid": _grid,
    "sobol": _sobol,
    "morris": _morris,
    "lhs": _lhs,
    "fast": _fast,
}
"""Design method -> sampler: ``(settings, SALib problem, n, grid levels) -> points``."""


def build_design(
    design: DesignSettings,
    problem: dict[str, Any],
    names: list[str],
    levels: Sequence[Sequence],
    n: int | None,
) -> Design:
    """The design with base size ``n`` (ignored by grids); ``levels``: each parameter's
    values (grids only)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's advisory warnings; we validate n ourselves
        values = SAMPLERS[design.method](design, problem, n, levels)
    return Design(names, values)


def points_per_base(design: DesignSettings, problem: dict[str, Any]) -> int:
    """Sobol' rows per base sample: D + 2 (2D + 2 with second order); D counts groups."""
    groups = problem.get("groups")
    dim = len(set(groups)) if groups else problem["num_vars"]
    return 2 * dim + 2 if design.second_order else dim + 2


def expected_points(
    design: DesignSettings, problem: dict[str, Any], levels: Sequence[Sequence], n: int | None
) -> int:
    """How many sample points the design of base size ``n`` has, computed without building
    it (so that a design too large to build is refused first, and a design SALib builds
    differently from what the analysis expects is caught at validation)."""
    groups = problem.get("groups")
    factors = len(set(groups)) if groups else problem["num_vars"]
    if design.method == "grid":
        return math.prod(len(v) for v in levels)
    assert n is not None
    if design.method == "sobol":
        return n * points_per_base(design, problem)
    if design.method == "morris":
        return (design.optimal_trajectories or n) * (factors + 1)
    if design.method == "fast":
        return n * problem["num_vars"]
    return n  # lhs
