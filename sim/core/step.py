"""The step loop, compiled: every run of a batch advances from step t0 to t1.

A step t = 1 .. n_steps (time advances from (t - 1) * dt to t * dt):

0. national runs: the provinces are coupled (:mod:`sim.core.coupling`);
1. for each run of the batch, the mechanisms of its rule act in a fixed order: the use of
   each service is observed (when ``traction.demand_growth`` > 0), a published ranking (when
   ``diffusion.ranking_pressure`` > 0), the province's recognition (grassroots, hybrid),
   this step's data resources and legacy migrations are paid (``support.data_resources``,
   ``legacy_share``), local diffusion (every rule; crowded out under the contractor), then
   the contractor (contractor, hybrid: outage draw, module builds or adoptions,
   deployments), then consolidation (when ``support.consolidation_rate`` > 0) and local
   failures (when ``risk.local_failure_rate`` > 0), then solutions improve in use (when
   ``drive.upgrade_rate`` or ``traction.feedback_rate`` > 0), de-adoption and the vertical
   ministries' systems (ODD 7.18). Local decisions read the state at the start of the step;
   the contractor deploys to pairs still unserved after this step's local events;
2. the recorder writes row t;
3. an outage (and every local failure) counts down.

Once every pair is served and no mechanism can change anything again (all modules made,
no outage possible, no local failures, no solution improving, every service with a
solution recognised), a run
is *settled* (unless
``can_settle`` is off, as for the provinces of a national run): its remaining rows repeat
the last one, which is exactly what stepping would produce. Runs never read each other's
state except through the coupling, so a run gives the same numbers alone or in any batch.

**How the kernels are compiled** (:mod:`sim.core.jit`). The entry points :func:`advance`
and :func:`advance_coupled` own the arrays (Numba's runtime on) and hand the step kernels
references to the batch's named tuples (:func:`sim.core.ref.ref`: one pointer each; a
kernel reads ``c.n[b]`` the same way from a reference as from the tuple). :func:`step_run`
and the mechanism kernels it calls every step are step kernels (``step_kernel``), compiled
without reference counting (issue 18). They must not allocate; a kernel that does (a
mechanism off by default) is an ``alloc_kernel``. A kernel called from another takes the
caller's flags unless it sets its own, so a plain ``njit`` kernel called from
:func:`step_run` also runs without reference counting (and fails to compile if it
allocates: "Only accept returning of array passed into the function as argument").

**Adding a mechanism**: its own file in :mod:`sim.core.mechanisms` with a kernel
``kernel(c, st, b, t)`` (``@step_kernel``; a small one called once per step ``@njit(cache=True,
inline="always")``; ``@alloc_kernel`` if it must allocate, but use the
scratch arrays of :func:`scratch` instead where you can), a call in :func:`step_run` under
its switch (``if c.my_rate[b] > 0.0:``), and its fields in :mod:`sim.core.arrays` (set in
:mod:`sim.core.mechanism_setup`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .arrays import Consts, Series, State
from .coupling import couple
from .jit import step_kernel
from .mechanisms import consolidation, contractor, diffusion, feedback, province, risk, traction
from .mechanisms.ledger import served_pairs
from .mechanisms.local import local_step
from .record import record, repeat
from .ref import ref


@njit(cache=True)
def scratch(n: int, k: int, s: int = 1) -> tuple:
    """Work arrays shared by the mechanisms (one set per batch, reused every step; ``s``:
    solution slots per run)."""
    size = n * k + 2 * k + 1
    return (
        np.zeros(size, np.int64),  # ev_i
        np.zeros(size, np.int64),  # ev_k
        np.zeros(size, np.int64),  # ev_ch
        np.zeros(size, np.int64),  # ev_sol
        np.zeros(size, np.int64),  # svc
        np.zeros(size),  # qual
        np.zeros(size, np.int64),  # orig
        np.zeros(size, np.int64),  # ids
        np.full(k, -1, np.int64),  # lookup (imports per service)
        np.zeros(3, np.int64),  # one_i: a single registration's service, origin and id
        np.zeros(1),  # one_q: its quality
        np.zeros(s, np.int64),  # users per solution (feedback)
    )


@step_kernel
def step_run(c: Consts, st: State, rec: Series, b: int, t: int, buf: tuple, gov) -> None:
    """Step t of run b: the mechanisms of its rule in order, the recorder, the countdown."""
    if t > c.n_steps[b]:
        return
    if st.settled[b]:
        repeat(c, rec, b, t)
        return
    if c.demand_growth[b] > 0.0:  # traction.demand_growth: start-of-step use
        traction.observe_use(st.source[b], c.n[b], c.k[b], st.use_share[b])
    if c.rank_every[b] > 0:
        diffusion.rank(c, st, b, t, gov)
    if c.has_province[b]:
        province.recognise(c, st, b, t)
    if c.gate_on[b]:  # support.data_resources, legacy_share: what this step's gates cost
        st.cost[b] += c.gate_cost[b, t]
    local_step(c, st, b, t, buf)
    if c.has_contractor[b]:
        contractor.contractor_step(c, st, b, t, buf)
    if c.consolidation_dt[b] > 0.0:
        consolidation.consolidate(c, st, b, t)
    if c.p_local[b] > 0.0:
        risk.local_failures(c, st, b, t)
    if feedback.active(c, b):
        feedback.improve(c, st, b, buf[11])
    if c.dead_dt[b] > 0.0:
        diffusion.deadopt(c, st, b, t)
    if c.ministry_on[b]:
        diffusion.ministries(c, st, b, t)
    record(c, st, rec, b, t, gov)
    if st.outage_left[b] > 0:
        st.outage_left[b] -= 1
    if c.p_local[b] > 0.0:
        risk.count_down(c, st, b)
    elif (
        c.can_settle[b]
        and c.consolidation_dt[b] == 0.0
        and not feedback.active(c, b)
        and not diffusion.blocks_settling(c, b)
        and served_pairs(st, b) == c.n[b] * c.k[b]
    ):
        st.settled[b] = (not c.has_province[b] or province.settled(st, b)) and (
            not c.has_contractor[b] or contractor.settled(c, st, b)
        )


@njit(cache=True)
def advance(c: Consts, st: State, rec: Series, t0: int, t1: int, start: bool) -> None:
    """Steps t0 + 1 .. t1 of every run (a run past its own horizon stays as it is);
    ``start``: record row 0 (the initial state) first.

    The runs are uncoupled: each is advanced through all its steps in turn (its arrays
    stay in cache), so each run's numbers are those it has alone."""
    nb = c.n.shape[0]
    buf = scratch(st.source.shape[1], st.source.shape[2], st.sol_service.shape[1])
    gov = np.zeros(st.source.shape[1] + st.source.shape[2] + 1, np.int64)
    cr, sr, rr = ref(c), ref(st), ref(rec)
    if start:
        _record_start(cr, sr, rr, gov)
    for b in range(nb):
        for t in range(t0 + 1, t1 + 1):
            step_run(cr, sr, rr, b, t, buf, gov)


@njit(cache=True)
def advance_coupled(
    c: Consts,
    st: State,
    rec: Series,
    t0: int,
    t1: int,
    groups: np.ndarray,
    share_lag: np.ndarray,
    start: bool,
) -> None:
    """As :func:`advance`, for batches that hold the provinces of national runs
    (``groups``): they advance in lockstep, coupled before each step (a separate entry
    point, so that runs without provinces never compile the coupling)."""
    nb = c.n.shape[0]
    buf = scratch(st.source.shape[1], st.source.shape[2], st.sol_service.shape[1])
    gov = np.zeros(st.source.shape[1] + st.source.shape[2] + 1, np.int64)
    cr, sr, rr = ref(c), ref(st), ref(rec)
    if start:
        _record_start(cr, sr, rr, gov)
    for t in range(t0 + 1, t1 + 1):
        couple(cr, sr, groups, share_lag, t, buf)
        for b in range(nb):
            step_run(cr, sr, rr, b, t, buf, gov)


@njit(cache=True, inline="always")
def _record_start(c, st, rec, gov: np.ndarray) -> None:
    row0 = np.int64(0)  # typed: a literal 0 would compile the recorder a second time
    for b in range(c.n.shape[0]):
        record(c, st, rec, b, row0, gov)
