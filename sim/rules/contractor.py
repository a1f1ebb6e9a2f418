"""The general contractor (Guangdong's EPC model): build each module once, deploy everywhere.

Where modules come from (``adopt``):

* contractor rule (``adopt=False``): the contractor **builds** its own modules, as below;
* hybrid rule (``adopt=True``): the contractor **adopts** the solutions the province
  recognises (:mod:`sim.rules.province`): one at a time, at ``build_rate`` per year, in order
  of recognition (ties by priority), not before the platform is ready, it standardises the
  recognised service's best solution (``costs.standardize`` each; not a development: no new
  solution) and deploys it as a module. The module keeps that solution's quality and gets
  the contractor's standard fit.

The rest is common to both:

* **Build.** The platform takes ``build_time`` years; then modules are built one at a time
  at ``build_rate`` per year in priority order, so module m (0-based) is ready at
  ``build_time + (m + 1) / build_rate`` years (rounded up to a whole step, at least step 1).
  Priority: a blend of demand rank and a random rank, weighted by ``demand_orientation``
  (1 = strictly by demand, 0 = random; random ranks from the contractor stream).
* **Deploy.** ``contractor_capacity`` deployments per year, ``capacity * dt`` per step with
  the fractional remainder carried. Module by module in build order, and within a module to
  governments in ``rollout_order``; only unserved pairs; capacity that finds nothing ready
  idles (only the fraction is carried).
* **Outages.** Once anything is deployed, an outage starts each step with probability
  ``1 - exp(-failure_rate * dt)``, one at a time, for ``outage_duration`` years (at least one
  step; halves round up). During one, every contractor-served pair counts as unserved in
  the recorded coverage and deployments pause; the pairs keep their contract, so they are
  not eligible for local development meanwhile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..state import CONTRACTOR
from .base import Context


@dataclass
class Contractor:
    adopt: bool = False  # modules from recognised local solutions (hybrid) instead of own builds
    modules: np.ndarray = field(init=False)  # services in priority order
    ready_step: np.ndarray = field(init=False)  # build mode: step at which modules[m] is ready
    order: np.ndarray = field(init=False)  # services in the order their modules were made
    rollout: np.ndarray = field(init=False)  # governments in deployment order
    module_sol: np.ndarray = field(init=False)  # solution id of each service's module
    built: int = 0  # modules made so far (a prefix of ``order``)
    open_from: int = 0  # first built module that may still have unserved pairs
    carry: float = 0.0
    outage_left: int = 0  # steps of the current outage still to run (0 = none)
    outages: int = 0
    lost_pair_steps: int = 0

    def setup(self, ctx: Context) -> None:
        s, w, rng = ctx.scenario, ctx.world, ctx.streams["contractor"]
        d = s.traction.demand_orientation
        random_rank = rng.permutation(w.k)
        demand_rank = np.arange(w.k)  # services are sorted by demand, descending
        self.modules = np.lexsort((demand_rank, d * demand_rank + (1 - d) * random_rank))
        times = s.drive.build_time + (np.arange(w.k) + 1) / s.drive.build_rate
        never = ctx.scenario.n_steps + 1  # beyond the horizon (also for inf / huge times)
        steps = np.ceil(np.minimum(times / ctx.dt - 1e-9, never))
        self.ready_step = np.maximum(1, steps).astype(np.int64)
        self.rollout = _rollout_order(s.drive.rollout_order, w, rng)
        self.module_sol = np.full(w.k, -1, np.int64)
        self.order = self.modules.copy() if not self.adopt else np.full(w.k, -1, np.int64)
        # adopt mode: a FIFO of recognised services and the step each will be standardised
        self._rank = np.argsort(self.modules)  # priority rank of each service
        self._queued = np.zeros(w.k, bool)
        self._queue: list[tuple[int, int]] = []  # (ready step, service)
        self._n_queued = 0
        self._free_at = s.drive.build_time  # years: when the contractor can start the next one
        self._never = never
        self._fit = s.traction.contractor_fit + (1 - s.traction.contractor_fit) * d
        self._price = s.costs.deployment * (
            1 - s.costs.competition_discount * s.drive.market_competition
        )
        self._p_fail = -math.expm1(-s.drive.failure_rate * ctx.dt)
        # nearest whole step, halves up, at least one
        self._outage_steps = max(1, math.floor(s.drive.outage_duration / ctx.dt + 0.5))
        self._rate = s.drive.contractor_capacity * ctx.dt

    @property
    def down(self) -> bool:
        return self.outage_left > 0

    def settled(self, ctx: Context) -> bool:
        no_more_outages = self._p_fail == 0 or ctx.state.contractor_group.pairs == 0
        all_made = self.built == (self._n_queued if self.adopt else len(self.modules))
        return all_made and not self.down and no_more_outages

    def step(self, ctx: Context, t: int) -> None:
        st = ctx.state
        if t == 1:
            st.cost += ctx.scenario.costs.platform
        self._outage(ctx)
        if self.adopt:
            self._adopt(ctx, t)
        else:
            self._build(ctx, t)
        if self.down:
            self.lost_pair_steps += st.contractor_group.pairs
            return
        self.carry += self._rate
        n = math.floor(self.carry + 1e-9)
        self.carry -= n
        if n > 0 and self.open_from < self.built:
            self._deploy(ctx, t, n)

    def end_step(self) -> None:
        if self.outage_left > 0:
            self.outage_left -= 1

    def _outage(self, ctx: Context) -> None:
        """Start an outage (read from the start-of-step state: anything deployed?)."""
        u = ctx.streams["contractor"].random()  # drawn every step: keeps the stream aligned
        if self.down or ctx.state.contractor_group.pairs == 0:
            return
        if u < self._p_fail:
            self.outage_left = self._outage_steps
            self.outages += 1

    def _build(self, ctx: Context, t: int) -> None:
        st, q = ctx.state, ctx.scenario.drive.contractor_quality
        ready = self.built + int(np.searchsorted(self.ready_step[self.built :], t, side="right"))
        if ready == self.built:
            return
        services = self.modules[self.built : ready]
        ids = st.develop(services, np.full(len(services), q), np.full(len(services), -1), t)
        self.module_sol[services] = ids
        st.cost += ctx.scenario.costs.module_build * len(services)
        self.built = ready

    def _adopt(self, ctx: Context, t: int) -> None:
        st, s = ctx.state, ctx.scenario
        if st.n_recognised > self._n_queued:  # newly recognised services join the queue
            new = np.flatnonzero(st.recognised & ~self._queued)
            new = new[np.argsort(self._rank[new], kind="stable")]
            self._queued[new] = True
            self._n_queued += len(new)
            enter = (t - 1) * ctx.dt  # recognised at the start of this step
            for k in new.tolist():
                self._free_at = max(self._free_at, enter) + 1 / s.drive.build_rate
                step = math.ceil(min(self._free_at / ctx.dt - 1e-9, self._never))
                self._queue.append((max(1, step), k))
        while self._queue and self._queue[0][0] <= t:
            _, k = self._queue.pop(0)
            self.module_sol[k] = st.best_sol[k]  # the recognised service's best solution
            self.order[self.built] = k
            self.built += 1
            st.cost += s.costs.standardize

    def _deploy(self, ctx: Context, t: int, n: int) -> None:
        st = ctx.state
        cols = self.order[self.open_from : self.built]
        open_pairs = st.unserved.T[cols][:, self.rollout]  # modules x governments, in order
        has_open = np.logical_or.reduce(open_pairs, axis=1)
        skip = int(np.argmax(has_open)) if has_open.any() else len(cols)
        self.open_from += skip  # fully served modules stay served: never look at them again
        flat = open_pairs[skip:].ravel().nonzero()[0][:n]
        if len(flat) == 0:
            return
        g = self.rollout[flat % len(self.rollout)]
        k = cols[skip:][flat // len(self.rollout)]
        st.serve(
            g * st.k + k,
            CONTRACTOR,
            self.module_sol[k],
            self._fit,
            self._price * len(g),
            t,
            contractor=True,
        )


def _rollout_order(order: str, world, rng: np.random.Generator) -> np.ndarray:
    """Governments in deployment order; ties keep index order (stable sort)."""
    pop, cap = world.population.population, world.population.capacity
    perm = rng.permutation(world.n)  # drawn for every order: keeps the stream aligned
    if order == "population":
        return np.argsort(-pop, kind="stable")
    if order == "capacity":
        return np.argsort(-cap, kind="stable")
    if order == "lagging":
        return np.argsort(cap, kind="stable")
    return perm
