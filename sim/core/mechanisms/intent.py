"""Class mode's hook (issue 23): people decide for some governments instead of the rule.

In class mode (``sim viz --class``, :mod:`sim.interactive.classroom`) each student plays one
county: per service they choose what their county does. ``intent`` is an N x K array of
codes, one per pair of the run:

* ``MODEL`` (0): the rule's mechanisms decide, as always (every pair of an unclaimed
  county; an all-``MODEL`` intent, or none, reproduces the model bit for bit);
* ``DEVELOP`` (1): develop the service now: a new solution of the county's quality draw
  (the one the model would have used), registered and paid as a local development
  (a duplicate when a solution for the service already exists);
* ``COPY`` (2): take the best local solution among its neighbours, as peer reuse; nothing
  happens while no neighbour has one;
* ``TAKE`` (3): take the province's catalogue solution (the best, or the one the province
  recognised), as a catalogue reuse; only where the rule has a catalogue (visibility > 0,
  or the service recognised) and a solution exists;
* ``WAIT`` (4): no local event this step (only the contractor's deployment can serve it).

:func:`act` applies ``DEVELOP``/``COPY``/``TAKE`` at the start of step t, through the ledger
(:func:`~sim.core.mechanisms.ledger.register`, :func:`~sim.core.mechanisms.ledger.serve`), so
every count and cost is kept as for the model's own events; the step's mechanisms then run
as usual and skip the pairs now served. :func:`step` also keeps ``WAIT`` pairs (and pairs
whose choice could not be carried out) out of the step's local events: their event
threshold is lifted for the step and their cumulative hazard restored, so waiting does not
store up a later event. Pairs in development or in deployment are left alone.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..arrays import NONE, Consts, State
from ..ref import ref
from .ledger import BY_CATALOGUE, BY_OWN, BY_PEER, ONE, YES, register, serve
from .local import _best_neighbour

MODEL, DEVELOP, COPY, TAKE, WAIT = 0, 1, 2, 3, 4
INTENTS: tuple[str, ...] = ("model", "develop", "copy", "catalogue", "wait")
"""Names of the codes, in code order."""


@njit(cache=True)
def act(c: Consts, st: State, b: int, t: int, intent: np.ndarray, held: np.ndarray) -> int:
    """Carry out the choices of step t for run ``b``; returns how many pairs were served.
    ``held`` (N x K bool) is set where a claimed pair stays unserved (kept from local events)."""
    return _act(ref(c), ref(st), b, t, intent, held)


@njit(cache=True)
def _act(c: Consts, st: State, b: int, t: int, intent: np.ndarray, held: np.ndarray) -> int:
    n, kk = c.n[b], c.k[b]
    svc = np.zeros(1, np.int64)
    qual = np.zeros(1)
    orig = np.zeros(1, np.int64)
    ids = np.zeros(1, np.int64)
    deploying = st.n_pending[b] > 0
    done = 0
    for i in range(n):
        for k in range(kk):
            want = intent[i, k]
            held[i, k] = False
            if want == MODEL or st.source[b, i, k] != NONE:
                continue
            if (deploying and st.live_at[b, i, k] != 0) or st.dev_until[b, i, k] != 0:
                continue  # in deployment or in development: already on its way
            if want == DEVELOP:
                q = c.quality_mean[b, i] + c.quality_sd[b] * c.quality_z[b, i, k]
                svc[0], qual[0], orig[0] = k, min(max(q, 0.0), 1.0), i
                register(st, b, svc, qual, orig, ONE, t, YES, ids)
                serve(c, st, b, i, k, BY_OWN, ids[0], 1.0, t)
                st.cost[b] += c.dev_cost[b]
                done += 1
                continue
            if want == COPY:
                j = _best_neighbour(
                    c.complete[b], n, c.indptr[b], c.indices[b], st.local_quality[b], i, k
                )
                if j >= 0 and st.local_quality[b, j, k] > -np.inf:
                    serve(c, st, b, i, k, BY_PEER, st.sol[b, j, k], c.reuse_fit[b], t)
                    st.cost[b] += c.reuse_cost[b]
                    done += 1
                    continue
            if want == TAKE:
                sol = st.best_sol[b, k]
                if st.recognised[b, k] and c.judge[b]:
                    sol = st.pick[b, k]
                if sol >= 0 and (c.visibility[b] > 0.0 or st.recognised[b, k]):
                    serve(c, st, b, i, k, BY_CATALOGUE, sol, c.reuse_fit[b], t)
                    st.cost[b] += c.reuse_cost[b]
                    done += 1
                    continue
            held[i, k] = True
    return done


def step(batch: object, b: int, intent: np.ndarray) -> int:
    """Step run ``b`` of ``batch`` once with these choices (see the module docstring);
    returns how many choices were carried out. The batch must hold this run alone (the
    step advances every run of a batch)."""
    c, st = batch.consts, batch.state  # type: ignore[attr-defined]
    if len(st.settled) != 1:
        raise ValueError("class mode steps a batch of one run")
    batch.advance(0)  # type: ignore[attr-defined]  # started (step 0 recorded)
    if batch.t >= batch.n_steps:  # type: ignore[attr-defined]
        return 0
    intent = np.ascontiguousarray(intent, dtype=np.int64)
    held = np.zeros(intent.shape, np.bool_)
    done = act(c, st, b, batch.t + 1, intent, held)  # type: ignore[attr-defined]
    clock, hazard = c.clock[b], st.hazard[b]
    kept_clock, kept_hazard = clock[held], hazard[held]
    clock[held] = np.inf
    try:
        batch.advance(1)  # type: ignore[attr-defined]
    finally:
        clock[held] = kept_clock
        hazard[held] = kept_hazard
    return int(done)
