"""Solutions improve in use: the contractor's upgrades and users' feedback (issues 19, 22).

A solution s in use by u_s of the run's n governments (pairs served by it now) improves
towards quality 1 at a rate proportional to its share of users:

    q_s <- q_s + (1 - q_s) (1 - exp(-r u_s / n dt)),

with r = ``drive.upgrade_rate`` for the contractor's own modules and r =
``traction.feedback_rate`` for every other solution (local developments, copies imported
from another province, and under the hybrid rule the recognised solutions the contractor
deploys). Feedback comes from use, so a solution nobody uses does not improve, and one
that serves every government improves at the full rate. Every pair served by an improved
solution gets its new quality (and the recorder's running sums follow); the service's best
solution is updated. Acts after the step's events, before recording; with both rates 0
nothing here runs.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..arrays import CONTRACTOR, CONTRACTOR_ORIGIN, NONE, Consts, State


@njit(cache=True, inline="always")  # small: inlined into the step (sim.core.jit)
def improve(c: Consts, st: State, b: int, users: np.ndarray) -> None:
    """``users``: scratch of at least S integers (:func:`sim.core.step.scratch`)."""
    n, kk, ns = c.n[b], c.k[b], st.n_solutions[b]
    for s in range(ns):  # governments served by each solution now
        users[s] = 0
    for i in range(n):
        for k in range(kk):
            if st.source[b, i, k] != NONE:
                users[st.sol[b, i, k]] += 1
    changed = False
    for s in range(ns):
        if users[s] == 0:
            continue
        r = c.upgrade_dt[b] if st.sol_origin[b, s] == CONTRACTOR_ORIGIN else c.feedback_dt[b]
        if r <= 0.0:
            continue
        q = st.sol_quality[b, s]
        q = q + (1.0 - q) * -math.expm1(-r * users[s] / n)
        st.sol_quality[b, s] = q
        k = st.sol_service[b, s]
        if q > st.best_quality[b, k]:
            st.best_quality[b, k] = q
            st.best_sol[b, k] = s
        changed = True
    if not changed:
        return
    for i in range(n):
        for k in range(kk):
            src = st.source[b, i, k]
            if src == NONE:
                continue
            q = st.sol_quality[b, st.sol[b, i, k]]
            old = st.quality[b, i, k]
            if q == old:
                continue
            g = 1 if src == CONTRACTOR else 0
            st.wquality[b, g] += c.pair_weight[b, i, k] * (q - old) * st.fit[b, i, k]
            st.quality[b, i, k] = q
            if g == 0:
                st.local_quality[b, i, k] = q
                if q > st.local_best[b, k]:
                    st.local_best[b, k] = q


@njit(cache=True, inline="always")
def active(c: Consts, b: int) -> bool:
    """Whether solutions can still change in run b (it then never settles)."""
    return c.upgrade_dt[b] > 0.0 or c.feedback_dt[b] > 0.0
