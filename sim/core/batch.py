"""A batch of B >= 1 runs, built from (scenario, rule, world, streams) and stepped together.

:func:`run_constants` turns one run's scenario, rule and world into the arrays its kernels
read (:class:`~sim.core.arrays.Consts`), drawing every random number the run will use from
its own streams: one exponential clock, one catalogue-find uniform and one quality normal
per pair (local and choices streams), the contractor's random priority rank, rollout
permutation and one outage uniform per step (contractor stream). So a run is a pure
function of (scenario, rule, seed), runs of one seed share their province, network, demand
and draws whatever their rule (common random numbers), and a batch steps its runs without
any of them reading another's numbers.

:class:`Batch` stacks the runs' arrays along a leading run axis, padded to the largest
run, and advances them with the compiled step loop (:mod:`sim.core.step`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..params import Scenario
from ..world.build import World
from .arrays import SERIES, Consts, Series, State, empty_state
from .mechanism_setup import INTS as MECHANISM_INTS
from .mechanism_setup import (
    capacity_in_hazards,
    crowding_scale,
    extra_solutions,
    mechanism_arrays,
)
from .mechanisms import operator
from .step import advance, advance_coupled


@dataclass(frozen=True)
class Rule:
    """What a rule switches on (the mechanisms themselves are the same for every rule)."""

    province: bool  # recognition (and with it the catalogue's promoted entries)
    visibility: bool  # would-be developers may find the catalogue's solution
    promotion: bool  # the province promotes recognised solutions
    crowded_out: bool  # local activity scaled by 1 - drive.crowding_out
    contractor: bool
    adopt: bool  # the contractor deploys recognised solutions instead of building its own
    standards: bool = True  # the province's common standards (support.standardization)


RULE_SWITCHES: dict[str, Rule] = {
    # Zhejiang: local development, peer learning, catalogue reuse, recognition, promotion
    "grassroots": Rule(True, True, True, False, False, False),
    # Guangdong: the contractor builds and deploys; local activity crowded out, no catalogue
    # (the province's standards are off with its catalogue: issue 12, ODD 3.1)
    "contractor": Rule(False, False, False, True, True, False, standards=False),
    # innovate in one place, reuse everywhere: recognised solutions deployed by the contractor
    "hybrid": Rule(True, True, False, False, True, True),
}


@dataclass
class RunSetup:
    """One run's constants (unpadded) and what its results need to know about it."""

    scenario: Scenario
    rule: str
    seed: int
    world: World
    arrays: dict[str, np.ndarray | float | int | bool]
    n_solutions: int
    extra: dict = field(default_factory=dict)


def run_constants(
    scenario: Scenario,
    rule: str,
    seed: int,
    world: World,
    streams: dict[str, np.random.Generator],
    *,
    cross_learning: float = 0.0,
    national: bool = False,
) -> RunSetup:
    """The arrays of one run (see the module docstring for the draws)."""
    s, sw = scenario, RULE_SWITCHES[rule]
    pop, net = world.population, world.network
    n, k, dt, n_steps = world.n, world.k, s.dt, s.n_steps
    c = pop.capacity
    c_eff = c + s.collaboration.balancing * (1 - c)
    scale = crowding_scale(s, sw.crowded_out)
    c_haz = capacity_in_hazards(c_eff, s.collaboration.hazard_elasticity)
    deg = net.degree
    per_neighbour = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
    coll, sup, drive, costs, q = s.collaboration, s.support, s.drive, s.costs, s.services
    never = n_steps + 1
    # draws: local and choices streams (one per pair), contractor stream
    clock = streams["local"].standard_exponential((n, k))
    choices = streams["choices"]
    find_u = choices.random((n, k))
    quality_z = choices.standard_normal((n, k))
    rng = streams["contractor"]
    d = s.traction.demand_orientation
    random_rank = rng.permutation(k)
    demand_rank = np.arange(k)  # services are sorted by demand, descending
    modules = np.lexsort((demand_rank, d * demand_rank + (1 - d) * random_rank))
    rollout_perm = rng.permutation(n)
    outage_u = rng.random(n_steps + 1)
    times = drive.build_time + (np.arange(k) + 1) / drive.build_rate
    ready = np.maximum(1, np.ceil(np.minimum(times / dt - 1e-9, never))).astype(np.int64)
    order = np.argsort(c, kind="stable")
    quart = max(1, n // 4)
    if net.complete:
        indptr, indices = np.zeros(n + 1, np.int64), np.zeros(0, np.int64)
    else:
        indptr = net.adjacency.indptr.astype(np.int64)
        indices = net.adjacency.indices.astype(np.int64)
    weight = np.outer(pop.population, world.demand)
    std = sup.standardization if sw.standards else 0.0
    risk = s.risk
    p_local = -math.expm1(-risk.local_failure_rate * dt)
    # the risk stream: one uniform per government and step (only when failures are on)
    local_u = streams["risk"].random((n_steps + 1, n)) if p_local > 0 else np.ones((1, 1))
    protected = risk.local_failure_rate * (1 - risk.standard_protection * std)
    # drive.absorption: how much of a deployment the receiving government absorbs; its fit
    # is multiplied and its time to go live divided by this (1 everywhere at absorption 0)
    absorbed = 1.0 - drive.absorption * (1.0 - c_eff)
    arrays = {
        "n": n,
        "k": k,
        "n_steps": n_steps,
        "dt": dt,
        "can_settle": not national,
        "complete": net.complete,
        "indptr": indptr,
        "indices": indices,
        "pair_weight": weight / weight.sum(),
        "priority": world.priority,
        "dev_dt": scale * coll.innovation_rate * dt * c_haz,
        "peer_dt": scale * coll.peer_learning * dt * c_haz * per_neighbour,
        "promo_dt": (sup.promotion_rate if sw.promotion else 0.0) * dt * c_haz,
        "cross_dt": scale * cross_learning * coll.peer_learning * dt * c_haz,
        "visibility": sup.catalog_visibility if sw.visibility else 0.0,
        "quality_mean": q.quality_mean + q.quality_capacity_slope * (c_eff - 0.5),
        "quality_sd": q.quality_sd,
        "dev_cost": costs.development,
        "reuse_fit": s.traction.reuse_fit + (1 - s.traction.reuse_fit) * std,
        "dev_steps": max(0, math.floor(min(coll.development_time / dt, never) + 0.5)),
        "dev_slots": (
            np.maximum(1, np.round(coll.local_budget * c_eff)).astype(np.int64)
            if coll.local_budget > 0
            else np.full(n, k + 1, np.int64)
        ),
        "reuse_cost": costs.development
        * costs.adaptation
        * (1 - costs.standardization_saving * std),
        "has_province": sw.province,
        "lag_steps": min(math.ceil(sup.recognition_lag / dt - 1e-9), never),
        "has_contractor": sw.contractor,
        "adopt": sw.adopt,
        "modules": modules,
        "rank": np.argsort(modules),
        "ready_step": ready,
        "rollout": _rollout(drive.rollout_order, pop.population, c, rollout_perm),
        "contractor_fit": (s.traction.contractor_fit + (1 - s.traction.contractor_fit) * d)
        * absorbed,
        "live_steps": _live_steps(drive.deployment_time, absorbed, dt, never),
        "contractor_quality": drive.contractor_quality,
        "price": costs.deployment * (1 - costs.competition_discount * drive.market_competition),
        "p_fail": -math.expm1(-drive.failure_rate * dt),
        "outage_steps": operator.outage_steps(s, never),  # drive.operator_share
        "rate": drive.contractor_capacity * dt,
        "build_time": drive.build_time,
        "build_rate": drive.build_rate,
        "never": never,
        "module_cost": costs.module_build,
        "standardize_cost": costs.standardize,
        "platform_cost": costs.platform if sw.contractor else 0.0,
        "top": order[-quart:],
        "bottom": order[:quart],
        "quartile": quart,
        "clock": clock,
        "find_u": find_u,
        "quality_z": quality_z,
        "outage_u": outage_u,
        "recognition_cost": costs.recognition if sw.province else 0.0,
        "p_local": p_local,
        "p_local_cat": -math.expm1(-protected * dt),
        "local_outage_steps": max(1, math.floor(min(risk.local_outage_duration / dt, never) + 0.5)),
        "local_u": local_u,
        "consolidation_dt": sup.consolidation_rate * dt,
        "migration_cost": costs.migration,
        "cons_clock": (
            streams["consolidation"].standard_exponential((n, k))
            if sup.consolidation_rate > 0
            else np.ones((1, 1))
        ),
    }
    arrays.update(
        mechanism_arrays(
            s,
            crowded_out=sw.crowded_out,
            n=n,
            k=k,
            absorbed=absorbed,
            c_haz=c_haz,
            capacity=c,
            arrays=arrays,
            modules=modules,
            ready=ready,
            streams=streams,
        )
    )
    size = n * k + 2 * k + 1 + extra_solutions(s, n, k)
    if national:  # imported copies: at most one per pair, plus catalogue imports per step
        size += n * k + k * (n_steps + 1)
    judge = sw.province and (sup.recognition_noise > 0 or sup.recognition_min_users > 1)
    arrays["judge"] = judge
    arrays["min_users"] = sup.recognition_min_users
    # the province stream: one error per solution slot (ids are assigned in a fixed order)
    arrays["judge_z"] = (
        sup.recognition_noise * streams["province"].standard_normal(size) if judge else np.zeros(1)
    )
    extra = {  # what lifecycle_cost needs (outcomes, not kernels)
        "discount_rate": costs.discount_rate,
        "operation_local": costs.operation_local,
        "operation_shared": costs.operation_shared,
        "crew": costs.crew * drive.contractor_capacity if sw.contractor else 0.0,
        "catalogue": _province_per_year(costs, sup, sw, dt),
    }
    extra.update(operator.lifecycle_terms(s, extra["operation_shared"]))  # drive.operator_*
    return RunSetup(s, rule, seed, world, arrays, size, extra)


def _province_per_year(costs: Any, sup: Any, sw: Any, dt: float) -> float:
    """The province's running costs per year (lifecycle_cost): its catalogue, and the
    prices of its levers (issue 19): promotion per unit of rate, visibility per unit of
    visibility, an assessment round every recognition lag (at most one a step). Exactly
    ``costs.catalogue`` with the prices at their neutral 0."""
    total = costs.catalogue if sw.province else 0.0
    if costs.promotion > 0 and sw.promotion:
        total += costs.promotion * sup.promotion_rate
    if costs.visibility > 0 and sw.visibility:
        total += costs.visibility * sup.catalog_visibility
    if costs.assessment > 0 and sw.province:
        total += costs.assessment / max(sup.recognition_lag, dt)
    return total


def _live_steps(years: float, absorbed: np.ndarray, dt: float, never: int) -> np.ndarray:
    """Whole steps from a deployment until it serves, per receiving government:
    ``drive.deployment_time / absorbed``, rounded (0 at deployment time 0; beyond the
    horizon where nothing is absorbed)."""
    if years == 0:
        return np.zeros(absorbed.shape, np.int64)
    with np.errstate(divide="ignore"):
        steps = np.where(absorbed > 0, years / np.maximum(absorbed, 1e-300) / dt, never)
    return np.floor(np.minimum(steps, never) + 0.5).astype(np.int64)


def _rollout(order: str, population: np.ndarray, capacity: np.ndarray, perm: np.ndarray):
    """Governments in deployment order; ties keep index order (stable sort)."""
    if order == "population":
        return np.argsort(-population, kind="stable")
    if order == "capacity":
        return np.argsort(-capacity, kind="stable")
    if order == "lagging":
        return np.argsort(capacity, kind="stable")
    return perm


def _stack(values: list, dtype) -> np.ndarray:
    """Stack per-run values along a new first axis, zero-padded to the largest shape."""
    first = np.asarray(values[0])
    if first.ndim == 0:
        return np.array(values, dtype=dtype)
    if len(values) == 1:  # a run alone: a view, no copy
        return first.astype(dtype, copy=False)[None]
    if all(np.shape(v) == first.shape for v in values):  # nothing to pad: one copy in C
        return np.array(values, dtype=dtype)
    shape = tuple(max(np.shape(v)[d] for v in values) for d in range(first.ndim))
    out = np.zeros((len(values), *shape), dtype=dtype)
    for b, v in enumerate(values):
        out[(b, *tuple(slice(0, s) for s in np.shape(v)))] = v
    return out


CHUNK_SECONDS = 0.2
"""About how long one compiled call of :meth:`Batch.advance` runs before Python checks for
Ctrl-C (and the next chunk's length is set from the time this one took)."""
FIRST_CHUNK_PAIR_STEPS = 4_000_000
"""Pairs x steps of the first compiled call, before any is timed (a few tens of ms; every
run of Zhejiang's or Guangdong's size, alone or in batches of dozens, is one call)."""

_DTYPES = {
    "can_settle": np.bool_,
    "complete": np.bool_,
    "has_province": np.bool_,
    "judge": np.bool_,
    "has_contractor": np.bool_,
    "adopt": np.bool_,
    "ministry_on": np.bool_,
    "het_on": np.bool_,
    "gate_on": np.bool_,
}
_INTS = {
    "n",
    "k",
    "n_steps",
    "indptr",
    "indices",
    "lag_steps",
    "modules",
    "rank",
    "ready_step",
    "rollout",
    "outage_steps",
    "never",
    "top",
    "bottom",
    "quartile",
    "local_outage_steps",
    "dev_steps",
    "min_users",
    "dev_slots",
    "live_steps",
} | MECHANISM_INTS


class Batch:
    """B runs stepped together (``groups``: row g = runs [lo, hi) coupled as the provinces
    of one national run, with ``share_lag[g]`` the national catalogue's lag in steps)."""

    def __init__(
        self,
        runs: Sequence[RunSetup],
        *,
        groups: np.ndarray | None = None,
        share_lag: np.ndarray | None = None,
        history: bool = False,
    ) -> None:
        self.runs = list(runs)
        cols = {}
        for name in Consts._fields:
            values = [r.arrays[name] for r in self.runs]
            dtype = _DTYPES.get(name, np.int64 if name in _INTS else np.float64)
            cols[name] = _stack(values, dtype)
        self.consts = Consts(**cols)
        b = len(self.runs)
        n, k = int(self.consts.n.max()), int(self.consts.k.max())
        self.n_steps = int(self.consts.n_steps.max())
        self.state: State = empty_state(
            b,
            n,
            k,
            max(r.n_solutions for r in self.runs),
            deploying=bool(self.consts.live_steps.any() or self.consts.gate_on.any()),
        )
        t = self.n_steps + 1
        self.series = Series(
            values=np.zeros((b, len(SERIES), t)),
            per_gov=np.zeros((b, t, n) if history else (b, 1, 1), np.int64),
        )
        self.state.free_at[:] = self.consts.build_time
        self.groups = np.zeros((0, 2), np.int64) if groups is None else groups.astype(np.int64)
        self.share_lag = np.zeros(0, np.int64) if share_lag is None else share_lag.astype(np.int64)
        self.t = 0
        self._started = False  # row 0 recorded (by the first advance, or by start())
        self.outcomes: dict[str, np.ndarray] | None = None  # every run's, once done
        # steps per compiled call: from the batch's size at first, then timed (advance)
        pair_steps = b * n * k
        self._chunk = max(1, min(self.n_steps, FIRST_CHUNK_PAIR_STEPS // max(pair_steps, 1)))

    def start(self) -> None:
        """Record row 0 (the initial state) if no step has done it yet."""
        if not self._started:  # advance with no step: row 0 only
            self._advance(0, 0, True)
            self._started = True

    @property
    def started(self) -> bool:
        """Whether row 0 is recorded."""
        return self._started

    @property
    def done(self) -> bool:
        return self.t >= self.n_steps

    def advance(self, steps: int = 1) -> None:
        """Advance every run by ``steps`` steps (at most to the last horizon).

        The compiled loop is called for chunks of steps that take about
        :data:`CHUNK_SECONDS` each, so that Ctrl-C (which Python sees only between compiled
        calls) stops even a long run within a second. The runs are uncoupled in time
        except through their own state, so the chunking changes no number (tested)."""
        t1 = min(self.t + steps, self.n_steps)
        if t1 <= self.t and self._started:
            return
        while True:
            t_next = min(self.t + self._chunk, t1)
            start = time.perf_counter()
            self._advance(self.t, t_next, not self._started)
            elapsed = time.perf_counter() - start
            self._started = True
            stepped, self.t = t_next - self.t, t_next
            if self.t >= t1:
                return
            if stepped == self._chunk:  # a full chunk: aim the next at CHUNK_SECONDS
                scale = CHUNK_SECONDS / max(elapsed, 1e-6)
                self._chunk = max(1, min(int(self._chunk * min(scale, 4.0)), self.n_steps))

    def _advance(self, t0: int, t1: int, start: bool) -> None:
        arrays = (self.consts, self.state, self.series)
        if self.groups.shape[0]:
            advance_coupled(*arrays, t0, t1, self.groups, self.share_lag, start)
        else:
            advance(*arrays, t0, t1, start)

    def run(self) -> Batch:
        self.advance(self.n_steps - self.t)
        return self
