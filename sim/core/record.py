"""The recorder: row t of a run's series after step t (row 0: the initial state). Compiled.

Levels at the end of the step (``coverage``, ``quality``, ...) and cumulative counts
(``developments``, ...); the ``served_*`` columns are shares of all pairs by how they were
ever served. During an outage contractor-served pairs count as unserved, and so do
locally run pairs during their government's local failure (:mod:`.mechanisms.risk`);
``lost_pairs`` holds how many they are (both kinds). ``gini`` is the Gini coefficient of
pairs served per government, from a histogram of the counts (values 0..K, no sort);
``lagging_gap`` is the coverage of the top capacity quartile minus the bottom one. Both are
computed from integer counts, so they are exact whatever the batch.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .arrays import (
    C_CATALOGUE,
    C_CONTRACTOR,
    C_COST,
    C_COVERAGE,
    C_DEVELOPMENTS,
    C_DUPLICATES,
    C_GAP,
    C_GINI,
    C_LOST,
    C_OUTAGE,
    C_OWN,
    C_PEER,
    C_QUALITY,
    C_REUSES,
    C_WEIGHTED,
    CATALOGUE,
    CONTRACTOR,
    OWN,
    PEER,
    Consts,
    Series,
    State,
)
from .jit import step_kernel
from .mechanisms.risk import is_down


@step_kernel
def gini_of_counts(per_gov: np.ndarray, n: int, k: int, hist: np.ndarray) -> float:
    """Gini of ``per_gov[:n]`` (integers in 0..k). With h_v governments at value v and
    c_v = h_0 + ... + h_v, the sorted values occupy ranks c_{v-1} + 1 .. c_v, so
    sum_i i x_(i) = sum_v v h_v (c_{v-1} + c_v + 1) / 2."""
    for v in range(k + 1):  # loops, not slices: a slice compiles its error message
        hist[v] = 0
    for i in range(n):
        hist[per_gov[i]] += 1
    cum = 0
    ranked = 0.0
    total = 0
    for v in range(k + 1):
        h = hist[v]
        cum += h
        ranked += v * h * (2 * cum - h + 1) / 2.0
        total += v * h
    if total == 0:
        return 0.0
    return 2.0 * ranked / (n * total) - (n + 1) / n


@step_kernel
def record(c: Consts, st: State, rec: Series, b: int, t: int, gov: np.ndarray) -> None:
    """Write row t of run b (``gov``: scratch of length N + K + 1)."""
    n, k = c.n[b], c.k[b]
    v = rec.values
    down = st.outage_left[b] > 0
    with_contractor = not down and st.pairs[b, 1] > 0
    g = 2 if with_contractor else 1
    pairs, weight, wq = 0, 0.0, 0.0
    for x in range(g):
        pairs += st.pairs[b, x]
        weight += st.weight[b, x]
        wq += st.wquality[b, x]
    for i in range(n):
        gov[i] = st.per_gov[b, 0, i] + (st.per_gov[b, 1, i] if with_contractor else 0)
    lost_local = 0
    if c.p_local[b] > 0.0:  # locally run pairs down in a local failure
        gov_down, gov_down_all = st.gov_down[b], st.gov_down_all[b]
        source, quality, fit, pair_weight = st.source[b], st.quality[b], st.fit[b], c.pair_weight[b]
        for i in range(n):
            if gov_down[i] == 0:
                continue
            for kk in range(k):
                if is_down(source[i, kk], gov_down_all[i]):
                    w = pair_weight[i, kk]
                    gov[i] -= 1
                    lost_local += 1
                    weight -= w
                    wq -= w * quality[i, kk] * fit[i, kk]
        pairs -= lost_local
        if pairs == 0:  # nothing up: exactly 0, not the rounding left by the subtraction
            weight, wq = 0.0, 0.0
        weight = min(max(weight, 0.0), 1.0)
    if rec.per_gov.shape[1] > 1:
        for i in range(n):
            rec.per_gov[b, t, i] = gov[i]
    total = n * k
    v[b, C_COVERAGE, t] = pairs / total
    v[b, C_WEIGHTED, t] = weight
    v[b, C_QUALITY, t] = wq / weight if weight > 0 else np.nan
    v[b, C_GINI, t] = gini_of_counts(gov, n, k, gov[n:])
    gap = 0
    for j in range(c.quartile[b]):
        gap += gov[c.top[b, j]] - gov[c.bottom[b, j]]
    v[b, C_GAP, t] = gap / (c.quartile[b] * k)
    v[b, C_DEVELOPMENTS, t] = st.developments[b]
    v[b, C_DUPLICATES, t] = st.duplicates[b]
    v[b, C_REUSES, t] = st.reuses[b]
    v[b, C_COST, t] = st.cost[b]
    v[b, C_OWN, t] = st.by_source[b, OWN] / total
    v[b, C_PEER, t] = st.by_source[b, PEER] / total
    v[b, C_CATALOGUE, t] = st.by_source[b, CATALOGUE] / total
    v[b, C_CONTRACTOR, t] = st.by_source[b, CONTRACTOR] / total
    v[b, C_OUTAGE, t] = 1.0 if down else 0.0
    v[b, C_LOST, t] = (st.pairs[b, 1] if down else 0) + lost_local


@njit(cache=True, inline="always")
def repeat(c: Consts, rec: Series, b: int, t: int) -> None:
    """A settled run: row t equals row t - 1 (loops: a slice assignment compiles the
    formatting of its error message, most of the recorder's compile events)."""
    v = rec.values
    for j in range(v.shape[1]):
        v[b, j, t] = v[b, j, t - 1]
    if rec.per_gov.shape[1] > 1:
        for i in range(c.n[b]):
            rec.per_gov[b, t, i] = rec.per_gov[b, t - 1, i]
