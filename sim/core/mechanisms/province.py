"""The province: list-based management and recognition (grassroots and hybrid rules).

Every solution is in the provincial catalogue as soon as it exists (what
``support.catalog_visibility`` lets a government find). A service is *recognised*
``support.recognition_lag`` years after its first solution is present (developed, or in a
national run imported from another province); from then on the province promotes its best
solution (grassroots) or hands it to the contractor to standardise and deploy (hybrid).
Recognition acts first in a step, so it reads the start-of-step state: a service whose
first solution appears in step s is recognised from step ``s + ceil(lag / dt) + 1`` on.
Each recognition costs the province ``costs.recognition`` (default 0).

**Judging** (``support.recognition_noise`` > 0 or ``support.recognition_min_users`` > 1):
the province sees each solution's quality with an error (one normal per solution, fixed
when the run is built, times the noise), considers only solutions in use by at least
``recognition_min_users`` governments, and recognises a service (after the lag) only once
one qualifies; it promotes (grassroots) or hands to the contractor (hybrid) the best
*observed* one, re-judged every step. Otherwise the true best solution (the default).

**Pilots** (``diffusion.pilot_count`` > 0): a service whose first solution by a designated
pilot exists is recognised ``diffusion.pilot_lag`` years after it (scale-up), if that
comes before the usual lag.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..arrays import Consts, State


@njit(cache=True, inline="always")
def recognise(c: Consts, st: State, b: int, t: int) -> None:
    if not c.judge[b] and st.n_recognised[b] >= st.n_solution_services[b]:
        return  # the mask only changes while a service with a solution is unrecognised
    # (a judging province re-judges every step: its pick moves as solutions gain users)
    last = t - 1 - c.lag_steps[b]
    before = st.n_recognised[b]
    if c.judge[b]:
        _judge(c, st, b)
    count = 0
    pilot_lag = c.pilot_lag_steps[b]  # diffusion.pilot_*: scale-up of a pilot's solution
    for k in range(c.k[b]):
        first = st.first_sol_step[b, k]
        r = first >= 0 and first <= last
        if pilot_lag >= 0:
            fp = st.first_pilot_step[b, k]
            r = r or (fp >= 0 and fp <= t - 1 - pilot_lag)
        if c.judge[b]:
            r = r and st.pick[b, k] >= 0
        st.recognised[b, k] = r
        count += r
    st.n_recognised[b] = count
    if count > before and c.recognition_cost[b] > 0.0:
        st.cost[b] += (count - before) * c.recognition_cost[b]


@njit(cache=True, inline="always")
def _judge(c: Consts, st: State, b: int) -> None:
    """Per service, the solution with the best *observed* quality (true quality plus the
    province's error for that solution) among those in use by at least ``min_users``
    governments (start-of-step state); -1 where none qualifies. (The best observed quality
    so far is recomputed from the pick, the same sum: a step kernel allocates nothing.)"""
    kk = c.k[b]
    for k in range(kk):
        st.pick[b, k] = -1
    for s in range(st.n_solutions[b]):
        if st.sol_users[b, s] < c.min_users[b]:
            continue
        k = st.sol_service[b, s]
        seen = st.sol_quality[b, s] + c.judge_z[b, s]
        p = st.pick[b, k]
        best = st.sol_quality[b, p] + c.judge_z[b, p] if p >= 0 else -np.inf
        if seen > best:
            st.pick[b, k] = s


@njit(cache=True, inline="always")
def settled(st: State, b: int) -> bool:
    """True when recognition can no longer change (every service with a solution is)."""
    return st.n_recognised[b] == st.n_solution_services[b]
