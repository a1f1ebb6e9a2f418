"""The coupling of the provinces of a national run (compiled), before each step.

The provinces of one country are the runs ``lo .. hi - 1`` of a batch (one row of
``groups``). From the start-of-step states of all of them:

* **cross-province learning**: for each province and service k, the share of the *other*
  provinces' governments served by a local solution for k, and the best quality among
  them; local diffusion copies that solution at hazard
  ``cross_learning x peer_learning x c_eff_i x share_k`` (:mod:`sim.core.mechanisms.local`);
* **the national catalogue**: a service recognised in a province (grassroots, hybrid)
  enters the catalogue of every other province that keeps one ``sharing_lag`` years later,
  with the best solution of the provinces that shared it by then; a province imports it
  when it is better than its own best (a copy, not a development). From then on it is that
  province's catalogue entry like any other.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .arrays import FOREIGN, Consts, State
from .mechanisms.ledger import NO, register


@njit(cache=True)
def couple(c: Consts, st: State, groups: np.ndarray, share_lag: np.ndarray, t: int, buf):
    svc, qual, orig, ids = buf[4], buf[5], buf[6], buf[7]
    for g in range(groups.shape[0]):
        lo, hi = groups[g, 0], groups[g, 1]
        kk = c.k[lo]
        total = 0
        for p in range(lo, hi):
            total += c.n[p]
        for k in range(kk):
            served = 0
            first, second, top = -np.inf, -np.inf, -1
            for p in range(lo, hi):
                served += st.local_count[p, k]
                q = st.local_best[p, k]
                if q > first:
                    second, first, top = first, q, p
                elif q > second:
                    second = q
            for p in range(lo, hi):
                others = total - c.n[p]
                abroad = served - st.local_count[p, k]
                st.foreign_share[p, k] = abroad / others if others > 0 else 0.0
                st.foreign_quality[p, k] = second if p == top else first
        # the national catalogue
        any_shared = False
        for p in range(lo, hi):
            for k in range(kk):
                if c.has_province[p] and st.recognised[p, k] and st.recognised_at[p, k] < 0:
                    st.recognised_at[p, k] = t - 1  # recognised in the previous step
                at = st.recognised_at[p, k]
                if at >= 0 and at + share_lag[g] <= t:
                    any_shared = True
        if not any_shared:
            continue
        entry = np.full(kk, -np.inf)
        for p in range(lo, hi):
            for k in range(kk):
                at = st.recognised_at[p, k]
                if at >= 0 and at + share_lag[g] <= t and st.best_quality[p, k] > entry[k]:
                    entry[k] = st.best_quality[p, k]
        better = np.zeros((hi - lo, kk), np.bool_)
        for p in range(lo, hi):
            if c.has_province[p]:
                for k in range(kk):
                    better[p - lo, k] = entry[k] > st.best_quality[p, k]
        for p in range(lo, hi):
            m = 0
            for k in range(kk):
                if better[p - lo, k]:
                    svc[m], qual[m], orig[m] = k, entry[k], FOREIGN
                    m += 1
            if m:
                register(st, p, svc, qual, orig, m, t, NO, ids)
                st.imported[p] += m
