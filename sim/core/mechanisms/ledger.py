"""The ledger: the only two ways a run's state changes (compiled, one run ``b`` at a time).

* :func:`register` records new solutions: developments (local or contractor modules) and,
  in national runs, copies imported from another province;
* :func:`serve` makes one unserved pair served by a solution, and keeps the running sums
  that the recorder reads, so recording a step costs O(N + K), not O(N x K).

A pair's serving is a *reuse* unless it is the first use of its solution (an own
development, or a contractor module's first deployment); a copy imported from another
province is a reuse from its first use on.

A development is a *duplicate* when a solution for its service already existed in the
province (developed or imported), or when another development of the same service came
earlier in the same group: a group of g developments of one service counts g duplicates if
the service had a solution before, else g - 1. Groups are registered in a fixed order
within a step (imports, then local developments, then contractor modules), and within a
group in flat pair order, so every run's ledger is a pure function of its draws.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..arrays import CATALOGUE, CONTRACTOR, CONTRACTOR_ORIGIN, FOREIGN, OWN, PEER, Consts, State
from ..jit import step_kernel

# Constant arguments of :func:`serve` and :func:`register`, typed: Numba compiles a kernel
# once per distinct *literal* argument (``OWN``, ``True``, ``1``), so callers pass these
# instead (one compiled copy each).
BY_OWN, BY_PEER, BY_CATALOGUE, BY_CONTRACTOR = (
    np.int64(s) for s in (OWN, PEER, CATALOGUE, CONTRACTOR)
)
YES, NO, ONE = np.bool_(True), np.bool_(False), np.int64(1)


@step_kernel
def register(
    st: State,
    b: int,
    services: np.ndarray,
    quality: np.ndarray,
    origin: np.ndarray,
    m: int,
    t: int,
    developed: bool,
    ids: np.ndarray,
) -> None:
    """Register the first ``m`` entries as new solutions; write their ids into ``ids``."""
    for e in range(m):
        s = st.n_solutions[b]
        st.n_solutions[b] = s + 1
        k = services[e]
        q = quality[e]
        st.sol_service[b, s] = k
        st.sol_quality[b, s] = q
        st.sol_origin[b, s] = origin[e]
        st.sol_step[b, s] = t
        ids[e] = s
        if st.first_sol_step[b, k] < 0:
            st.first_sol_step[b, k] = t
            st.n_solution_services[b] += 1
        elif developed:
            st.duplicates[b] += 1
            if origin[e] == CONTRACTOR_ORIGIN:
                st.module_duplicates[b] += 1
        if developed:
            st.developments[b] += 1
            if st.first_dev_step[b, k] < 0:
                st.first_dev_step[b, k] = t
        # strictly better: the first of equal-quality entries wins
        if q > st.best_quality[b, k]:
            st.best_quality[b, k] = q
            st.best_sol[b, k] = s


@step_kernel
def serve(
    c: Consts,
    st: State,
    b: int,
    i: int,
    k: int,
    source: int,
    sol: int,
    fit: float,
    t: int,
) -> None:
    """Serve the pair (i, k) with solution ``sol`` (a local source, or CONTRACTOR)."""
    q = st.sol_quality[b, sol]
    st.source[b, i, k] = source
    st.sol[b, i, k] = sol
    st.quality[b, i, k] = q
    st.fit[b, i, k] = fit
    st.step[b, i, k] = t
    w = c.pair_weight[b, i, k]
    g = 1 if source == CONTRACTOR else 0
    st.pairs[b, g] += 1
    st.weight[b, g] += w
    st.wquality[b, g] += w * (q * fit)
    st.per_gov[b, g, i] += 1
    st.by_source[b, source] += 1
    # a reuse: serving a solution that already serves someone, or an imported copy (a
    # contractor module's first deployment, like an own development, is its first use)
    if source != OWN and (st.sol_users[b, sol] > 0 or st.sol_origin[b, sol] == FOREIGN):
        st.reuses[b] += 1
    st.sol_users[b, sol] += 1
    if g == 0:
        st.local_quality[b, i, k] = q
        st.local_count[b, k] += 1
        if q > st.local_best[b, k]:
            st.local_best[b, k] = q
        if not c.complete[b]:  # neighbours of i now have one more locally served neighbour
            for e in range(c.indptr[b, i], c.indptr[b, i + 1]):
                st.counts[b, c.indices[b, e], k] += 1


@njit(cache=True, inline="always")
def served_pairs(st: State, b: int) -> int:
    """Pairs with a service (contractor pairs count during an outage too)."""
    return st.pairs[b, 0] + st.pairs[b, 1]
