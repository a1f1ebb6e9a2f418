"""Mechanisms of policy diffusion (issue 22): rankings, de-adoption, vertical ministries.

The other diffusion mechanisms act inside local diffusion (:mod:`.local`: the mandate's
hazard, the pilots' boost, learning from outcomes, reinvention) and recognition
(:mod:`.province`: the pilots' scale-up). Each kernel here runs only when its mechanism is
on (ODD §7.18):

* :func:`rank`: at the start of every ``rank_every``-th step the province publishes a
  ranking by served pairs; government i, with r_i governments strictly ahead of it,
  multiplies its local hazards by ``1 + ranking_pressure x r_i / (N - 1)`` until the next
  ranking (the laggards push hardest: the tournament of Li and Zhou 2005);
* :func:`deadopt`: a locally served pair whose quality x fit is below the threshold
  accumulates abandon hazard; past its clock it abandons the solution, once: it is
  unserved again, and its local clock restarts with a fresh exponential;
* :func:`ministries`: in its scheduled step a vertical ministry builds its own system for a
  service: a development and a duplicate (of the counties' systems for the service,
  before or after it), at the cost of a module build; it serves no county and is not in
  the catalogue.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..arrays import CATALOGUE, NONE, OWN, PEER, Consts, State


@njit(cache=True, inline="always")  # small: inlined into the step (sim.core.jit)
def rank(c: Consts, st: State, b: int, t: int, gov: np.ndarray) -> None:
    """``gov``: scratch of at least N + K + 1 integers (the recorder's). Governments serve
    0..K pairs, so the count strictly ahead of each comes from a histogram, not a sort."""
    every = c.rank_every[b]
    if (t - 1) % every != 0:
        return
    n, kk = c.n[b], c.k[b]
    above = gov[n:]  # above[v]: governments serving more than v pairs
    for v in range(kk + 1):
        above[v] = 0
    for i in range(n):
        above[st.per_gov[b, 0, i] + st.per_gov[b, 1, i]] += 1
    more = 0
    for v in range(kk, -1, -1):
        h = above[v]
        above[v] = more
        more += h
    scale = c.ranking_pressure[b] / max(n - 1, 1)
    for i in range(n):
        ahead = above[st.per_gov[b, 0, i] + st.per_gov[b, 1, i]]
        st.rank_mult[b, i] = 1.0 + scale * ahead


@njit(cache=True, inline="always")  # small: inlined into the step (sim.core.jit)
def deadopt(c: Consts, st: State, b: int, t: int) -> None:
    n, kk = c.n[b], c.k[b]
    rate, threshold = c.dead_dt[b], c.dead_q[b]
    for i in range(n):
        for k in range(kk):
            src = st.source[b, i, k]
            if src != OWN and src != PEER and src != CATALOGUE:
                continue
            h = st.dead_h[b, i, k]
            if h == np.inf or st.quality[b, i, k] * st.fit[b, i, k] >= threshold:
                continue
            h += rate
            st.dead_h[b, i, k] = h
            if h > c.dead_clock[b, i, k]:
                _unserve(c, st, b, i, k)
                st.dead_h[b, i, k] = np.inf
                st.deadoptions[b] += 1


@njit(cache=True, inline="always")
def _unserve(c: Consts, st: State, b: int, i: int, k: int) -> None:
    """The locally served pair (i, k) abandons its solution (the ledger's serve, undone)."""
    w = c.pair_weight[b, i, k]
    st.by_source[b, st.source[b, i, k]] -= 1
    st.pairs[b, 0] -= 1
    st.weight[b, 0] -= w
    st.wquality[b, 0] -= w * st.quality[b, i, k] * st.fit[b, i, k]
    st.per_gov[b, 0, i] -= 1
    st.local_count[b, k] -= 1
    st.local_quality[b, i, k] = -np.inf
    if not c.complete[b]:
        for e in range(c.indptr[b, i], c.indptr[b, i + 1]):
            st.counts[b, c.indices[b, e], k] -= 1
    best = -np.inf
    for j in range(c.n[b]):
        if st.local_quality[b, j, k] > best:
            best = st.local_quality[b, j, k]
    st.local_best[b, k] = best
    st.source[b, i, k] = NONE
    st.sol[b, i, k] = -1
    st.quality[b, i, k] = 0.0
    st.fit[b, i, k] = 0.0
    st.step[b, i, k] = -1
    # a fresh local clock: the pair fires once its hazard from now exceeds a new exponential
    st.hazard[b, i, k] = c.clock[b, i, k] - c.readopt_clock[b, i, k]


@njit(cache=True, inline="always")  # small: inlined into the step (sim.core.jit)
def ministries(c: Consts, st: State, b: int, t: int) -> None:
    for k in range(c.k[b]):
        if c.ministry_step[b, k] != t:
            continue
        st.developments[b] += 1
        st.duplicates[b] += 1  # of the counties' systems for k, before or after it
        st.ministry_systems[b] += 1
        st.cost[b] += c.ministry_cost[b]


@njit(cache=True, inline="always")
def blocks_settling(c: Consts, b: int) -> bool:
    """Whether a diffusion mechanism can still change run b once every pair is served."""
    return c.dead_dt[b] > 0.0 or c.ministry_on[b]
