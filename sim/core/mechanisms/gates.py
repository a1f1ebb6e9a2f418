"""What a pair needs before it can go live: its shared data resource, and the migration
of its legacy system (issue 22, support; ODD 7.18.17-18).

Both are set when the run starts (from the ``data`` and ``legacy`` children of the
``mechanisms`` stream) as one constant per pair, ``ready_at[i, k]``: the first step in which
(i, k) may be served. Before it the pair's local hazard accumulates but an event is held
until that step (:mod:`sim.core.mechanisms.local`), and a contractor deployment to it waits
"in deployment" (``drive.deployment_time``'s machinery) until then: under every rule the
decision may come before the data, the service goes live once they are there. What the
resources and migrations cost is a schedule per step (``gate_cost[t]``), paid in the step
each is done.

* **Data resources** (``support.data_resources`` R > 0). Service k depends on resource
  k mod R if it is on the province's list of information resources (probability
  ``support.data_listing``, one uniform per service), else on a resource of its own. A
  government makes each resource at an exponential time of rate ``support.data_rate`` x
  c_eff^e, once, at ``costs.data_resource``; a listed resource then serves every service
  that depends on it (the list makes data reusable across services).
* **Legacy systems** (``support.legacy_share`` > 0). That share of pairs (one uniform each)
  runs a legacy system that must be migrated first: each attempt takes an exponential time
  of rate ``support.legacy_rate`` x c_eff^e and costs ``costs.legacy_migration``; it fails
  with probability ``support.legacy_risk`` and is redone.

A pair is ready from the step after both are done (decisions read the start-of-step state).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def neutral() -> dict[str, Any]:
    """No gate: every pair may go live from the start."""
    return {
        "gate_on": False,
        "ready_at": np.zeros((1, 1), np.int64),
        "gate_cost": np.zeros(1),
        "data_builds": 0,
        "legacy_attempts": 0,
    }


def _steps(years: np.ndarray, dt: float, never: int) -> np.ndarray:
    """The step an event at ``years`` (inf: never) falls in: ceil(years / dt), at least 1;
    ``never`` beyond the horizon."""
    with np.errstate(invalid="ignore", over="ignore"):
        steps = np.ceil(np.minimum(years / dt, never) - 1e-9)
    return np.clip(steps, 1, never).astype(np.int64)


def _rates(rate: float, c_haz: np.ndarray) -> np.ndarray:
    """Per government: rate x c_eff^e; a government with no capacity never finishes."""
    return rate * np.asarray(c_haz, float)


def gate_arrays(
    s: Any,
    *,
    n: int,
    k: int,
    c_haz: np.ndarray,
    data_rng: np.random.Generator,
    legacy_rng: np.random.Generator,
) -> dict[str, Any]:
    """``ready_at`` (N x K), ``gate_cost`` (per step 0..n_steps) and counts, for scenario
    ``s`` (neutral when neither mechanism is on)."""
    sup, costs, dt = s.support, s.costs, s.dt
    never = s.n_steps + 1
    out = neutral()
    ready = np.zeros((n, k), np.int64)
    cost = np.zeros(s.n_steps + 1)
    r = min(sup.data_resources, k)
    if r > 0:
        listed = data_rng.random(k) < sup.data_listing
        res = np.where(listed, np.arange(k) % r, r + np.arange(k))
        rate = _rates(sup.data_rate, c_haz)
        e = data_rng.standard_exponential((n, r + k))
        with np.errstate(divide="ignore"):
            years = np.where(rate[:, None] > 0, e / np.maximum(rate, 1e-300)[:, None], np.inf)
        done = _steps(years, dt, never)
        used = np.unique(res)
        built = done[:, used]
        np.add.at(cost, built[built < never], costs.data_resource)
        out["data_builds"] = int((built < never).sum())
        ready = np.maximum(ready, done[:, res] + 1)
    if sup.legacy_share > 0:
        has = legacy_rng.random((n, k)) < sup.legacy_share
        tries = legacy_rng.geometric(1.0 - sup.legacy_risk, (n, k))
        tries = np.where(has, tries, 0)
        most = int(tries.max()) if tries.size else 0
        rate = _rates(sup.legacy_rate, c_haz)
        e = legacy_rng.standard_exponential((n, k, max(most, 1)))
        with np.errstate(divide="ignore"):
            each = np.where(
                rate[:, None, None] > 0, e / np.maximum(rate, 1e-300)[:, None, None], np.inf
            )
        ends = _steps(np.cumsum(each, axis=2), dt, never)  # when each attempt ends
        made = np.arange(max(most, 1))[None, None, :] < tries[:, :, None]
        paid = made & (ends < never)
        np.add.at(cost, ends[paid], costs.legacy_migration)
        out["legacy_attempts"] = int(paid.sum())
        last = np.take_along_axis(ends, np.maximum(tries - 1, 0)[:, :, None], axis=2)[:, :, 0]
        ready = np.maximum(ready, np.where(has, last + 1, 0))
    if r > 0 or sup.legacy_share > 0:
        out["gate_on"] = True
        out["ready_at"] = np.minimum(ready, never + 1)
        out["gate_cost"] = cost
    return out
