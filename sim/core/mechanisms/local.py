"""Local diffusion: own development, peer reuse, the provincial catalogue (compiled).

Every unserved pair (i, k) has a hazard, the sum of up to four channels (rates x dt):

* ``dev   = innovation_rate * c_eff_i * priority_k``: own development, unless a solution for
  k exists and the catalogue shows it (``catalog_visibility``): then catalogue reuse;
* ``peer  = peer_learning * c_eff_i * (served neighbours / neighbours)``: copy the best
  solution among neighbours served by a local solution;
* ``cross = cross_learning * peer_learning * c_eff_i * foreign_share_k`` (national runs):
  copy the best solution for k that other provinces' governments use (an imported copy);
* ``promo = promotion_rate * c_eff_i`` once k is recognised: reuse the promoted (best)
  solution from the catalogue.

**Development time** (``collaboration.development_time`` > 0, ``dev_steps`` whole steps): a
development that fires *starts*: it is paid then, the pair is "in development" (no
hazard, no contractor deployment) and it is registered and serves ``dev_steps`` steps
later; other governments may start the same service meanwhile (more duplicates). With
``collaboration.local_budget`` > 0 a government runs at most ``dev_slots_i = max(1,
round(local_budget x c_eff_i))`` developments at once; one that fires with no free slot
waits (still no hazard) and starts when a slot frees (pairs in service order). With
development time 0 (the default) a development serves in the step it fires, as before.

Under the contractor rule ``dev`` and ``peer`` are scaled by ``1 - crowding_out`` and the
catalogue (visibility, promotion) is off; under the hybrid rule visibility is on and
promotion is off. All decisions read the start-of-step state.

**One clock per pair.** Each pair draws one standard exponential E when the run starts and
fires in the first step where its cumulative hazard H exceeds E. This is the time-change
construction of a point process with a piecewise-constant hazard, so the probability of
firing in a step, given not fired before, is ``1 - exp(-h)`` with h the step's hazard, as
with a fresh draw each step. Given that it fires, ``(1 - exp(-(E - H0))) / (1 - exp(-h))``
is uniform on [0, 1) (H0: the hazard before the step) and picks the channel in proportion
to the rates. The pair's catalogue-find uniform and development-quality normal are drawn
with the clock, so under one seed every rule faces the same draws for the same pair
(common random numbers), and a run's draws do not depend on what else is in its batch.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..arrays import CROSS, DEV, FOREIGN, NONE, PEER_CH, PROMO, Consts, State
from ..jit import step_kernel
from .ledger import BY_CATALOGUE, BY_OWN, BY_PEER, NO, ONE, YES, register, serve


@njit(cache=True, inline="always")
def _best_neighbour(
    complete: bool, n: int, indptr: np.ndarray, indices: np.ndarray, lq: np.ndarray, i: int, k: int
) -> int:
    """The neighbour j of i with the best local solution for k (lowest index on ties);
    ``lq``: the run's local quality (N x K). Takes arrays, not the batch's named tuples:
    passing those to a compiled call costs a reference count per array."""
    best, arg = -np.inf, -1
    if complete:
        for j in range(n):
            if lq[j, k] > best:
                best, arg = lq[j, k], j
    else:
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if lq[j, k] > best:  # indices are sorted: the first of equals is the lowest
                best, arg = lq[j, k], j
    return arg


@step_kernel
def local_step(c: Consts, st: State, b: int, t: int, buf: tuple) -> None:
    """One step of local diffusion for run ``b`` (``buf``: scratch arrays, see
    :func:`sim.core.step.scratch`)."""
    ev_i, ev_k, ev_ch, ev_sol, svc, qual, orig, ids, lookup, one_i, one_q, _users = buf
    n, kk = c.n[b], c.k[b]
    visibility = c.visibility[b]
    m = 0
    n_cross = 0
    # local names for the arrays of the hot loop (lets the compiler hoist their lookups)
    source, hazard, clock = st.source[b], st.hazard[b], c.clock[b]
    counts, recognised, share = st.counts[b], st.recognised[b], st.foreign_share[b]
    local_count, priority = st.local_count[b], c.priority[b]
    complete = c.complete[b]
    indptr, indices, lq = c.indptr[b], c.indices[b], st.local_quality[b]
    per_gov = st.per_gov[b]
    slow = c.dev_steps[b] > 0  # collaboration.development_time
    dev_until, active = st.dev_until[b], st.dev_active[b]
    deploying = st.n_pending[b] > 0  # some pairs are in deployment (drive.deployment_time)
    live_at = st.live_at[b]
    crowd_from, crowd_scale = c.crowd_from[b], c.crowd_scale[b]  # crowding_timing "plan"
    # the mechanisms of issue 22 (ODD 7.18; each off at its neutral value)
    ranked = c.rank_every[b] > 0
    mandate_k = c.mandate_k[b] if t >= c.mandate_from[b] else 0
    w_mandate = min(1.0, (t - c.mandate_from[b] + 1) / c.mandate_ramp[b])
    learn_w, het_on = c.learn_w[b], c.het_on[b]
    growth, use_share = c.demand_growth[b], st.use_share[b]
    gated, ready_at = c.gate_on[b], c.ready_at[b]
    for i in range(n):
        if per_gov[0, i] + per_gov[1, i] == kk:
            continue  # every service of i is served
        dev_i, peer_i = c.dev_dt[b, i], c.peer_dt[b, i]
        promo_i, cross_i = c.promo_dt[b, i], c.cross_dt[b, i]
        man_i = c.mandate_dt[b, i] * w_mandate
        if ranked:  # the last published ranking
            r = st.rank_mult[b, i]
            dev_i, peer_i, promo_i, cross_i, man_i = (
                r * dev_i,
                r * peer_i,
                r * promo_i,
                r * cross_i,
                r * man_i,
            )
        for k in range(kk):
            if source[i, k] != NONE or (deploying and live_at[i, k] != 0):
                continue
            # waiting for its data resource or legacy migration: the clock runs, but the
            # pair cannot go live before ready_at (an event is held until then)
            held = gated and t < ready_at[i, k]
            if slow and dev_until[i, k] != 0:  # in development, or waiting for a slot
                if dev_until[i, k] > 0 and dev_until[i, k] <= t:  # completes: it serves
                    dev_until[i, k] = 0
                    active[i] -= 1
                    ev_i[m], ev_k[m], ev_ch[m], ev_sol[m] = i, k, -1, -1
                    m += 1
                elif dev_until[i, k] < 0 and active[i] < c.dev_slots[b, i]:  # a slot is free
                    dev_until[i, k] = t + c.dev_steps[b]
                    active[i] += 1
                    st.started[b] += 1
                    st.cost[b] += c.dev_cost[b]
                continue
            dev = dev_i * priority[k]
            if het_on:  # the government's own demand for k
                dev *= c.het[b, i, k]
            if growth > 0.0:  # traction.demand_growth: demand grows with k's use
                dev *= 1.0 + growth * use_share[k]
            nb = local_count[k] if complete else counts[i, k]
            peer = peer_i * nb
            if learn_w > 0.0 and nb > 0:  # learning from outcomes: the best neighbour's
                j = _best_neighbour(complete, n, indptr, indices, lq, i, k)
                peer *= 1.0 - learn_w + learn_w * lq[j, k] / c.learn_ref[b]
            promo = promo_i if recognised[k] else 0.0
            cross = cross_i * share[k]
            if k < mandate_k:  # a mandate from above, through the development channel
                dev += man_i
            if t >= crowd_from[k]:  # its module is announced or live
                dev *= crowd_scale
                peer *= crowd_scale
                cross *= crowd_scale
            h = dev + peer + cross + promo
            if h <= 0.0:
                continue
            h0 = hazard[i, k]
            hazard[i, k] = h0 + h
            if held or h0 + h <= clock[i, k]:
                continue
            # fired: v is uniform on [0, h) given the event; channels stacked in rate order
            if h0 <= clock[i, k]:
                v = math.expm1(-(clock[i, k] - h0)) / math.expm1(-h) * h
            else:  # fired while held (gates): uniform given E < h0, this step's rates
                v = math.expm1(-clock[i, k]) / math.expm1(-h0) * h
            if promo > 0.0 and v >= h - promo:
                ch = PROMO
            elif cross > 0.0 and v >= h - promo - cross:
                ch = CROSS
            elif v >= dev and nb > 0 and peer_i > 0.0:
                ch = PEER_CH
            else:
                ch = DEV
            sol = st.best_sol[b, k]  # promotion and catalogue finds take the best solution
            if ch == PROMO and c.judge[b]:
                sol = st.pick[b, k]  # the province promotes what it judged best
            elif ch == PEER_CH:
                j = _best_neighbour(complete, n, indptr, indices, lq, i, k)
                sol = st.sol[b, j, k]
            elif ch == CROSS:
                if lookup[k] < 0:  # one import per service and step
                    lookup[k] = -2 - n_cross  # placeholder: resolved below
                    n_cross += 1
            elif ch == DEV and not (
                visibility > 0.0 and sol >= 0 and c.find_u[b, i, k] < visibility
            ):
                ch = -1  # a development (resolved below); else a catalogue find
                if slow:  # it starts now (or waits for a slot) and serves when complete
                    if active[i] < c.dev_slots[b, i]:
                        dev_until[i, k] = t + c.dev_steps[b]
                        active[i] += 1
                        st.started[b] += 1
                        st.cost[b] += c.dev_cost[b]
                    else:
                        dev_until[i, k] = -1
                    continue
            ev_i[m], ev_k[m], ev_ch[m], ev_sol[m] = i, k, ch, sol
            m += 1
    if m == 0:
        return
    # 1. imports (national runs): one copy per service, in service order
    if n_cross:
        r = 0
        for k in range(kk):
            if lookup[k] < -1:
                svc[r], qual[r], orig[r] = k, st.foreign_quality[b, k], FOREIGN
                r += 1
        register(st, b, svc, qual, orig, r, t, NO, ids)
        st.imported[b] += r
        r = 0
        for k in range(kk):
            if lookup[k] < -1:
                lookup[k] = ids[r]
                r += 1
    # 2. developments, in pair order
    n_dev = 0
    for e in range(m):
        if ev_ch[e] == -1:
            i = ev_i[e]
            q = c.quality_mean[b, i] + c.quality_sd[b] * c.quality_z[b, i, ev_k[e]]
            svc[n_dev], qual[n_dev], orig[n_dev] = ev_k[e], min(max(q, 0.0), 1.0), i
            n_dev += 1
    if n_dev:
        register(st, b, svc, qual, orig, n_dev, t, YES, ids)
        if c.pilot_lag_steps[b] >= 0:  # diffusion.pilot_count: solutions by pilots
            for e in range(n_dev):
                if c.pilot[b, orig[e]] == 1 and st.first_pilot_step[b, svc[e]] < 0:
                    st.first_pilot_step[b, svc[e]] = t
    # 3. serve every event of the step, in pair order
    d = 0
    for e in range(m):
        ch, k = ev_ch[e], ev_k[e]
        if ch == -1:
            serve(c, st, b, ev_i[e], k, BY_OWN, ids[d], 1.0, t)
            d += 1
        elif ch == CROSS:
            st.cross_reuses[b] += 1
            fit = c.reuse_fit[b] * c.reuse_absorb[b, ev_i[e]]  # drive.absorption_scope
            _copy(c, st, b, ev_i[e], k, BY_PEER, lookup[k], fit, t, one_i, one_q)
        else:
            source = BY_PEER if ch == PEER_CH else BY_CATALOGUE
            fit = c.reuse_fit[b] * c.reuse_absorb[b, ev_i[e]]
            _copy(c, st, b, ev_i[e], k, source, ev_sol[e], fit, t, one_i, one_q)
    if n_cross:
        for k in range(kk):
            lookup[k] = -1
    if slow:  # developments were paid when they started
        st.cost[b] += (m - n_dev) * c.reuse_cost[b]
    else:
        st.cost[b] += n_dev * c.dev_cost[b] + (m - n_dev) * c.reuse_cost[b]


@njit(cache=True, inline="always")
def _copy(
    c: Consts,
    st: State,
    b: int,
    i: int,
    k: int,
    source: int,
    sol: int,
    fit,
    t: int,
    one_i: np.ndarray,
    one_q: np.ndarray,
):
    """Serve (i, k) with a copy of ``sol``. With ``collaboration.reinvention_sd`` > 0 the copy
    is a new variant (a solution of its own, listed in the catalogue, neither a development
    nor a duplicate) of quality clip(q + sd x z_ik); it counts as a reuse, and as a user of
    the original (the province's minimum of users counts a solution's lineage). ``one_i``,
    ``one_q``: scratch of one registration (a step kernel allocates nothing)."""
    sd = c.reinvent_sd[b]
    if sd <= 0.0:
        serve(c, st, b, i, k, source, sol, fit, t)
        return
    q = min(max(st.sol_quality[b, sol] + sd * c.reinvent_z[b, i, k], 0.0), 1.0)
    one_i[0], one_i[1], one_q[0] = k, i, q
    ids = one_i[2:3]
    register(st, b, one_i[0:1], one_q, one_i[1:2], ONE, t, NO, ids)
    serve(c, st, b, i, k, source, ids[0], fit, t)
    st.reuses[b] += 1  # a copy of an existing solution, although the variant is new
    st.sol_users[b, sol] += 1  # and a use of the original (its lineage, for recognition)
