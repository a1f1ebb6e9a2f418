"""Design matrices: which parameter values each sample point gets (SALib samplers).

Row i of the design is sample point ``sample_id = i``. Designs are deterministic in the
experiment seed. Sobol' designs nest — the first rows of the design of size 2N are the
design of size N (same seed) — which is what lets ``sim sweep --extend`` grow a finished
sweep by running only the new rows.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .experiment import Experiment


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


def build_design(exp: Experiment, n: int | None) -> Design:
    """The design of ``exp`` with base size ``n`` (ignored by grids)."""
    from SALib.sample import fast_sampler, latin, morris, sobol

    d = exp.design
    problem = exp.problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's advisory warnings; we validate n ourselves
        if d.method == "grid":
            grid = list(itertools.product(*(p.values for p in exp.spec.parameters.values())))
            kind = float if all(isinstance(v, int | float) for row in grid for v in row) else object
            values = np.array(grid, dtype=kind)
        elif d.method == "sobol":
            values = sobol.sample(problem, n, calc_second_order=d.second_order, seed=d.seed)
        elif d.method == "morris":
            values = morris.sample(
                problem,
                n,
                num_levels=d.num_levels,
                optimal_trajectories=d.optimal_trajectories,
                seed=d.seed,
            )
        elif d.method == "lhs":
            values = latin.sample(problem, n, seed=d.seed)
        else:
            values = fast_sampler.sample(problem, n, M=d.M, seed=d.seed)
    return Design(exp.names, values)


def points_per_base(exp: Experiment) -> int:
    """Sobol' rows per base sample: D + 2 (2D + 2 with second order); D counts groups."""
    problem = exp.problem()
    groups = problem.get("groups")
    dim = len(set(groups)) if groups else problem["num_vars"]
    return 2 * dim + 2 if exp.design.second_order else dim + 2
