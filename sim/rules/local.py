"""Local diffusion: own development, peer reuse, and the provincial catalogue.

Each step, every unserved pair (i, k) becomes served with probability
``1 - exp(-(lam_dev + lam_peer + lam_promo) * dt)`` and the channel is picked in proportion
to the three rates (competing risks):

* ``lam_dev   = innovation_rate * c_eff_i * priority_k``: own development, unless a solution
  for k exists and the catalogue shows it (``catalog_visibility``): then catalogue reuse;
* ``lam_peer  = peer_learning * c_eff_i * (served neighbours / neighbours)``: copy the best
  solution among neighbours served by a local solution;
* ``lam_promo = promotion_rate * c_eff_i`` once k is recognised: reuse the promoted (best)
  solution from the catalogue.

In a national scenario (:mod:`sim.national`) a fourth rate couples the provinces:

* ``lam_cross = cross_learning * peer_learning * c_eff_i * foreign_share_k`` (times
  ``1 - crowding_out`` under the contractor rule, like the peer rate): copy the best
  solution for k that governments of *other* provinces use (imported as a copy, a reuse);
  ``foreign_share_k`` is the share of other provinces' governments served locally for k.

Under the contractor rule the first two rates are scaled by ``1 - crowding_out`` and the
catalogue (visibility and promotion) is off; under the hybrid rule visibility is on and
promotion is off (the contractor deploys recognised solutions instead). Recognition is the
province's (:mod:`sim.rules.province`). All decisions read the start-of-step state.

One standard exponential draw E per pair decides both *whether* and *which channel*: the
pair fires when ``lam * dt > E`` (probability ``1 - exp(-lam * dt)``), and given that it
fires, ``(1 - exp(-E)) / (1 - exp(-lam * dt))`` is uniform on [0, 1) and is compared with
the cumulative rate shares. The draws per step are fixed (N x K) whatever happens, which
keeps runs of different rules on one seed closely coupled (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..state import CATALOGUE, OWN, PEER, State
from .base import Context


@dataclass
class LocalDiffusion:
    scale: float = 1.0  # 1 - crowding_out under the contractor rule
    visibility: bool = True  # a would-be developer may find an existing solution instead
    promotion: bool = True  # the province promotes recognised solutions (grassroots rule)
    _reuse_fit: float = field(init=False)
    _reuse_cost: float = field(init=False)
    # National scenarios: set by sim.national (None: a province on its own)
    foreign_share: np.ndarray | None = None  # K, other provinces' local share per service
    foreign_quality: np.ndarray | None = None  # K, best quality there
    cross_reuses: int = 0  # pairs served by a copy from another province
    _cross_dt: np.ndarray | None = None
    down = False

    def couple(self, ctx: Context, cross_learning: float) -> None:
        """Join a national scenario: learn from other provinces at ``cross_learning`` times
        the within-province peer rate (call after :meth:`setup`)."""
        s = ctx.scenario
        c = ctx.world.population.capacity
        c_eff = c + s.collaboration.balancing * (1 - c)
        rate = self.scale * cross_learning * s.collaboration.peer_learning * ctx.dt
        self._cross_dt = (rate * c_eff)[:, None] if rate > 0 else None

    def setup(self, ctx: Context) -> None:
        s, w = ctx.scenario, ctx.world
        c = w.population.capacity
        c_eff = c + s.collaboration.balancing * (1 - c)
        dt = ctx.dt
        self._dev_dt = (self.scale * s.collaboration.innovation_rate * dt * c_eff)[
            :, None
        ] * w.priority
        deg = w.network.degree
        per_neighbour = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
        self._peer_dt = (self.scale * s.collaboration.peer_learning * dt * c_eff * per_neighbour)[
            :, None
        ]
        promo = s.support.promotion_rate if self.promotion else 0.0
        self._promo_dt = (promo * dt * c_eff)[:, None]
        self._base_pairs = -1  # local pairs served when the cached hazard was computed
        self._quality_sd = s.services.quality_sd
        self._visibility = s.support.catalog_visibility
        self._dev_cost = s.costs.development
        std = s.support.standardization
        self._reuse_fit = s.traction.reuse_fit + (1 - s.traction.reuse_fit) * std
        self._reuse_cost = (
            s.costs.development * s.costs.adaptation * (1 - s.costs.standardization_saving * std)
        )
        q = s.services
        self._quality_mean = q.quality_mean + q.quality_capacity_slope * (c_eff - 0.5)

    def settled(self, ctx: Context) -> bool:
        return True  # local channels act only on unserved pairs

    def end_step(self) -> None:
        pass

    def step(self, ctx: Context, t: int) -> None:
        st, net, k = ctx.state, ctx.world.network, ctx.world.k
        # Hazards times dt for every pair. A pair fires when lam * dt exceeds a standard
        # exponential draw E, i.e. with probability 1 - exp(-lam * dt).
        if self._base_pairs != st.local_group.pairs:  # neighbour counts changed: recompute
            self._counts = net.neighbour_counts(st.local)
            self._base = self._counts * self._peer_dt
            self._base += self._dev_dt
            self._base_pairs = st.local_group.pairs
        x = self._base
        # Promotion of services the province has recognised (rules.province).
        recognised = self.promotion and st.n_recognised > 0
        if recognised:
            x = x + self._promo_dt * st.recognised
        share = self.foreign_share
        cross = self._cross_dt is not None and share is not None
        if cross:
            x = x + self._cross_dt * share
        e = ctx.streams["local"].standard_exponential(x.shape)
        idx = ((x > e) & st.unserved).ravel().nonzero()[0]
        if len(idx) == 0:
            return
        rows, cols = np.divmod(idx, k)
        # Competing risks: given an event, v = (1 - exp(-E)) / (1 - exp(-lam dt)) is uniform
        # on [0, 1); v * lam picks the channel in proportion to the rates.
        lam_dt = x.ravel()[idx]
        v = np.expm1(-e.ravel()[idx]) / np.expm1(-lam_dt) * lam_dt
        dev_dt = self._dev_dt.ravel()[idx]
        if recognised:
            promo_dt = self._promo_dt[rows, 0] * st.recognised[cols]
            is_promo = (v >= lam_dt - promo_dt) & (promo_dt > 0)
        else:
            promo_dt = 0.0
            is_promo = np.zeros(len(idx), bool)
        # Channels in rate order: development, peer, cross-province, promotion.
        if cross:
            cross_dt = self._cross_dt[rows, 0] * share[cols]  # type: ignore[index]
            is_cross = (v >= lam_dt - promo_dt - cross_dt) & ~is_promo & (cross_dt > 0)
            is_promo_or_cross = is_promo | is_cross
        else:
            is_cross = None
            is_promo_or_cross = is_promo
        # (peer needs a served neighbour: tested on the count, not on a float remainder)
        is_peer = (
            (v >= dev_dt)
            & ~is_promo_or_cross
            & (self._counts.ravel()[idx] > 0)
            & (self._peer_dt[rows, 0] > 0)
        )
        is_dev = ~(is_peer | is_promo_or_cross)

        # Every choice reads the start-of-step state; only then is anything applied.
        best = st.best_sol[cols]
        sol = best.copy()  # promotion and catalogue finds take the best solution
        if np.count_nonzero(is_peer):
            j = net.best_neighbour(rows[is_peer], cols[is_peer], st.local_quality)
            sol[is_peer] = st.sol[j, cols[is_peer]]
        if is_cross is not None and np.count_nonzero(is_cross):
            sol[is_cross] = self._import(st, cols[is_cross], t)
            is_peer |= is_cross  # a copy from a peer, in another province
        rng = ctx.streams["choices"]
        if self.visibility:
            found = is_dev & (best >= 0)
            n_found = np.count_nonzero(found)
            if n_found:
                found[found] = rng.random(n_found) < self._visibility
                is_dev &= ~found
        n_dev = int(np.count_nonzero(is_dev))
        if n_dev:
            dr, dc = rows[is_dev], cols[is_dev]
            noise = rng.standard_normal(n_dev)
            quality = self._quality_mean[dr] + self._quality_sd * noise
            np.clip(quality, 0.0, 1.0, out=quality)
            sol[is_dev] = st.develop(dc, quality, dr, t)
        source = np.where(is_dev, OWN, np.where(is_peer, PEER, CATALOGUE))
        fit = np.where(is_dev, 1.0, self._reuse_fit)
        cost = n_dev * self._dev_cost + (len(idx) - n_dev) * self._reuse_cost
        st.serve(idx, source, sol, fit, cost, t)

    def _import(self, st: State, services: np.ndarray, t: int) -> np.ndarray:
        """One copy per service of the best foreign solution; the solution id of each pair."""
        self.cross_reuses += len(services)
        present = np.zeros(st.k, bool)
        present[services] = True
        unique = present.nonzero()[0]
        lookup = np.empty(st.k, np.int64)
        lookup[unique] = st.import_solutions(unique, self.foreign_quality[unique], t)  # type: ignore[index]
        return lookup[services]
