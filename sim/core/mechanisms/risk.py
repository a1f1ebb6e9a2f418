"""Failures of locally run systems: scattered risk, against the platform's systemic risk.

Each government runs its locally served pairs (own developments, peer and catalogue
reuses) on its own systems. A government that has any and is not already down fails in
step t when its uniform ``u[t, i]`` (risk stream, drawn when the batch is built) is below
``p_local = 1 - exp(-risk.local_failure_rate * dt)``: for ``risk.local_outage_duration``
years (at least one step) its locally served pairs count as unserved in the recorded
coverage, and as ``lost_pairs``. Pairs served from the provincial catalogue (standardised
solutions) go down only when ``u`` is also below ``p_cat = 1 - exp(-rate (1 -
standard_protection x standardization) dt)`` (nested events: a failure severe enough to hit
the standard systems hits the others too). Failures are independent between governments,
so losses are scattered; the contractor's outage (:mod:`.contractor`) takes every
contractor-served pair down at once. Pairs keep their solution during a failure. With
``local_failure_rate = 0`` nothing here runs.
"""

from __future__ import annotations

from numba import njit

from ..arrays import CATALOGUE, CONTRACTOR, NONE, Consts, State


@njit(cache=True, inline="always")
def local_failures(c: Consts, st: State, b: int, t: int) -> None:
    """Start failures in step t (after this step's local events and deployments)."""
    p, p_cat = c.p_local[b], c.p_local_cat[b]
    for i in range(c.n[b]):
        if st.gov_down[b, i] > 0 or st.per_gov[b, 0, i] == 0:
            continue
        u = c.local_u[b, t, i]
        if u < p:
            st.gov_down[b, i] = c.local_outage_steps[b]
            st.gov_down_all[b, i] = u < p_cat
            st.local_outages[b] += 1


@njit(cache=True, inline="always")
def is_down(source: int, takes_all: bool) -> bool:
    """Whether a pair served from ``source`` by a government that is down in a local
    failure (``takes_all``: the failure hits its catalogue pairs too) is down. Takes
    scalars, not the batch's named tuples: passing those costs a reference count per
    array on every call."""
    if source == NONE or source == CONTRACTOR:  # noqa: SIM109 (compiled)
        return False
    return source != CATALOGUE or takes_all


@njit(cache=True, inline="always")
def count_down(c: Consts, st: State, b: int) -> None:
    """One step of every failure's countdown."""
    for i in range(c.n[b]):
        if st.gov_down[b, i] > 0:
            st.gov_down[b, i] -= 1
