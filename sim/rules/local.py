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

Under the contractor rule the first two rates are scaled by ``1 - crowding_out`` and the
catalogue (visibility and promotion) is off. All decisions read the start-of-step state.

One uniform per pair decides both *whether* and *which channel*: given an event
(``u < p``), ``u / p`` is again uniform on [0, 1) and is compared with the cumulative rate
shares. This keeps the draws per step fixed (N x K) whatever happens, which keeps runs of
different rules on one seed closely coupled (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..state import Source
from .base import Context


@dataclass
class LocalDiffusion:
    scale: float = 1.0  # 1 - crowding_out under the contractor rule
    catalogue: bool = True  # visibility reuse and promotion (grassroots rule)
    _lam_dev: np.ndarray = field(init=False, repr=False)
    _peer: np.ndarray = field(init=False, repr=False)
    _promo: np.ndarray = field(init=False, repr=False)
    _reuse_fit: float = field(init=False)
    _reuse_cost: float = field(init=False)
    _recognised: np.ndarray = field(init=False, repr=False)
    down = False

    def setup(self, ctx: Context) -> None:
        s, w = ctx.scenario, ctx.world
        c = w.population.capacity
        c_eff = c + s.collaboration.balancing * (1 - c)
        self._c_eff = c_eff
        self._lam_dev = (self.scale * s.collaboration.innovation_rate * c_eff)[:, None] * w.priority[None, :]
        deg = w.network.degree
        with np.errstate(divide="ignore", invalid="ignore"):
            per_neighbour = np.where(deg > 0, 1.0 / deg, 0.0)
        self._peer = (self.scale * s.collaboration.peer_learning * c_eff * per_neighbour)[:, None]
        promo = s.support.promotion_rate if self.catalogue else 0.0
        self._promo = (promo * c_eff)[:, None]
        self._recognised = np.zeros(w.k, bool)
        std = s.support.standardization
        self._reuse_fit = s.traction.reuse_fit + (1 - s.traction.reuse_fit) * std
        self._reuse_cost = s.costs.development * s.costs.adaptation * (1 - s.costs.standardization_saving * std)
        q = s.services
        self._quality_mean = q.quality_mean + q.quality_capacity_slope * (c_eff - 0.5)

    def settled(self, ctx: Context) -> bool:
        return True  # local channels act only on unserved pairs

    def _recognise(self, ctx: Context, t: int) -> None:
        """Recognition: ``recognition_lag`` years after a service's first development."""
        first = ctx.state.first_dev_step
        lag_steps = ctx.scenario.support.recognition_lag / ctx.dt
        # decisions of step t read the start of the step, i.e. time (t - 1) * dt
        self._recognised = (first >= 0) & ((t - 1) - first >= lag_steps - 1e-9)

    def step(self, ctx: Context, t: int) -> None:
        st, dt = ctx.state, ctx.dt
        lam = self._lam_dev + self._peer * ctx.world.network.neighbour_counts(st.local)
        promo_rate = np.zeros(1)
        if self.catalogue:
            self._recognise(ctx, t)
            if self._recognised.any():
                promo_rate = self._promo * self._recognised[None, :]
                lam = lam + promo_rate
        p = -np.expm1(-lam * dt)
        u = ctx.streams["local"].random(p.shape)
        rows, cols = np.nonzero((u < p) & st.unserved)
        if len(rows) == 0:
            return
        # Competing risks: the channel, from the same uniform (see the module docstring).
        lam_e = lam[rows, cols]
        v = u[rows, cols] / p[rows, cols] * lam_e
        dev_rate = self._lam_dev[rows, cols]
        promo_e = np.broadcast_to(promo_rate, lam.shape)[rows, cols]
        peer_rate = lam_e - dev_rate - promo_e
        promo = (v >= dev_rate + peer_rate) & (promo_e > 0)
        peer = (v >= dev_rate) & ~promo & (peer_rate > 0)
        dev = ~(peer | promo)

        # Every choice reads the start-of-step state; only then is anything applied.
        pr, pc = rows[peer], cols[peer]
        score = np.where(st.local > 0, st.quality, -np.inf)
        peer_sol = st.sol[ctx.world.network.best_neighbour(pr, pc, score), pc]
        mr, mc = rows[promo], cols[promo]
        promo_sol = st.best_sol[mc]
        dr, dc = rows[dev], cols[dev]
        if self.catalogue:
            rng = ctx.streams["choices"]
            found = (st.best_sol[dc] >= 0) & (rng.random(len(dr)) < ctx.scenario.support.catalog_visibility)
            fr, fc = dr[found], dc[found]
            found_sol = st.best_sol[fc]
            dr, dc = dr[~found], dc[~found]
            st.serve(fr, fc, Source.CATALOGUE, found_sol, self._reuse_fit, self._reuse_cost, t)
        st.serve(pr, pc, Source.PEER, peer_sol, self._reuse_fit, self._reuse_cost, t)
        st.serve(mr, mc, Source.CATALOGUE, promo_sol, self._reuse_fit, self._reuse_cost, t)
        sd = ctx.scenario.services.quality_sd
        noise = ctx.streams["choices"].standard_normal(len(dr))
        quality = np.clip(self._quality_mean[dr] + sd * noise, 0.0, 1.0)
        ids = st.develop(dc, quality, dr, t)
        st.serve(dr, dc, Source.OWN, ids, 1.0, ctx.scenario.costs.development, t)
