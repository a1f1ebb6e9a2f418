"""Batched execution: many runs of one rule advanced together as one array computation.

A run on its own spends most of a step on NumPy's fixed cost per call: a step of a
90-government province is some 60 small array operations. :class:`Batch` stacks B runs
along a leading axis, so a step costs the same number of operations on B times larger
arrays, whatever B is. It is the fast path of ``sim sweep``, ``sim compare`` and the
national engine.

**Same results as alone.** A batch is built from B freshly constructed
:class:`~sim.engine.Engine` objects (one per run: its own scenario values, world and random
streams) and advances them exactly as :meth:`Engine.step` would, operation for operation:

* each run draws from its own streams, in the order it would alone: its exponentials
  (``local``; drawn a few steps ahead, which yields the same numbers), its catalogue and
  quality draws (``choices``) and its outage uniforms (``contractor``);
* per-run sums are sequential in the order of the pairs, as :meth:`State.serve` sums them;
* rare per-run logic (the hybrid contractor's adoption queue) is delegated to the run's own
  :class:`~sim.rules.contractor.Contractor`, with its scalars synchronised around the call.

After :meth:`Batch.run`, every engine holds the state and the recorded series it would
have after ``engine.run()`` (its arrays are views into the batch's), so
``engine.outcomes()`` and ``engine.recorder.data`` are read as usual. Runs in a batch must
share the rule, the numbers of services and steps, and the kind of network (complete,
dense or sparse adjacency): :func:`shape_key`. Runs with fewer governments are padded with
governments that are always served and never counted; sweeps batch runs of equal size only
(:func:`batch_key`), the national engine the provinces of one rule, stepping the batch with
:meth:`Batch.advance` and coupling the provinces between steps. The test suite checks
bit-identical outcomes and series against single runs for every rule and network kind.

One simplification: a single run stops computing once it is *settled* (:mod:`sim.engine`);
a batch keeps stepping it, which by the settling argument changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from .engine import Engine
from .network import Network
from .rules import Contractor, LocalDiffusion, Province
from .state import CATALOGUE, CONTRACTOR, FOREIGN, OWN, PEER, Source

EXP_CHUNK = 8
"""Steps of exponential draws made at once per run (same numbers as drawing every step)."""

SERVED_COLUMNS = (
    ("served_own", OWN),
    ("served_peer", PEER),
    ("served_catalogue", CATALOGUE),
    ("served_contractor", CONTRACTOR),
)

DEPLOY_WINDOW = 64
"""Pairs of the deployment order a contractor looks at first (more when it needs more)."""


def batch_key(engine: Engine) -> tuple:
    """Engines with equal keys make a batch without padding (what sweeps group by): the
    :func:`shape_key` and the number of governments."""
    return (*shape_key(engine), engine.world.n)


def shape_key(engine: Engine) -> tuple:
    """Engines with equal keys can share a batch: rule, services, steps, kind of network.
    Their numbers of governments may differ (smaller runs are padded with governments that
    are always served and never counted; the national scenario batches its provinces)."""
    net = engine.world.network
    kind = "complete" if net.complete else ("dense" if net._dense is not None else "sparse")
    return (engine.rule, engine.world.k, engine.n_steps, kind)


def _padded(adj: sp.csr_array, n: int) -> sp.csr_array:
    """The adjacency with isolated padding governments up to ``n``."""
    if adj.shape[0] == n:
        return adj
    indptr = np.concatenate([adj.indptr, np.full(n - adj.shape[0], adj.indptr[-1])])
    return sp.csr_array((adj.data, adj.indices, indptr), shape=(n, n))


def _pad(arrays: Sequence[np.ndarray], fill: float, length: int | None = None) -> np.ndarray:
    """Stack arrays whose first axes differ, padding each to ``length`` with ``fill``."""
    length = max(len(a) for a in arrays) if length is None else length
    out = np.full((len(arrays), length, *arrays[0].shape[1:]), fill, arrays[0].dtype)
    for i, a in enumerate(arrays):
        out[i, : len(a)] = a
    return out


class _Group:
    """Batched running sums of one group of served pairs (cf. :class:`sim.state.Aggregates`)."""

    def __init__(self, b: int, n: int) -> None:
        self.pairs = np.zeros(b, np.int64)
        self.weight = np.zeros(b)
        self.quality = np.zeros(b)
        self.per_gov = np.zeros((b, n), np.int64)


class Batch:
    """B fresh engines of one :func:`shape_key`, stepped together (see the module docstring)."""

    def __init__(self, engines: Sequence[Engine]) -> None:
        if not engines:
            raise ValueError("a batch needs at least one engine")
        key = shape_key(engines[0])
        if any(shape_key(e) != key for e in engines) or any(e.t != 0 for e in engines):
            raise ValueError("a batch takes fresh engines of one rule, shape and network kind")
        self.engines = list(engines)
        self.rule, self.k, self.n_steps, self._kind = key
        self.b = len(engines)
        self._sizes = np.array([e.world.n for e in engines])
        self.n = int(self._sizes.max())  # smaller runs are padded to n governments
        comps = [e.components for e in engines]
        self._province = isinstance(comps[0][0], Province)
        self._locals: list[LocalDiffusion] = [
            next(c for c in cs if isinstance(c, LocalDiffusion)) for cs in comps
        ]
        self._contractors: list[Contractor] = [
            c for cs in comps for c in cs if isinstance(c, Contractor)
        ]
        self._state_arrays()
        self._local_arrays()
        self._network()
        if self._contractors:
            self._contractor_arrays()
        self._recorder_arrays()
        self.t = 0

    # ---- set-up: stack every run's arrays and make the engines' arrays views of them ------
    def _state_arrays(self) -> None:
        sts = [e.state for e in self.engines]
        self._states = sts
        # per government: padded rows are served, unused and never counted
        for name, fill in (("pair_weight", 0.0), ("source", 0), ("sol", -1), ("quality", 0.0),
                           ("fit", 0.0), ("step", -1), ("unserved", False), ("local", 0.0),
                           ("local_quality", -np.inf)):  # fmt: skip
            big = _pad([getattr(st, name) for st in sts], fill, self.n)
            setattr(self, name, big)
            for i, st in enumerate(sts):
                setattr(st, name, big[i, : self._sizes[i]])
        for name in ("sol_service", "sol_quality", "sol_origin", "sol_step"):
            setattr(self, name, _pad([getattr(st, name) for st in sts], 0))
        self._view_solutions()
        for name in ("best_sol", "best_quality", "first_dev_step", "first_sol_step",
                     "recognised", "by_source"):  # fmt: skip
            big = np.stack([getattr(st, name) for st in sts])
            setattr(self, name, big)
            for i, st in enumerate(sts):
                setattr(st, name, big[i])
        for name in ("n_solutions", "developments", "duplicates", "reuses",
                     "n_solution_services", "n_recognised"):  # fmt: skip
            setattr(self, name, np.array([getattr(st, name) for st in sts], np.int64))
        self.cost = np.array([st.cost for st in sts], float)
        self.groups = {}
        for which in ("local_group", "contractor_group"):
            g = _Group(self.b, self.n)
            for i, st in enumerate(sts):
                src = getattr(st, which)
                g.pairs[i], g.weight[i], g.quality[i] = src.pairs, src.weight, src.quality
                g.per_gov[i, : self._sizes[i]] = src.per_gov
                src.per_gov = g.per_gov[i, : self._sizes[i]]
            self.groups[which] = g
        self._nk = self.n * self.k
        self._total = self._sizes * self.k  # pairs per run

    def _view_solutions(self, capacity: int | None = None) -> None:
        """Make the engines' solution tables views of the batch's, first growing those to
        ``capacity`` solutions per run if given (imports can outgrow the first estimate)."""
        for name in ("sol_service", "sol_quality", "sol_origin", "sol_step"):
            big = getattr(self, name)
            if capacity is not None and capacity > big.shape[1]:
                grown = np.zeros((self.b, capacity), big.dtype)
                grown[:, : big.shape[1]] = big
                big = grown
                setattr(self, name, big)
            for i, st in enumerate(self._states):
                setattr(st, name, big[i])

    def _local_arrays(self) -> None:
        loc = self._locals
        n = self.n
        self._dev_dt = _pad([c._dev_dt for c in loc], 0.0, n)  # B x N x K
        self._peer_dt = _pad([c._peer_dt for c in loc], 0.0, n)  # B x N x 1
        self._promo_dt = _pad([c._promo_dt for c in loc], 0.0, n)  # B x N x 1
        self._quality_mean = _pad([c._quality_mean for c in loc], 0.0, n)  # B x N
        self._quality_sd = np.array([c._quality_sd for c in loc])
        self._visibility = np.array([c._visibility for c in loc])
        self._dev_cost = np.array([c._dev_cost for c in loc])
        self._reuse_fit = np.array([c._reuse_fit for c in loc])
        self._reuse_cost = np.array([c._reuse_cost for c in loc])
        self._promotion = loc[0].promotion
        self._vis_on = loc[0].visibility
        # national scenarios: the cross-province channel (sim.national sets the shares)
        self._cross_dt = None
        if any(c._cross_dt is not None for c in loc):
            zero = np.zeros((0, 1))
            cross = [c._cross_dt if c._cross_dt is not None else zero for c in loc]
            self._cross_dt = _pad(cross, 0.0, n)  # B x N x 1
        self.foreign_share = np.zeros((self.b, self.k))
        self.foreign_quality = np.full((self.b, self.k), -np.inf)
        self.cross_reuses = np.array([c.cross_reuses for c in loc], np.int64)
        self._local_streams = [e.ctx.streams["local"] for e in self.engines]
        self._choices = [e.ctx.streams["choices"] for e in self.engines]
        self._exp = np.empty((self.b, EXP_CHUNK, self.n, self.k))
        self._exp_from = 1  # step of self._exp[0]
        self._exp_to = 0  # last step drawn
        self._lag = np.array(
            [next(c for c in e.components if isinstance(c, Province))._lag_steps
             for e in self.engines]
        ) if self._province else None  # fmt: skip
        self._counts = np.zeros((self.b, self.n, self.k))
        self._base = self._dev_dt.copy()
        self._x: np.ndarray | None = None  # base + promotion (see _promoted)
        self._base_pairs = np.full(self.b, -1, np.int64)

    def _network(self) -> None:
        """One block-diagonal adjacency for the whole batch (complete graphs need none)."""
        if self._kind == "complete":
            return
        nets = [e.world.network for e in self.engines]
        adj = sp.block_diag([_padded(net.adjacency, self.n) for net in nets], format="csr")
        adj.sort_indices()  # ties go to the lowest index (Network.best_neighbour)
        self._adj = adj
        self._big_net = Network(self.b * self.n, False, adj)
        self._new: list[tuple[np.ndarray, np.ndarray]] = []  # local pairs since the last count

    def _contractor_arrays(self) -> None:
        cons = self._contractors
        b, n, k = self.b, self.n, self.k
        self._adopt = cons[0].adopt
        self.module_sol = np.stack([c.module_sol for c in cons])
        self.order = np.stack([c.order for c in cons])
        for i, c in enumerate(cons):
            c.module_sol, c.order = self.module_sol[i], self.order[i]
        self._ready = np.stack([c.ready_step for c in cons])
        # padding governments come last in every rollout (they are served: skipped)
        self._rollout = np.stack(
            [np.concatenate([c.rollout, np.arange(len(c.rollout), n)]) for c in cons]
        )
        self.built = np.zeros(b, np.int64)
        self._ptr = np.zeros(b, np.int64)  # deployment order: every pair before it is served
        # the deployment order: module slot m, rollout position r -> flat pair (i * K + k)
        self._plan = np.zeros((b, k * n), np.int64)
        if not self._adopt:
            self._plan[:] = (self._rollout[:, None, :] * k + self.order[:, :, None]).reshape(b, -1)
        self._carry = np.zeros(b)
        self._outage_left = np.zeros(b, np.int64)
        self.outages = np.zeros(b, np.int64)
        self._lost = np.zeros(b, np.int64)
        self._rate = np.array([c._rate for c in cons])
        self._fit = np.array([c._fit for c in cons])
        self._price = np.array([c._price for c in cons])
        self._p_fail = np.array([c._p_fail for c in cons])
        self._outage_steps = np.array([c._outage_steps for c in cons])
        self._platform = np.array([e.scenario.costs.platform for e in self.engines])
        self._module_build = np.array([e.scenario.costs.module_build for e in self.engines])
        self._module_quality = np.array([e.scenario.drive.contractor_quality for e in self.engines])
        # every outage uniform of the run at once (the same numbers as one per step)
        self._u = np.stack([e.ctx.streams["contractor"].random(self.n_steps) for e in self.engines])
        self._next_adopt = np.full(b, np.iinfo(np.int64).max)  # adopt mode: queue head step
        self._n_queued = np.zeros(b, np.int64)

    def _recorder_arrays(self) -> None:
        recs = [e.recorder for e in self.engines]
        self._data = {c: np.stack([r._data[c] for r in recs]) for c in recs[0]._data}
        self._per_gov = np.zeros((self.b, self.n_steps + 1, self.n), np.int64)
        for i, r in enumerate(recs):
            self._per_gov[i, :, : self._sizes[i]] = r._per_gov
            r._data = {c: v[i] for c, v in self._data.items()}
            r._per_gov = self._per_gov[i, :, : self._sizes[i]]

    # ---- stepping --------------------------------------------------------------------------
    def run(self) -> list[Engine]:
        """Run every engine to the end; return them (now as if each had run alone)."""
        while self.t < self.n_steps:
            self.advance()
        return self.sync()

    def advance(self) -> None:
        """Advance every run by one step (:meth:`sim.engine.Engine.step`; ``self.step`` is
        the batch's per-pair array of the step each pair was served)."""
        t = self.t = self.t + 1
        if self._province:
            self._recognise(t)
        self._local_step(t)
        if self._contractors:
            self._contractor_step(t)
        self._record(t)
        if self._contractors:
            np.subtract(self._outage_left, 1, out=self._outage_left,
                        where=self._outage_left > 0)  # fmt: skip
        for e in self.engines:
            e.t = e.recorder._recorded = t

    def _recognise(self, t: int) -> None:
        first = self.first_sol_step
        now = (first >= 0) & (first <= (t - 1 - self._lag)[:, None])
        self._fresh = now & ~self.recognised  # newly recognised (run, service)
        self.recognised[:] = now
        self.n_recognised[:] = now.sum(axis=1)

    def _exponentials(self, t: int) -> int:
        """Make sure step t's draws are in ``self._exp[:, j]``; return j."""
        if t > self._exp_to:
            steps = min(EXP_CHUNK, self.n_steps - t + 1)
            for i, rng in enumerate(self._local_streams):
                n = self._sizes[i]
                if n == self.n:
                    rng.standard_exponential(out=self._exp[i, :steps])
                else:  # padded run: its own N x K draws per step, as alone
                    self._exp[i, :steps, :n] = rng.standard_exponential((steps, n, self.k))
            self._exp_from, self._exp_to = t, t + steps - 1
        return t - self._exp_from

    def _neighbour_counts(self) -> np.ndarray | None:
        """Neighbour counts and the base hazard, as each run computes them; return the flat
        indices of the base entries that changed (None: all may have).

        With a network, counts are updated from the local pairs served since the last
        update: each adds 1 at every neighbour of its government (integer sums, so exactly
        the full product), and only the base hazard entries that changed are recomputed."""
        local_pairs = self.groups["local_group"].pairs
        if np.array_equal(self._base_pairs, local_pairs):
            return np.zeros(0, np.int64)
        self._base_pairs = local_pairs.copy()
        if self._kind == "complete" or not self._new:
            if self._kind == "complete":
                self._counts = self.local.sum(axis=1, keepdims=True) - self.local
            self._base = self._counts * self._peer_dt
            self._base += self._dev_dt
            return None
        gov = np.concatenate([g for g, _ in self._new])  # run * N + government
        svc = np.concatenate([k for _, k in self._new])
        self._new.clear()
        indptr, indices = self._adj.indptr, self._adj.indices
        lens = indptr[gov + 1] - indptr[gov]
        starts = indptr[gov]
        offsets = lens.cumsum() - lens
        nbr = indices[np.arange(lens.sum()) - (offsets - starts).repeat(lens)]
        target = nbr * self.k + svc.repeat(lens)
        counts, base = self._counts.ravel(), self._base.ravel()
        np.add.at(counts, target, 1.0)
        touched = target  # may repeat: the updates below are idempotent
        base[touched] = (
            counts[touched] * self._peer_dt.ravel()[touched // self.k]
            + self._dev_dt.ravel()[touched]
        )
        return touched

    def _promoted(self, touched: np.ndarray | None) -> np.ndarray:
        """The hazard with promotion, ``base + promo_dt * recognised`` as each run computes
        it, kept up to date where the base or the recognition changed."""
        rec = self.recognised
        if touched is None or self._x is None:
            self._x = self._base + self._promo_dt * rec[:, None, :]
            return self._x
        x = self._x.ravel()
        if len(touched):
            cell = (touched // self._nk) * self.k + touched % self.k  # run * K + service
            x[touched] = (
                self._base.ravel()[touched]
                + self._promo_dt.ravel()[touched // self.k] * rec.ravel()[cell]
            )
        fb, fk = self._fresh.nonzero()
        if len(fb):
            self._x[fb, :, fk] = self._base[fb, :, fk] + self._promo_dt[fb, :, 0] * True
        return self._x

    def _best_neighbour(self, b: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """As :meth:`sim.network.Network.best_neighbour`, per run (ties: lowest index)."""
        score = self.local_quality
        if self._kind == "complete":
            return np.argmax(score[b, :, cols], axis=1)
        flat = score.reshape(self.b * self.n, self.k)
        return self._big_net.best_neighbour(b * self.n + rows, cols, flat) - b * self.n

    def _local_step(self, t: int) -> None:
        """:meth:`sim.rules.local.LocalDiffusion.step` for every run at once."""
        touched = self._neighbour_counts()
        x = self._promoted(touched) if self._promotion else self._base
        cross = self._cross_dt is not None
        if cross:
            x = x + self._cross_dt * self.foreign_share[:, None, :]
        j = self._exponentials(t)
        idx = ((x > self._exp[:, j]) & self.unserved).ravel().nonzero()[0]
        if len(idx) == 0:
            return
        b, rem = np.divmod(idx, self._nk)
        rows, cols = np.divmod(rem, self.k)
        lam_dt = x.ravel()[idx]
        v = np.expm1(-self._exp[b, j, rows, cols]) / np.expm1(-lam_dt) * lam_dt
        dev_dt = self._dev_dt.ravel()[idx]
        if self._promotion:
            promo_dt = self._promo_dt[b, rows, 0] * self.recognised[b, cols]
            is_promo = (v >= lam_dt - promo_dt) & (promo_dt > 0)
        else:
            promo_dt = 0.0
            is_promo = np.zeros(len(idx), bool)
        is_cross = None
        is_promo_or_cross = is_promo
        if cross:
            cross_dt = self._cross_dt[b, rows, 0] * self.foreign_share[b, cols]
            is_cross = (v >= lam_dt - promo_dt - cross_dt) & ~is_promo & (cross_dt > 0)
            is_promo_or_cross = is_promo | is_cross
        is_peer = (
            (v >= dev_dt)
            & ~is_promo_or_cross
            & (self._counts.ravel()[idx] > 0)
            & (self._peer_dt[b, rows, 0] > 0)
        )
        is_dev = ~(is_peer | is_promo_or_cross)
        best = self.best_sol[b, cols]
        sol = best.copy()
        if np.count_nonzero(is_peer):
            pb, pr, pc = b[is_peer], rows[is_peer], cols[is_peer]
            j = self._best_neighbour(pb, pr, pc)
            sol[is_peer] = self.sol[pb, j, pc]
        if is_cross is not None and np.count_nonzero(is_cross):
            sol[is_cross] = self._import(b[is_cross], cols[is_cross], t)
            is_peer |= is_cross  # a copy from a peer, in another province
        if self._vis_on:
            found = is_dev & (best >= 0)
            if np.count_nonzero(found):
                draws = self._per_run(found, b, lambda rng, m: rng.random(m))
                found[found] = draws < self._visibility[b[found]]
                is_dev &= ~found
        n_dev = int(np.count_nonzero(is_dev))
        if n_dev:
            db, dr, dc = b[is_dev], rows[is_dev], cols[is_dev]
            noise = self._per_run(is_dev, b, lambda rng, m: rng.standard_normal(m))
            quality = self._quality_mean[db, dr] + self._quality_sd[db] * noise
            np.clip(quality, 0.0, 1.0, out=quality)
            sol[is_dev] = self._develop(db, dc, quality, dr, t)
        source = np.where(is_dev, OWN, np.where(is_peer, PEER, CATALOGUE))
        fit = np.where(is_dev, 1.0, self._reuse_fit[b])
        events = np.bincount(b, minlength=self.b)
        devs = np.bincount(db, minlength=self.b) if n_dev else np.zeros(self.b, np.int64)
        cost = devs * self._dev_cost + (events - devs) * self._reuse_cost
        self._serve(idx, b, rows, source, sol, fit, cost, t, contractor=False)

    def _import(self, b: np.ndarray, services: np.ndarray, t: int) -> np.ndarray:
        """One copy per (run, service) of the best foreign solution (cf. LocalDiffusion)."""
        self.cross_reuses += np.bincount(b, minlength=self.b)
        keys, where = np.unique(b * self.k + services, return_inverse=True)
        ub, uk = np.divmod(keys, self.k)
        ids = self.import_solutions(ub, uk, self.foreign_quality[ub, uk], t)
        return ids[where]

    def _per_run(self, mask: np.ndarray, b: np.ndarray, draw) -> np.ndarray:
        """Draws for the selected events from each run's ``choices`` stream, in event order."""
        runs, counts = np.unique(b[mask], return_counts=True)
        pairs = zip(runs.tolist(), counts.tolist(), strict=True)
        return np.concatenate([draw(self._choices[r], m) for r, m in pairs])

    # ---- the state changes (cf. State.develop, import_solutions and serve) ----------------
    def _develop(
        self,
        b: np.ndarray,
        services: np.ndarray,
        quality: np.ndarray,
        origin: np.ndarray | int,
        t: int,
    ) -> np.ndarray:
        """:meth:`sim.state.State.develop` for events grouped by run (``b`` non-decreasing)."""
        return self._register(b, services, quality, origin, t, developed=True)

    def import_solutions(
        self, b: np.ndarray, services: np.ndarray, quality: np.ndarray, t: int
    ) -> np.ndarray:
        """:meth:`sim.state.State.import_solutions`, grouped by run (``b`` non-decreasing)."""
        return self._register(b, services, quality, FOREIGN, t, developed=False)

    def _register(
        self,
        b: np.ndarray,
        services: np.ndarray,
        quality: np.ndarray,
        origin: np.ndarray | int,
        t: int,
        *,
        developed: bool,
    ) -> np.ndarray:
        m = len(b)
        counts = np.bincount(b, minlength=self.b)
        needed = int((self.n_solutions + counts).max())
        if needed > self.sol_service.shape[1]:
            self._view_solutions(max(needed, 2 * self.sol_service.shape[1]))
        starts = np.cumsum(counts) - counts
        ids = self.n_solutions[b] + (np.arange(m) - starts[b])
        self.sol_service[b, ids] = services
        self.sol_quality[b, ids] = quality
        self.sol_origin[b, ids] = origin
        self.sol_step[b, ids] = t
        self.n_solutions += counts
        order = np.lexsort((-quality, services, b))
        gb, gs = b[order], services[order]
        head = np.empty(m, bool)
        head[0] = True
        head[1:] = (gb[1:] != gb[:-1]) | (gs[1:] != gs[:-1])
        hb, svc, best = gb[head], gs[head], order[head]
        first = self.first_sol_step[hb, svc] < 0
        if developed:
            self.developments += counts
            self.duplicates += counts - np.bincount(hb[first], minlength=self.b)
            new = self.first_dev_step[hb, svc] < 0
            self.first_dev_step[hb[new], svc[new]] = t
        self.first_sol_step[hb[first], svc[first]] = t
        self.n_solution_services += np.bincount(hb[first], minlength=self.b)
        better = quality[best] > self.best_quality[hb, svc]
        self.best_quality[hb[better], svc[better]] = quality[best[better]]
        self.best_sol[hb[better], svc[better]] = ids[best[better]]
        return ids

    def _serve(
        self,
        idx: np.ndarray,
        b: np.ndarray,
        rows: np.ndarray,
        source: np.ndarray | int,
        sol: np.ndarray,
        fit: np.ndarray,
        cost: np.ndarray,
        t: int,
        *,
        contractor: bool,
    ) -> None:
        """:meth:`sim.state.State.serve` for flat pair indices over the batch (grouped by run)."""
        q = self.sol_quality[b, sol]
        self.source.ravel()[idx] = source
        self.sol.ravel()[idx] = sol
        self.quality.ravel()[idx] = q
        self.fit.ravel()[idx] = fit
        self.step.ravel()[idx] = t
        self.unserved.ravel()[idx] = False
        w = self.pair_weight.ravel()[idx]
        group = self.groups["contractor_group" if contractor else "local_group"]
        counts = np.bincount(b, minlength=self.b)
        group.pairs += counts
        group.weight += np.bincount(b, weights=w, minlength=self.b)
        group.quality += np.bincount(b, weights=w * (q * fit), minlength=self.b)
        group.per_gov += np.bincount(b * self.n + rows, minlength=self.b * self.n).reshape(
            self.b, self.n
        )
        self.cost += cost
        if contractor:
            self.by_source[:, CONTRACTOR] += counts
            self.reuses += counts
            return
        self.local.ravel()[idx] = 1.0
        self.local_quality.ravel()[idx] = q
        if self._kind != "complete":
            self._new.append((b * self.n + rows, idx % self.k))
        per = np.bincount(b * len(Source) + source, minlength=self.b * len(Source))
        per = per.reshape(self.b, len(Source))
        self.by_source += per
        self.reuses += counts - per[:, OWN]

    # ---- the contractor (cf. sim.rules.contractor.Contractor.step) ------------------------
    def _contractor_step(self, t: int) -> None:
        if t == 1:
            self.cost += self._platform
        con_pairs = self.groups["contractor_group"].pairs
        start = (self._outage_left == 0) & (con_pairs > 0) & (self._u[:, t - 1] < self._p_fail)
        self._outage_left[start] = self._outage_steps[start]
        self.outages += start
        if self._adopt:
            self._adopt_step(t)
        else:
            self._build_step(t)
        down = self._outage_left > 0
        self._lost += np.where(down, con_pairs, 0)
        self._carry += np.where(down, 0.0, self._rate)
        n = np.floor(self._carry + 1e-9).astype(np.int64)
        n[down] = 0
        self._carry -= n
        go = (n > 0) & (self._ptr < self.built * self.n)
        if go.any():
            self._deploy(np.flatnonzero(go), n, t)

    def _build_step(self, t: int) -> None:
        ready = (self._ready <= t).sum(axis=1)
        runs = np.flatnonzero(ready > self.built)
        if len(runs) == 0:
            return
        bs = np.concatenate([np.full(ready[r] - self.built[r], r) for r in runs])
        svc = np.concatenate([self.order[r, self.built[r] : ready[r]] for r in runs])
        ids = self._develop(bs, svc, self._module_quality[bs], -1, t)
        self.module_sol[bs, svc] = ids
        self.cost += self._module_build * (ready - self.built)
        self.built = ready

    def _adopt_step(self, t: int) -> None:
        """The hybrid contractor's queue: per run, by the run's own component (rare events)."""
        due = (self.n_recognised > self._n_queued) | (self._next_adopt <= t)
        for r in np.flatnonzero(due).tolist():
            c, e, st = self._contractors[r], self.engines[r], self._states[r]
            st.n_recognised, st.cost = int(self.n_recognised[r]), float(self.cost[r])
            before = c.built
            c._adopt(e.ctx, t)
            self.cost[r] = st.cost
            self._n_queued[r] = c._n_queued
            self._next_adopt[r] = c._queue[0][0] if c._queue else np.iinfo(np.int64).max
            if c.built > before:
                m = np.arange(before, c.built)
                plan = self._rollout[r][None, :] * self.k + self.order[r, m][:, None]
                self._plan[r, before * self.n : c.built * self.n] = plan.ravel()
                self.built[r] = c.built

    def _deploy(self, runs: np.ndarray, n: np.ndarray, t: int) -> None:
        """The next ``n`` unserved pairs of each run's deployment order among built modules
        (a window of the order from the run's pointer, widened for runs that need more)."""
        limit = self.built * self.n
        unserved = self.unserved.reshape(self.b, -1)
        last = self.k * self.n - 1
        got_runs, got_pairs = [], []
        width = DEPLOY_WINDOW
        while len(runs):
            lo = self._ptr[runs]
            pos = lo[:, None] + np.arange(width)
            inside = pos < limit[runs][:, None]
            pair = self._plan[runs[:, None], np.minimum(pos, last)]
            open_ = inside & unserved[runs[:, None], pair]
            rank = np.cumsum(open_, axis=1)
            take = open_ & (rank <= n[runs][:, None])
            enough = (rank[:, -1] >= n[runs]) | ~inside[:, -1]
            take, done = take[enough], runs[enough]
            picked = take.sum(axis=1)
            got_runs.append(done.repeat(picked))
            got_pairs.append(pair[enough][take])
            # every pair before the last one taken is served now (or the whole window was)
            end = np.where(
                picked > 0, width - np.argmax(take[:, ::-1], axis=1), inside[enough].sum(axis=1)
            )
            self._ptr[done] = lo[enough] + end
            runs = runs[~enough]
            width *= 4
        b = np.concatenate(got_runs)
        if len(b) == 0:
            return
        order = np.argsort(b, kind="stable")  # group by run, keep the deployment order
        b, flat = b[order], np.concatenate(got_pairs)[order]
        g, k = np.divmod(flat, self.k)
        cost = self._price * np.bincount(b, minlength=self.b)
        self._serve(b * self._nk + flat, b, g, CONTRACTOR, self.module_sol[b, k],
                    self._fit[b], cost, t, contractor=True)  # fmt: skip

    # ---- recording (cf. sim.outcomes.Recorder.record) -------------------------------------
    def _record(self, t: int) -> None:
        d = self._data
        loc, con = self.groups["local_group"], self.groups["contractor_group"]
        down = self._outage_left > 0 if self._contractors else np.zeros(self.b, bool)
        local_only = down | (con.pairs == 0)
        pairs = np.where(local_only, loc.pairs, loc.pairs + con.pairs)
        weight = np.where(local_only, loc.weight, loc.weight + con.weight)
        quality = np.where(local_only, loc.quality, loc.quality + con.quality)
        total = self._total
        d["coverage"][:, t] = pairs / total
        d["coverage_weighted"][:, t] = weight
        with np.errstate(invalid="ignore", divide="ignore"):
            d["quality"][:, t] = np.where(weight > 0, quality / weight, np.nan)
        self._per_gov[:, t] = np.where(local_only[:, None], loc.per_gov, loc.per_gov + con.per_gov)
        d["developments"][:, t] = self.developments
        d["duplicate_developments"][:, t] = self.duplicates
        d["reuses"][:, t] = self.reuses
        d["cost"][:, t] = self.cost
        for col, src in SERVED_COLUMNS:
            d[col][:, t] = self.by_source[:, src] / total
        d["outage"][:, t] = down
        d["lost_pairs"][:, t] = np.where(down, con.pairs, 0)

    def sync(self) -> list[Engine]:
        """Hand every run's scalars back to its engine (its arrays are views already), so
        that the engines read as if each had run alone to this step; return them."""
        for i, (e, st) in enumerate(zip(self.engines, self._states, strict=True)):
            for name in ("n_solutions", "developments", "duplicates", "reuses",
                         "n_solution_services", "n_recognised"):  # fmt: skip
                setattr(st, name, int(getattr(self, name)[i]))
            st.cost = float(self.cost[i])
            for which, g in self.groups.items():
                agg = getattr(st, which)
                agg.pairs, agg.weight, agg.quality = (
                    int(g.pairs[i]),
                    float(g.weight[i]),
                    float(g.quality[i]),
                )
            if self._contractors:
                c = self._contractors[i]
                c.built = int(self.built[i])
                c.open_from = int(self._ptr[i] // self.n)
                c.carry = float(self._carry[i])
                c.outage_left = int(self._outage_left[i])
                c.outages = int(self.outages[i])
                c.lost_pair_steps = int(self._lost[i])
            c = self._locals[i]
            c.cross_reuses = int(self.cross_reuses[i])
            e.t = e.recorder._recorded = self.t
            e.recorder._derived = -1
        return self.engines


def run_batched(
    engines: Sequence[Engine],
    size: int = 64,
    progress: Callable[[int], None] | None = None,
) -> list[Engine]:
    """Run fresh engines, batching those of one :func:`batch_key` (at most ``size`` at a
    time) and running the rest alone; return them in the given order, all finished.
    ``progress(n)`` is called after each batch (or lone run) with its number of runs."""
    groups: dict[tuple, list[int]] = {}
    for i, e in enumerate(engines):
        groups.setdefault(batch_key(e), []).append(i)
    for members in groups.values():
        for lo in range(0, len(members), size):
            part = [engines[i] for i in members[lo : lo + size]]
            if len(part) == 1:
                part[0].run()
            else:
                Batch(part).run()
            if progress is not None:
                progress(len(part))
    return list(engines)


__all__ = ["Batch", "batch_key", "run_batched"]
