"""Consolidation: locally run pairs migrate to the standard solution (issue 12).

With ``support.consolidation_rate`` = r > 0, a pair served by a local solution (own, peer
or catalogue) whose quality is below its service's *standard* migrates to the standard at
hazard r per year: under the rules with a province (grassroots, hybrid) the standard is
the recognised service's promoted solution (the province's pick, else its best); under
the contractor rule it is the contractor's module, once built. Each pair has its own
exponential clock (the ``consolidation`` stream, drawn when the run is built) and
accumulates hazard only while its solution is worse than the standard; it migrates in the
step its cumulative hazard passes the clock, at ``costs.migration``. A migrated pair is
served from the catalogue (reuse fit) or by the contractor (the module's fit, and it is
then contractor-run: it counts for outages, not as a local neighbour). The ``served_*``
columns then count pairs by how they are served *now* (without consolidation: ever
served, the same thing). With rate 0 nothing here runs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..arrays import CATALOGUE, CONTRACTOR, NONE, Consts, State


@njit(cache=True, inline="always")  # small: inlined into the step (sim.core.jit)
def consolidate(c: Consts, st: State, b: int, t: int) -> None:
    n, kk = c.n[b], c.k[b]
    rate = c.consolidation_dt[b]
    for k in range(kk):
        target = -1
        to_contractor = False
        if c.has_province[b]:
            if st.recognised[b, k]:
                target = st.pick[b, k] if c.judge[b] else st.best_sol[b, k]
        elif c.has_contractor[b] and not c.adopt[b]:
            target = st.module_sol[b, k]
            to_contractor = True
        if target < 0:
            continue
        q_new = st.sol_quality[b, target]
        for i in range(n):
            s = st.source[b, i, k]
            if s == NONE or s == CONTRACTOR or st.sol[b, i, k] == target:  # noqa: SIM109
                continue
            if st.quality[b, i, k] >= q_new:
                continue
            h = st.cons_hazard[b, i, k] + rate
            st.cons_hazard[b, i, k] = h
            if h <= c.cons_clock[b, i, k]:
                continue
            _migrate(c, st, b, i, k, target, to_contractor)
            st.migrations[b] += 1
            st.cost[b] += c.migration_cost[b]


@njit(cache=True, inline="always")
def _migrate(c: Consts, st: State, b: int, i: int, k: int, sol: int, to_contractor: bool):
    w = c.pair_weight[b, i, k]
    old = st.quality[b, i, k] * st.fit[b, i, k]
    q = st.sol_quality[b, sol]
    st.by_source[b, st.source[b, i, k]] -= 1
    st.sol_users[b, sol] += 1
    st.sol[b, i, k] = sol
    st.quality[b, i, k] = q
    if not to_contractor:
        fit = c.reuse_fit[b] * c.reuse_absorb[b, i]  # drive.absorption_scope
        st.source[b, i, k] = CATALOGUE
        st.by_source[b, CATALOGUE] += 1
        st.fit[b, i, k] = fit
        st.wquality[b, 0] += w * (q * fit - old)
        st.local_quality[b, i, k] = q
        if q > st.local_best[b, k]:
            st.local_best[b, k] = q
        return
    fit = c.contractor_fit[b, i]
    st.source[b, i, k] = CONTRACTOR
    st.by_source[b, CONTRACTOR] += 1
    st.fit[b, i, k] = fit
    st.pairs[b, 0] -= 1
    st.pairs[b, 1] += 1
    st.weight[b, 0] -= w
    st.weight[b, 1] += w
    st.wquality[b, 0] -= w * old
    st.wquality[b, 1] += w * q * fit
    st.per_gov[b, 0, i] -= 1
    st.per_gov[b, 1, i] += 1
    st.local_count[b, k] -= 1
    st.local_quality[b, i, k] = -np.inf
    if not c.complete[b]:
        for e in range(c.indptr[b, i], c.indptr[b, i + 1]):
            st.counts[b, c.indices[b, e], k] -= 1
    best = -np.inf  # the best local solution left
    for j in range(c.n[b]):
        if st.local_quality[b, j, k] > best:
            best = st.local_quality[b, j, k]
    st.local_best[b, k] = best
