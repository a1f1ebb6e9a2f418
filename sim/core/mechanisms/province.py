"""The province: list-based management and recognition (grassroots and hybrid rules).

Every solution is in the provincial catalogue as soon as it exists (what
``support.catalog_visibility`` lets a government find). A service is *recognised*
``support.recognition_lag`` years after its first solution is present (developed, or in a
national run imported from another province); from then on the province promotes its best
solution (grassroots) or hands it to the contractor to standardise and deploy (hybrid).
Recognition acts first in a step, so it reads the start-of-step state: a service whose
first solution appears in step s is recognised from step ``s + ceil(lag / dt) + 1`` on.
Each recognition costs the province ``costs.recognition`` (default 0).
"""

from __future__ import annotations

from numba import njit

from ..arrays import Consts, State


@njit(cache=True)
def recognise(c: Consts, st: State, b: int, t: int) -> None:
    if st.n_recognised[b] >= st.n_solution_services[b]:
        return  # the mask only changes while a service with a solution is unrecognised
    last = t - 1 - c.lag_steps[b]
    before = st.n_recognised[b]
    count = 0
    for k in range(c.k[b]):
        first = st.first_sol_step[b, k]
        r = first >= 0 and first <= last
        st.recognised[b, k] = r
        count += r
    st.n_recognised[b] = count
    if count > before and c.recognition_cost[b] > 0.0:
        st.cost[b] += (count - before) * c.recognition_cost[b]


@njit(cache=True)
def settled(st: State, b: int) -> bool:
    """True when recognition can no longer change (every service with a solution is)."""
    return st.n_recognised[b] == st.n_solution_services[b]
