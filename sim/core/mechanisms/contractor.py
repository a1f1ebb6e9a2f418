"""The general contractor (Guangdong's EPC model): build each module once, deploy everywhere.

Where modules come from:

* contractor rule (build mode): the contractor **builds** its own modules. The platform
  takes ``build_time`` years; then modules are built one at a time at ``build_rate`` per
  year in priority order, so module m (0-based) is ready at ``build_time + (m + 1) /
  build_rate`` years (rounded up to a whole step, at least step 1). Priority blends the
  demand rank and a random rank, weighted by ``demand_orientation``. A module build is a
  development (a duplicate when the service already had a solution).
* hybrid rule (adopt mode): the contractor **adopts** the solutions the province
  recognises, one at a time at ``build_rate`` per year, in order of recognition (ties by
  priority), not before the platform is ready: it standardises the service's best solution
  (``costs.standardize`` each; no new solution) and deploys it as a module with the
  contractor's fit.

Common to both:

* **Deploy.** ``contractor_capacity * dt`` deployments per step, the fractional remainder
  carried; module by module in the order made, within a module to governments in
  ``rollout_order``, only to unserved pairs (after this step's local events) that are not
  in a local development (``collaboration.development_time``). Each module
  keeps a cursor into the rollout order: pairs are never unserved again, so a government
  passed over stays passed over, and a deployment step costs O(deployments + skipped).
* **Time to go live** (``drive.deployment_time`` > 0). A deployment to government i is
  paid when made and serves ``live_steps_i`` steps later, ``round(deployment_time /
  (1 - absorption x (1 - c_eff_i)) / dt)``: a government with little capacity takes longer
  to configure, connect and staff a module (and makes less of it: its fit is multiplied by
  the same factor). Meanwhile the pair is "in deployment": no local hazard, not served.
  Deployments go live in the order made, before this step's new deployments, also during
  an outage (they then count as lost like every contractor-served pair). At deployment
  time 0 (the default) a deployment serves in the step it is made, as before.
* **Outages.** Once anything is deployed, an outage starts each step with probability
  ``1 - exp(-failure_rate * dt)``, one at a time, for ``outage_duration`` years (at least one
  step). During one, contractor-served pairs count as unserved in the recorded coverage and
  deployments pause; the pairs keep their contract (no local development meanwhile).
"""

from __future__ import annotations

import math

from numba import njit

from ..arrays import CONTRACTOR_ORIGIN, NONE, Consts, State
from ..jit import step_kernel
from .ledger import BY_CONTRACTOR, YES, register, serve
from .traction import choose_modules


@step_kernel
def contractor_step(c: Consts, st: State, b: int, t: int, buf: tuple) -> None:
    svc, qual, orig, ids = buf[4], buf[5], buf[6], buf[7]
    if t == 1:
        st.cost[b] += c.platform_cost[b]
    # an outage starts? (start-of-step state: anything deployed?)
    if st.outage_left[b] == 0 and st.pairs[b, 1] > 0 and c.outage_u[b, t] < c.p_fail[b]:
        st.outage_left[b] = c.outage_steps[b]
        st.outages[b] += 1
    if c.adopt[b]:
        _adopt(c, st, b, t)
    else:
        _build(c, st, b, t, svc, qual, orig, ids)
    if st.n_pending[b] > 0:
        _go_live(c, st, b, t)
    if c.renew_every[b] > 0 and t > 1 and (t - 1) % c.renew_every[b] == 0:
        _tender(c, st, b)
    if st.outage_left[b] > 0:
        st.lost_pair_steps[b] += st.pairs[b, 1]
        return
    st.carry[b] += c.rate[b]
    todo = math.floor(st.carry[b] + 1e-9)
    st.carry[b] -= todo
    if todo > 0 and st.open_from[b] < st.built[b]:
        _deploy(c, st, b, t, todo)


@njit(cache=True, inline="always")
def _build(c: Consts, st: State, b: int, t: int, svc, qual, orig, ids) -> None:
    kk = c.k[b]
    start = st.built[b]
    ready = start
    while ready < kk and c.ready_step[b, ready] <= t:
        ready += 1
    if ready == start:
        return
    m = ready - start
    w = c.prio_fb[b]  # traction.priority_feedback: the order follows observed demand
    if w > 0.0:
        g, share = c.demand_growth[b], st.use_share[b]
        choose_modules(svc, m, st.module_sol[b], c.rank[b], c.demand_obs[b], share, g, w, kk)
    for e in range(m):
        if w == 0.0:
            svc[e] = c.modules[b, start + e]
        q = c.module_quality[b, start + e]  # drive.module_quality_sd
        if st.quality_offset[b] != 0.0:  # a vendor that won on quality (_tender)
            q = min(1.0, max(0.0, q + st.quality_offset[b]))
        qual[e] = q
        orig[e] = CONTRACTOR_ORIGIN
    register(st, b, svc, qual, orig, m, t, YES, ids)
    for e in range(m):
        st.module_sol[b, svc[e]] = ids[e]
        st.order[b, start + e] = svc[e]
    st.cost[b] += c.module_cost[b] * m
    st.built[b] = ready


@njit(cache=True, inline="always")
def _adopt(c: Consts, st: State, b: int, t: int) -> None:
    kk = c.k[b]
    if st.n_recognised[b] > st.n_queued[b]:  # newly recognised services join the queue
        enter = (t - 1) * c.dt[b]  # recognised at the start of this step
        # in priority order (modules lists the services by priority)
        for r in range(kk):
            k = c.modules[b, r]
            if st.recognised[b, k] and not st.queued[b, k]:
                st.queued[b, k] = True
                st.free_at[b] = max(st.free_at[b], enter) + 1.0 / c.build_rate[b]
                step = math.ceil(min(st.free_at[b] / c.dt[b] - 1e-9, c.never[b]))
                q = st.n_queued[b]
                st.queue_step[b, q] = max(1, step)
                st.order[b, q] = k
                st.n_queued[b] = q + 1
    while st.built[b] < st.n_queued[b] and st.queue_step[b, st.built[b]] <= t:
        k = st.order[b, st.built[b]]
        # the recognised service's best solution (as the province judged it)
        st.module_sol[b, k] = st.pick[b, k] if c.judge[b] else st.best_sol[b, k]
        st.built[b] += 1
        st.cost[b] += c.standardize_cost[b]


@njit(cache=True, inline="always")
def _deploy(c: Consts, st: State, b: int, t: int, todo: int) -> None:
    n = c.n[b]
    done = 0
    m = st.open_from[b]
    while m < st.built[b] and done < todo:
        k = st.order[b, m]
        pos = st.cursor[b, m]
        while pos < n and done < todo:
            g = c.rollout[b, pos]
            pos += 1
            if st.source[b, g, k] == NONE and st.dev_until[b, g, k] <= 0:  # not in development
                lag = c.live_steps[b, g]
                if c.gate_on[b]:  # waits for its data resource or legacy migration
                    lag = max(lag, c.ready_at[b, g, k] - t)
                if lag == 0:
                    fit = c.contractor_fit[b, g]
                    serve(c, st, b, g, k, BY_CONTRACTOR, st.module_sol[b, k], fit, t)
                else:  # in deployment: it serves ``lag`` steps from now
                    st.live_at[b, g, k] = t + lag
                    st.pending[b, st.n_pending[b]] = g * st.live_at.shape[2] + k
                    st.n_pending[b] += 1
                done += 1
        st.cursor[b, m] = pos
        m += 1
    # fully served modules stay served: never look at them again
    while st.open_from[b] < st.built[b] and st.cursor[b, st.open_from[b]] >= n:
        st.open_from[b] += 1
    st.cost[b] += c.price[b] * st.price_factor[b] * done  # (factor 1 without tenders)


@njit(cache=True, inline="always")
def _tender(c: Consts, st: State, b: int) -> None:
    """A tender (``drive.contract_period``): the incumbent (bid column 0) and the
    challengers bid price factors exp(bid_sd z); bids are compared on the pairs still to
    serve, a challenger's plus the switching cost of every contractor-served pair (the
    lock-in grows with the incumbent's reach). The winner's factor sets the price. With
    quality competition (``drive.bid_quality_sd``) a bid's factor is lowered by
    quality_weight x its quality offset (the incumbent's: the one it won with), and the
    winner's offset applies to the modules built from now on."""
    r = st.tenders[b]
    st.tenders[b] = r + 1
    if r >= c.bid_z.shape[1]:
        return
    left = c.n[b] * c.k[b] - st.pairs[b, 0] - st.pairs[b, 1]
    unit = c.price[b] * left
    factor = math.exp(c.bid_sd[b] * c.bid_z[b, r, 0])
    wq = c.quality_weight[b]  # 0 without quality competition: the scores are the prices
    quality = st.quality_offset[b]
    best, won = (factor - wq * quality) * unit, 0
    switch = c.switch_cost[b] * st.pairs[b, 1]
    for j in range(1, c.bidders[b]):
        f = math.exp(c.bid_sd[b] * c.bid_z[b, r, j])
        dq = c.bid_q[b, r, j] if r < c.bid_q.shape[1] and j < c.bid_q.shape[2] else 0.0
        score = (f - wq * dq) * unit + switch
        if score < best:
            best, won, factor, quality = score, j, f, dq
    st.price_factor[b] = factor
    if won > 0:
        st.switches[b] += 1
        st.cost[b] += switch
        st.quality_offset[b] = quality


@njit(cache=True, inline="always")
def _go_live(c: Consts, st: State, b: int, t: int) -> None:
    """Deployments in progress whose time has come serve (in the order made); the rest
    stay in the list, in order."""
    width = st.live_at.shape[2]
    kept = 0
    for e in range(st.n_pending[b]):
        p = st.pending[b, e]
        g, k = p // width, p % width
        if st.live_at[b, g, k] <= t:
            st.live_at[b, g, k] = 0
            serve(c, st, b, g, k, BY_CONTRACTOR, st.module_sol[b, k], c.contractor_fit[b, g], t)
        else:
            st.pending[b, kept] = p
            kept += 1
    st.n_pending[b] = kept


@njit(cache=True, inline="always")
def settled(c: Consts, st: State, b: int) -> bool:
    """True when the contractor can no longer change anything once all pairs are served."""
    all_made = st.built[b] == (st.n_queued[b] if c.adopt[b] else c.k[b])
    no_more_outages = c.p_fail[b] == 0.0 or st.pairs[b, 1] == 0
    return all_made and st.outage_left[b] == 0 and no_more_outages
