"""A country of provinces: one engine per province, advanced in lockstep and coupled.

"Innovate in one place, reuse everywhere" at national scale. Every province of
``national.source`` (:mod:`sim.provinces`) is an ordinary :class:`~sim.engine.Engine` with
its own rule (``national.rules``, else ``national.default_rule``; a uniform rule when the
run's rule is not ``"mixed"``), its own governments and network, a contractor whose
capacity is ``drive.contractor_capacity`` scaled by the province's size relative to the
mean province, and its own random streams ``SeedSequence([seed, p])``. All provinces share
one set of services and demands (drawn from ``SeedSequence(seed)``'s services stream).

Step t of the country:

1. **Coupling**, from the start-of-step states of all provinces:

   * *cross-province learning*: each province's local diffusion gets, per service k, the
     share of the *other* provinces' governments served by a local solution and the best
     quality among them; its pairs copy that solution at hazard
     ``cross_learning x peer_learning x c_eff_i x share_k``, times ``1 - crowding_out`` in a
     contractor province (:mod:`sim.rules.local`);
   * *the national catalogue*: a service recognised in a province (grassroots, hybrid)
     enters the catalogue of every other province that keeps one ``sharing_lag`` years
     later, with the best solution of the provinces that shared it by then; a province
     imports it when it is better than its own best (:meth:`sim.state.State.import_solutions`:
     a copy, not a development). From then on it is that province's catalogue entry like
     any other: found by would-be developers, recognised after the province's own lag.

2. every province takes its step (:mod:`sim.engine`): the provinces of one rule as one
   batch, or one engine after another with ``batch=False``; no province sees another's
   events of the same step, so the order does not matter.

The national time series is derived from the provinces' recorded series (same columns as
a province run): counts and costs add up, coverage is pair-weighted and weighted coverage
population-weighted, quality is weighted by served demand, the Gini and the lagging gap
are over all governments of the country, and ``duplicate_developments`` counts
developments of a service already developed *anywhere in the country* (the national
meaning of duplicate work). With ``cross_learning = 0`` and a sharing lag beyond the
horizon every province runs exactly as it would alone (tested).

The provinces of one rule are stepped as one :class:`~sim.batch.Batch` (padded to the
largest); ``batch=False`` steps each province's engine instead, with identical results
(tested). Provinces never settle: imports can arrive and be recognised to the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .batch import Batch, shape_key
from .engine import Engine
from .errors import BadInput
from .network import build_network
from .outcomes import COLUMNS, gini_rows, scalar_outcomes, timeseries_frame
from .params import MIXED, RULES, NationalParams, Scenario
from .population import build_population
from .provinces import ProvinceTable
from .rules import LocalDiffusion, Province
from .state import FOREIGN
from .world import World, service_demand, spawn_streams

NATIONAL_RULES: tuple[str, ...] = (MIXED, *RULES)
"""Rules a national scenario runs under: each province its own, or one rule everywhere."""


def province_rules(scenario: Scenario, rule: str) -> list[str]:
    """The rule of every province under the run's ``rule``."""
    table: ProvinceTable = scenario.provinces
    if rule != MIXED:
        return [rule] * len(table.names)
    nat = scenario.national
    return [nat.rules.get(name, nat.default_rule) for name in table.names]


@dataclass
class Totals:
    """The country's end-of-run totals, in the shape :func:`scalar_outcomes` reads."""

    n: int
    k: int
    served_pairs: int
    developments: int
    duplicates: int
    reuses: int
    cost: float
    best_sol: np.ndarray
    best_quality: np.ndarray


class NationalRecorder:
    """The national time series, derived on demand from the provinces' recorders."""

    def __init__(self, engine: NationalEngine) -> None:
        self._engine = engine

    @property
    def data(self) -> dict[str, np.ndarray]:
        return self._engine.series()


class NationalEngine:
    """Lockstep engines, one per province (see the module docstring)."""

    def __init__(
        self,
        scenario: Scenario,
        rule: str | None = None,
        seed: int | None = None,
        *,
        world: World | None = None,
        batch: bool = True,
    ) -> None:
        """``world`` is accepted for the :class:`~sim.engine.Engine` signature and unused.
        ``batch``: step the provinces of one rule together (:mod:`sim.batch`; the same
        numbers as stepping each province's engine, which ``batch=False`` does)."""
        table = scenario.provinces
        if table is None:
            raise BadInput.one(
                scenario.name, "national.source", "load national scenarios with load_scenario"
            )
        self.scenario = scenario
        self.rule = scenario.rule if rule is None else rule
        if self.rule not in NATIONAL_RULES:
            raise BadInput.one(
                "rule",
                "",
                f"unknown rule {self.rule!r}; valid rules: {', '.join(NATIONAL_RULES)}",
            )
        self.seed = scenario.seed if seed is None else int(seed)
        if self.seed < 0:
            raise BadInput.one("seed", "", f"must be >= 0 (got {self.seed})")
        self.table: ProvinceTable = table
        self.rules = province_rules(scenario, self.rule)
        demand = service_demand(scenario.services, spawn_streams(self.seed)["services"])
        sizes = table.sizes
        self.engines = [
            self._province(p, rule_p, demand, sizes[p] / sizes.mean())
            for p, rule_p in enumerate(self.rules)
        ]
        nat = scenario.national
        self._locals: list[LocalDiffusion | None] = []
        for e in self.engines:
            local = next((c for c in e.components if isinstance(c, LocalDiffusion)), None)
            if local is not None:
                local.couple(e.ctx, nat.cross_learning)
            self._locals.append(local)
        self._catalogue = np.array(
            [any(isinstance(c, Province) for c in e.components) for e in self.engines]
        )
        for e in self.engines:
            # A province never stops stepping: imports can still arrive and be recognised.
            e.can_settle = False
        self._batches: list[tuple[Batch, np.ndarray]] = []
        if batch:
            groups: dict[tuple, list[int]] = {}
            for p, e in enumerate(self.engines):
                groups.setdefault(shape_key(e), []).append(p)
            self._batches = [
                (Batch([self.engines[p] for p in ps]), np.array(ps)) for ps in groups.values()
            ]
        k = len(demand)
        self.k = k
        self.n_steps = scenario.n_steps
        self.t = 0
        self._sizes = sizes
        self._lag_steps = _lag_steps(nat, scenario.dt, self.n_steps)
        self._recognised_at = np.full((len(self.engines), k), -1, np.int64)
        self._share_cache: list[tuple[int, np.ndarray, np.ndarray]] = [
            (-1, np.zeros(k), np.full(k, -np.inf)) for _ in self.engines
        ]
        self.recorder = NationalRecorder(self)

    def _province(self, p: int, rule: str, demand: np.ndarray, scale: float) -> Engine:
        s = self.scenario
        name = self.table.names[p]
        drive = s.drive.model_copy(
            update={"contractor_capacity": s.drive.contractor_capacity * float(scale)}
        )
        update = {"name": f"{s.name}/{name}", "rule": rule, "drive": drive}
        sub = s.model_copy(update={**update, "national": NationalParams()})
        sub._prefectures = self.table.prefecture_table(p)
        sub._provinces = None
        streams = spawn_streams(self.seed, p)
        pop = build_population(sub.population, sub.prefectures, streams["population"])
        net = build_network(sub.population, pop.region, pop.is_seat, streams["network"])
        world = World(pop, net, demand, demand * len(demand))
        return Engine(sub, rule, self.seed, world=world, stream_key=(p,))

    # ---- stepping ------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.t >= self.n_steps

    def step(self) -> None:
        if self.done:
            return
        self.t += 1
        self._couple(self.t)
        if self._batches:
            for b, _ in self._batches:
                b.advance()
        else:
            for e in self.engines:
                e.step()

    def run(self) -> NationalEngine:
        while not self.done:
            self.step()
        self._sync()
        return self

    def _couple(self, t: int) -> None:
        """Cross-province learning rates and national catalogue imports for step t."""
        served = np.empty((len(self.engines), self.k))
        best = np.empty((len(self.engines), self.k))
        for b, ps in self._batches:
            served[ps] = b.local.sum(axis=1)
            best[ps] = b.local_quality.max(axis=1)
        for p, e in enumerate(self.engines if not self._batches else ()):
            st = e.state
            key, count, quality = self._share_cache[p]
            if key != st.local_group.pairs:  # local pairs changed: recount
                count = st.local.sum(axis=0)
                quality = st.local_quality.max(axis=0)
                self._share_cache[p] = (st.local_group.pairs, count, quality)
            served[p], best[p] = count, quality
        others = (self._sizes.sum() - self._sizes)[:, None]
        abroad = served.sum(axis=0) - served
        share = np.divide(abroad, others, out=np.zeros_like(abroad), where=others > 0)
        foreign_best = _best_of_others(best)
        for b, ps in self._batches:
            b.foreign_share[:] = share[ps]
            b.foreign_quality[:] = foreign_best[ps]
        for p, local in enumerate(self._locals if not self._batches else ()):
            if local is not None:
                local.foreign_share = share[p]
                local.foreign_quality = foreign_best[p]
        self._share_catalogue(t)

    def _share_catalogue(self, t: int) -> None:
        """Recognised services enter the other provinces' catalogues after the sharing lag."""
        at = self._recognised_at
        for p, e in enumerate(self.engines):
            if self._catalogue[p]:
                new = e.state.recognised & (at[p] < 0)
                at[p, new] = t - 1  # recognised in the previous step
        shared = (at >= 0) & (at + self._lag_steps <= t)
        if not shared.any():
            return
        quality = np.array([e.state.best_quality for e in self.engines])
        entry = np.where(shared, quality, -np.inf).max(axis=0)
        better = self._catalogue[:, None] & (entry[None, :] > quality)
        if not better.any():
            return
        for b, ps in self._batches:  # one call per batch, grouped by province
            rows, services = better[ps].nonzero()
            if len(rows):
                b.import_solutions(rows, services, entry[services], t)
        for q, e in enumerate(self.engines if not self._batches else ()):
            services = better[q].nonzero()[0]
            if len(services):
                e.state.import_solutions(services, entry[services], t)

    # ---- results -------------------------------------------------------------------------
    def _sync(self) -> None:
        """Batched provinces: hand the batch's scalars back to the province engines."""
        for b, _ in self._batches:
            b.sync()

    def series(self) -> dict[str, np.ndarray]:
        """The national time series (:data:`sim.outcomes.COLUMNS`), steps 0..n_steps."""
        self._sync()
        parts = [e.recorder.data for e in self.engines]
        n = self._sizes.astype(float)
        pairs = n / n.sum()  # pair weights (every province has the same K services)
        pop = np.array([e.world.population.population.sum() for e in self.engines])
        people = pop / pop.sum()
        out: dict[str, np.ndarray] = {"step": parts[0]["step"], "year": parts[0]["year"]}

        def stack(c: str) -> np.ndarray:
            return np.vstack([d[c] for d in parts])

        for c in ("coverage", "served_own", "served_peer", "served_catalogue", "served_contractor"):
            out[c] = pairs @ stack(c)
        weighted = stack("coverage_weighted")
        out["coverage_weighted"] = people @ weighted
        num = people @ np.nan_to_num(stack("quality") * weighted)
        den = out["coverage_weighted"]
        with np.errstate(invalid="ignore", divide="ignore"):
            out["quality"] = np.where(den > 0, num / den, np.nan)
        for c in ("developments", "reuses", "cost", "lost_pairs"):
            out[c] = stack(c).sum(axis=0)
        out["outage"] = stack("outage").max(axis=0)
        out["duplicate_developments"] = out["developments"] - self._distinct_developed(out["step"])
        counts = np.hstack([e.recorder.per_gov for e in self.engines])
        out["gini"] = gini_rows(counts, self.k)
        capacity = np.concatenate([e.world.population.capacity for e in self.engines])
        order = np.argsort(capacity, kind="stable")
        q = max(1, len(capacity) // 4)
        gap = counts[:, order[-q:]].sum(axis=1) - counts[:, order[:q]].sum(axis=1)
        out["lagging_gap"] = gap / (q * self.k)
        return {c: out[c][: self.t + 1] for c in COLUMNS}

    def _distinct_developed(self, steps: np.ndarray) -> np.ndarray:
        """Per step: services developed somewhere in the country by then."""
        first = np.array([e.state.first_dev_step for e in self.engines])
        first = np.where(first >= 0, first, np.iinfo(np.int64).max).min(axis=0)
        first = np.sort(first[first < np.iinfo(np.int64).max])
        return np.searchsorted(first, steps, side="right").astype(float)

    def timeseries(self) -> pd.DataFrame:
        return timeseries_frame(self.series(), self.t)

    def outcomes(self) -> dict[str, float]:
        data = self.series()  # (synchronises batched provinces)
        states = [e.state for e in self.engines]
        best = np.array([s.best_quality for s in states]).max(axis=0)
        developments = sum(s.developments for s in states)
        totals = Totals(
            n=int(self._sizes.sum()),
            k=self.k,
            served_pairs=sum(s.served_pairs for s in states),
            developments=developments,
            duplicates=int(data["duplicate_developments"][-1]),
            reuses=sum(s.reuses for s in states),
            cost=float(sum(s.cost for s in states)),
            best_sol=np.where(np.isfinite(best), 0, -1),
            best_quality=best,
        )
        outages = sum(getattr(c, "outages", 0) for e in self.engines for c in e.components)
        return scalar_outcomes(data, totals, outages)

    def provinces(self) -> pd.DataFrame:
        """One row per province: its rule, size and its own outcomes (within-province
        duplicates), plus the pairs it served by copies from other provinces."""
        self._sync()
        rows = []
        for p, e in enumerate(self.engines):
            local = self._locals[p]
            rows.append(
                {
                    "province": self.table.names[p],
                    "rule": self.rules[p],
                    "n_governments": e.world.n,
                    "cross_province_reuses": local.cross_reuses if local is not None else 0,
                    "imported_solutions": int(
                        np.count_nonzero(e.state.sol_origin[: e.state.n_solutions] == FOREIGN)
                    ),
                    **e.outcomes(),
                }
            )
        return pd.DataFrame(rows)

    def agents(self) -> pd.DataFrame:
        self._sync()
        frames = []
        for p, e in enumerate(self.engines):
            f = e.agents()
            f.insert(1, "province", self.table.names[p])
            f.insert(2, "rule", self.rules[p])
            frames.append(f)
        out = pd.concat(frames, ignore_index=True)
        out["agent_id"] = np.arange(len(out))
        return out


def _best_of_others(best: np.ndarray) -> np.ndarray:
    """For each province (row), the column-wise maximum over the *other* rows."""
    if len(best) == 1:
        return np.full_like(best, -np.inf)
    order = np.argsort(-best, axis=0, kind="stable")
    top, second = order[0], order[1]
    cols = np.arange(best.shape[1])
    first_value, second_value = best[top, cols], best[second, cols]
    rows = np.arange(len(best))[:, None]
    return np.where(rows == top[None, :], second_value[None, :], first_value[None, :])


def _lag_steps(nat: NationalParams, dt: float, n_steps: int) -> int:
    """Sharing lag in whole steps (rounded up; beyond the horizon when very long)."""
    return int(min(math.ceil(nat.sharing_lag / dt - 1e-9), n_steps + 1))
