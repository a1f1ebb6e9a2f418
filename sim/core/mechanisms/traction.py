"""Traction from use: demand that grows with use, and user feedback that moves the
contractor's build priorities (issue 22, ODD 7.18.15-16).

* ``traction.demand_growth`` g: at the start of a step the share u_k of governments that
  serve service k (any source) is observed; every development hazard of k is multiplied by
  1 + g u_k. People who use a service somewhere expect it at home, so demand for it grows
  with its use; a county develops what its users ask for (this acts on local development
  under every rule, crowded out as usual under the contractor).
* ``traction.priority_feedback`` w: the contractor's plan (its build order, fixed at the
  start) yields to observed demand: each module built is the unbuilt service of lowest
  (1 - w) x plan position + w x observed rank, the observed demand of k being provincial
  demand x mean own demand x (1 + g u_k). A county already follows its own users (its
  hazard carries its own demand), so the feedback puts the contractor's plan on the same
  footing. The build schedule (when the m-th module is ready) is unchanged.

The kernels take plain arrays (narrow signatures), not the batch's named tuples.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..arrays import NONE


@njit(cache=True)
def observe_use(source: np.ndarray, n: int, kk: int, share: np.ndarray) -> None:
    """``share[k]`` = the share of the n governments that serve k (``source``: the run's
    N x K sources, start-of-step state)."""
    for k in range(kk):
        share[k] = 0.0
    for i in range(n):
        for k in range(kk):
            if source[i, k] != NONE:
                share[k] += 1.0
    for k in range(kk):
        share[k] /= n


@njit(cache=True)
def choose_modules(
    svc: np.ndarray,
    m: int,
    module_sol: np.ndarray,
    plan_rank: np.ndarray,
    demand: np.ndarray,
    share: np.ndarray,
    growth: float,
    w: float,
    kk: int,
) -> None:
    """``svc[0:m]``: the services of the m modules built this step, one after the other by
    :func:`next_module` (``module_sol[k] >= 0``: k's module is already built). Allocates
    nothing (it runs inside the step kernels, :mod:`sim.core.jit`)."""
    for e in range(m):
        svc[e] = next_module(plan_rank, module_sol, svc, e, demand, share, growth, w, kk)


@njit(cache=True)
def next_module(
    plan_rank: np.ndarray,
    module_sol: np.ndarray,
    chosen: np.ndarray,
    n_chosen: int,
    demand: np.ndarray,
    share: np.ndarray,
    growth: float,
    w: float,
    kk: int,
) -> int:
    """The service whose module is built next: among the services whose module is not
    built (``module_sol[k] < 0``) nor among ``chosen[:n_chosen]``, the lowest (1 - w) x
    ``plan_rank`` + w x observed rank (0 = most demanded; observed demand ``demand[k] x (1 +
    growth x share[k])``, ties by plan rank); ties of the score by plan rank. -1 if every
    module is built."""
    best, arg = np.inf, -1
    for k in range(kk):
        if module_sol[k] >= 0:
            continue
        taken = False
        for e in range(n_chosen):
            if chosen[e] == k:
                taken = True
        if taken:
            continue
        dk = demand[k] * (1.0 + growth * share[k])
        ahead = 0  # services observed as more demanded than k
        for j in range(kk):
            dj = demand[j] * (1.0 + growth * share[j])
            if dj > dk or (dj == dk and plan_rank[j] < plan_rank[k]):
                ahead += 1
        score = (1.0 - w) * plan_rank[k] + w * ahead
        if score < best or (score == best and plan_rank[k] < plan_rank[arg]):
            best, arg = score, k
    return arg
