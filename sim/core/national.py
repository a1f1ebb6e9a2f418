"""A country of provinces: the provinces of one national run are one coupled batch.

"Innovate in one place, reuse everywhere" at national scale. Every province of
``national.source`` (:mod:`sim.provinces`) is a run of one :class:`~sim.core.batch.Batch`
with its own rule (``national.rules``, else ``national.default_rule``; a uniform rule when
the run's rule is not ``"mixed"``), its own governments and network, a contractor whose
capacity is ``drive.contractor_capacity`` scaled by the province's size relative to the
mean province, and its own random streams ``SeedSequence([seed, p])``. All provinces share
one set of services and demands (drawn from ``SeedSequence(seed)``'s services stream).
Before each step the provinces are coupled (:mod:`sim.core.coupling`: cross-province
learning and the national catalogue); provinces never settle, since imports can arrive
to the end.

The national time series is derived from the provinces' recorded series (same columns as
a province run): counts and costs add up, coverage is pair-weighted and weighted coverage
population-weighted, quality is weighted by served demand, the Gini and the lagging gap
are over all governments of the country, and ``duplicate_developments`` counts
developments of a service already developed *anywhere in the country*. With
``cross_learning = 0`` and a sharing lag beyond the horizon every province runs exactly as
it would alone (tested).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import BadInput
from ..params import MIXED, RULES, NationalParams, Scenario
from ..world.build import World, service_demand, spawn_streams
from ..world.network import build_network
from ..world.population import build_population
from ..world.provinces import ProvinceTable
from .arrays import FOREIGN
from .batch import Batch, run_constants
from .engine import Engine
from .outcomes import (
    COLUMNS,
    Inputs,
    adoption_gap_years,
    compute_outcomes,
    gini_rows,
    timeseries_frame,
)

NATIONAL_RULES: tuple[str, ...] = (MIXED, *RULES)
"""Rules a national scenario runs under: each province its own, or one rule everywhere."""


def province_rules(scenario: Scenario, rule: str) -> list[str]:
    """The rule of every province under the run's ``rule``."""
    table: ProvinceTable = scenario.provinces
    if rule != MIXED:
        return [rule] * len(table.names)
    nat = scenario.national
    return [nat.rules.get(name, nat.default_rule) for name in table.names]


class NationalEngine:
    """The provinces of one national run, stepped as one coupled batch."""

    def __init__(
        self,
        scenario: Scenario,
        rule: str | None = None,
        seed: int | None = None,
        *,
        world: World | None = None,
    ) -> None:
        """``world`` is accepted for the :class:`~sim.core.engine.Engine` signature and
        unused: every province builds its own."""
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
        self._sizes = table.sizes
        setups = [
            self._province(p, rule_p, demand, self._sizes[p] / self._sizes.mean())
            for p, rule_p in enumerate(self.rules)
        ]
        nat = scenario.national
        lag = _lag_steps(nat, scenario.dt, scenario.n_steps)
        self.batch = Batch(
            setups,
            groups=np.array([[0, len(setups)]]),
            share_lag=np.array([lag]),
            history=True,
        )
        self.engines = [_ProvinceEngine(self.batch, p, s) for p, s in enumerate(setups)]
        self.k = len(demand)
        self.n_steps = scenario.n_steps
        self.recorder = _NationalRecorder(self)

    def _province(self, p: int, rule: str, demand: np.ndarray, scale: float):
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
        return run_constants(
            sub,
            rule,
            self.seed,
            world,
            streams,
            cross_learning=s.national.cross_learning,
            national=True,
        )

    # ---- stepping ------------------------------------------------------------------------
    @property
    def t(self) -> int:
        return self.batch.t

    @property
    def done(self) -> bool:
        return self.t >= self.n_steps

    @property
    def down(self) -> bool:
        return bool((self.batch.state.outage_left > 0).any())

    def step(self) -> None:
        self.batch.advance(1)

    def run(self) -> NationalEngine:
        self.batch.run()
        return self

    # ---- results -------------------------------------------------------------------------
    def series(self) -> dict[str, np.ndarray]:
        """The national time series (:data:`sim.core.outcomes.COLUMNS`), steps 0..t."""
        self.batch.start()
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
        hist = self.batch.series.per_gov
        counts = np.hstack([hist[p, :, : e.world.n] for p, e in enumerate(self.engines)])
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
        data = self.series()
        st = self.batch.state
        best = np.array([e.best_in_use() for e in self.engines]).max(axis=0)
        national_dups = int(data["duplicate_developments"][-1])
        steps = np.vstack([e.state.step for e in self.engines])
        capacity = np.concatenate([e.world.population.capacity for e in self.engines])
        gap = adoption_gap_years(steps, capacity, self.scenario.dt, float(data["year"][-1]))
        x = Inputs(
            series={c: v[None, :] for c, v in data.items()},
            n=np.array([int(self._sizes.sum())]),
            k=np.array([self.k]),
            served_end=np.array([int(st.pairs.sum())]),
            developments=np.array([int(st.developments.sum())]),
            duplicates=np.array([national_dups]),
            reuses=np.array([int(st.reuses.sum())]),
            cost=np.array([float(st.cost.sum())]),
            best_quality=best[None, :],
            outages=np.array([int(st.outages.sum())]),
            module_duplicates=np.array([int(st.module_duplicates.sum())]),
            across=np.array([national_dups - int(st.duplicates.sum())]),
            adoption_gap=np.array([gap]),
            lifecycle=np.array([sum(e.lifecycle_cost() for e in self.engines)]),
            benefit=np.array([sum(e.quality_pair_years() for e in self.engines)]),
        )
        return {k: float(v[0]) for k, v in compute_outcomes(x).items()}

    def provinces(self) -> pd.DataFrame:
        """One row per province: its rule, size and its own outcomes (within-province
        duplicates), plus the pairs it served by copies from other provinces."""
        rows = []
        st = self.batch.state
        for p, e in enumerate(self.engines):
            n_sol = int(st.n_solutions[p])
            rows.append(
                {
                    "province": self.table.names[p],
                    "rule": self.rules[p],
                    "n_governments": e.world.n,
                    "cross_province_reuses": int(st.cross_reuses[p]),
                    "imported_solutions": int(
                        np.count_nonzero(st.sol_origin[p, :n_sol] == FOREIGN)
                    ),
                    **e.outcomes(),
                }
            )
        return pd.DataFrame(rows)

    def agents(self) -> pd.DataFrame:
        frames = []
        for p, e in enumerate(self.engines):
            f = e.agents()
            f.insert(1, "province", self.table.names[p])
            f.insert(2, "rule", self.rules[p])
            frames.append(f)
        out = pd.concat(frames, ignore_index=True)
        out["agent_id"] = np.arange(len(out))
        return out


class _ProvinceEngine(Engine):
    """One province of a national run: a view of its run in the national batch."""

    def __init__(self, batch: Batch, p: int, setup) -> None:
        self.scenario, self.rule, self.seed = setup.scenario, setup.rule, setup.seed
        self.world, self.setup = setup.world, setup
        self.n_steps = setup.scenario.n_steps
        self._batch = None
        self._attach(batch, p)


class _NationalRecorder:
    """The national time series, derived on demand from the provinces' series."""

    def __init__(self, engine: NationalEngine) -> None:
        self._engine = engine

    @property
    def data(self) -> dict[str, np.ndarray]:
        return self._engine.series()


def _lag_steps(nat: NationalParams, dt: float, n_steps: int) -> int:
    """Sharing lag in whole steps (rounded up; beyond the horizon when very long)."""
    return int(min(math.ceil(min(nat.sharing_lag / dt, n_steps + 1) - 1e-9), n_steps + 1))
