"""One run of one rule on one seed: a view of one run of a :class:`~sim.core.batch.Batch`.

An :class:`Engine` is built alone (a batch of one) and steps alone (:meth:`Engine.step`,
as the Mesa model and the teaching app do); :func:`run_batched` steps many fresh engines
as one batch and leaves each engine a view of its own run in that batch. Either way the
numbers are the same (tested): runs never read each other's state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ..errors import BadInput
from ..params import RULES, Scenario
from ..world.build import World, build_world, spawn_streams
from ..world.counties import agent_columns, half_served_years
from .arrays import CATALOGUE, CONTRACTOR, OWN, PEER, SERIES, Source
from .batch import Batch, RunSetup, run_constants
from .outcomes import (
    Inputs,
    adoption_gap_years,
    compute_outcomes,
    lifecycle_cost,
    quality_pair_years,
    timeseries_frame,
)

_PAIR_FIELDS = frozenset(
    ("source", "sol", "quality", "fit", "step", "local_quality", "hazard", "counts")
)
_SERVICE_FIELDS = frozenset(
    (
        "local_count",
        "local_best",
        "best_sol",
        "best_quality",
        "first_dev_step",
        "first_sol_step",
        "recognised",
        "module_sol",
        "order",
        "foreign_share",
        "foreign_quality",
        "recognised_at",
    )
)


class RunState:
    """Run b's state (:class:`~sim.core.arrays.State`) as views trimmed to its own
    governments and services: ``source`` is N x K, ``best_quality`` K, ``developments`` a
    number, and so on."""

    def __init__(self, batch: Batch, b: int) -> None:
        self._batch, self._b = batch, b
        self.n = int(batch.consts.n[b])
        self.k = int(batch.consts.k[b])

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_"):
            raise AttributeError(name)
        value = getattr(self._batch.state, name)[self._b]
        if name in _PAIR_FIELDS:
            return value[: self.n, : self.k]
        if name in _SERVICE_FIELDS:
            return value[: self.k]
        if name == "per_gov":
            return value[:, : self.n]
        return value

    @property
    def unserved(self) -> np.ndarray:
        return self.source == Source.NONE

    @property
    def served_pairs(self) -> int:
        return int(self._batch.state.pairs[self._b].sum())


class Recorder:
    """Run b's recorded columns (``data``: column -> rows 0..n_steps)."""

    def __init__(self, batch: Batch, b: int) -> None:
        self._batch, self._b = batch, b

    @property
    def data(self) -> dict[str, np.ndarray]:
        self._batch.start()
        c = self._batch.consts
        n_steps = int(c.n_steps[self._b])
        step = np.arange(n_steps + 1, dtype=float)
        values = self._batch.series.values[self._b, :, : n_steps + 1]
        out = {"step": step, "year": step * float(c.dt[self._b])}
        out.update({name: values[i] for i, name in enumerate(SERIES)})
        return out


class Engine:
    def __init__(
        self,
        scenario: Scenario,
        rule: str | None = None,
        seed: int | None = None,
        *,
        world: World | None = None,
        stream_key: tuple[int, ...] = (),
    ) -> None:
        """``world``: the world this scenario and seed build (internal: sweeps build it once
        per seed and share it between rules, which gives the same results as rebuilding
        it, because the world and the events draw from separate streams). ``stream_key``:
        extra SeedSequence entropy (a province of a national run: its index)."""
        if scenario.is_national:
            raise BadInput.one(
                scenario.path or scenario.name,
                "national.source",
                "a national scenario runs with sim.run / sim.engine_for (one batch of provinces)",
            )
        self.scenario = scenario
        self.rule = scenario.rule if rule is None else rule
        if self.rule not in RULES:
            raise BadInput.one(
                "rule", "", f"unknown rule {self.rule!r}; valid rules: {', '.join(RULES)}"
            )
        self.seed = scenario.seed if seed is None else int(seed)
        if self.seed < 0:
            raise BadInput.one("seed", "", f"must be >= 0 (got {self.seed})")
        streams = spawn_streams(self.seed, *stream_key)
        self.world = build_world(scenario, streams) if world is None else world
        self.setup: RunSetup = run_constants(scenario, self.rule, self.seed, self.world, streams)
        self.n_steps = scenario.n_steps
        self._batch: Batch | None = None  # built when first needed (run_batched may not)

    def _attach(self, batch: Batch, b: int) -> None:
        self._batch, self.index = batch, b
        self._state = RunState(batch, b)
        self._recorder = Recorder(batch, b)

    @property
    def batch(self) -> Batch:
        """The batch this run is part of (a batch of one unless run batched)."""
        if self._batch is None:
            self._attach(Batch([self.setup]), 0)
        return self._batch  # type: ignore[return-value]

    @property
    def state(self) -> RunState:
        self.batch  # noqa: B018 (attach)
        return self._state

    @property
    def recorder(self) -> Recorder:
        self.batch  # noqa: B018 (attach)
        return self._recorder

    @property
    def t(self) -> int:
        return min(self.batch.t, self.n_steps)

    @property
    def done(self) -> bool:
        return self.t >= self.n_steps

    @property
    def down(self) -> bool:
        return bool(self.batch.state.outage_left[self.index] > 0)

    @property
    def settled(self) -> bool:
        return bool(self.batch.state.settled[self.index])

    def step(self, *, intent: np.ndarray | None = None) -> None:
        """One step. ``intent`` (class mode): per pair, what a person chose instead of the
        rule (:mod:`sim.core.mechanisms.intent`); None, or all 0, leaves every pair to it."""
        if self.done:
            return
        if intent is None:
            self.batch.advance(1)
        else:
            from .mechanisms import intent as choices

            choices.step(self.batch, self.index, intent)

    def run(self) -> Engine:
        if not self.done:
            self.batch.advance(self.n_steps - self.batch.t)
        return self

    # ---- results -------------------------------------------------------------------------
    def timeseries(self) -> pd.DataFrame:
        return timeseries_frame(self.recorder.data, self.t)

    def best_in_use(self) -> np.ndarray:
        """Per service, the best quality among solutions serving a pair (-inf: none)."""
        st = self.state
        return np.where(st.source != Source.NONE, st.quality, -np.inf).max(axis=0)

    def lifecycle_cost(self) -> float:
        """This run's :func:`~sim.core.outcomes.lifecycle_cost` (steps 0..t)."""
        data = {c: v[: self.t + 1] for c, v in self.recorder.data.items()}
        return lifecycle_cost(data, pairs=self.state.n * self.state.k, **self.setup.extra)

    def quality_pair_years(self) -> float:
        """This run's :func:`~sim.core.outcomes.quality_pair_years` (steps 0..t)."""
        data = {c: v[: self.t + 1] for c, v in self.recorder.data.items()}
        return quality_pair_years(data, pairs=self.state.n * self.state.k, **self.setup.extra)

    def outcome_inputs(self) -> Inputs:
        return outcome_inputs(self.batch, [self.index], self.t)

    def outcomes(self) -> dict[str, float]:
        """This run's outcomes. A finished batch computes every run's at once, the first
        time any of its runs is asked (:func:`batch_outcomes`); the numbers are those of
        computing each run alone (the outcome functions work row by row)."""
        b = self.batch
        if b.done and b.started:
            if b.outcomes is None:
                b.outcomes = batch_outcomes(b)
            return {k: float(v[self.index]) for k, v in b.outcomes.items()}
        return {k: float(v[0]) for k, v in compute_outcomes(self.outcome_inputs()).items()}

    def agents(self) -> pd.DataFrame:
        return pd.DataFrame(self.agent_columns())

    def agent_columns(self) -> dict[str, np.ndarray | range]:
        """The columns of :meth:`agents` (arrays; building the DataFrame costs more)."""
        pop, st = self.world.population, self.state
        source = st.source
        served = source != Source.NONE
        county = agent_columns(pop)  # county scenarios: adcode, name_zh, name, prefecture, flag
        return {
            "agent_id": range(pop.n),
            **county,
            "region": np.asarray(pop.region_names, dtype=object)[pop.region],
            "region_id": pop.region,
            "is_seat": pop.is_seat,
            "population": pop.population,
            "capacity": pop.capacity,
            "degree": self.world.network.degree.astype(int),
            "coverage": served.mean(axis=1),
            "t50_years": half_served_years(st.step, self.scenario.dt),
            "own": (source == OWN).sum(axis=1),
            "peer": (source == PEER).sum(axis=1),
            "catalogue": (source == CATALOGUE).sum(axis=1),
            "contractor": (source == CONTRACTOR).sum(axis=1),
            "mean_quality_fit": (st.quality * st.fit).sum(axis=1) / served.sum(axis=1).clip(min=1),
            "lat": pop.lat,
            "lon": pop.lon,
        }


def outcome_inputs(batch: Batch, runs: Sequence[int], t: int) -> Inputs:
    """The :class:`~sim.core.outcomes.Inputs` of runs ``runs`` of ``batch`` at step ``t``
    (each run's rows 0..t; the runs must have the same number of services). One
    implementation for a run alone (:meth:`Engine.outcome_inputs`) and for a whole batch
    (:func:`batch_outcomes`)."""
    batch.start()
    runs = list(runs)
    c, st = batch.consts, batch.state
    step = np.arange(t + 1, dtype=float)
    year = step[None, :] * c.dt[runs][:, None]
    values = batch.series.values[runs, :, : t + 1]
    series = {"step": np.broadcast_to(step, year.shape), "year": year}
    series.update({name: values[:, i] for i, name in enumerate(SERIES)})
    best, gap, lifecycle, benefit, served = [], [], [], [], []
    for r, b in enumerate(runs):
        setup, view = batch.runs[b], RunState(batch, b)
        data = {name: column[r] for name, column in series.items()}
        pairs = view.n * view.k
        best.append(np.where(view.source != Source.NONE, view.quality, -np.inf).max(axis=0))
        gap.append(
            adoption_gap_years(
                view.step, setup.world.population.capacity, setup.scenario.dt, float(year[r, t])
            )
        )
        lifecycle.append(lifecycle_cost(data, pairs=pairs, **setup.extra))
        benefit.append(quality_pair_years(data, pairs=pairs, **setup.extra))
        served.append(view.served_pairs)
    return Inputs(
        series=series,
        n=c.n[runs],
        k=c.k[runs],
        served_end=np.array(served),
        developments=st.developments[runs],
        duplicates=st.duplicates[runs],
        reuses=st.reuses[runs],
        cost=st.cost[runs],
        best_quality=np.array(best),
        outages=st.outages[runs],
        module_duplicates=st.module_duplicates[runs],
        across=np.zeros(len(runs), np.int64),
        adoption_gap=np.array(gap),
        lifecycle=np.array(lifecycle),
        benefit=np.array(benefit),
    )


def batch_outcomes(batch: Batch) -> dict[str, np.ndarray]:
    """Every run's outcomes (name -> one value per run of ``batch``), computed once per
    group of runs with the same horizon and number of services (issue 18: per run, the
    outcomes cost almost as much as the compiled loop)."""
    c = batch.consts
    horizon = np.minimum(batch.t, c.n_steps)
    groups: dict[tuple[int, int], list[int]] = {}
    for b in range(len(batch.runs)):
        groups.setdefault((int(horizon[b]), int(c.k[b])), []).append(b)
    out: dict[str, np.ndarray] = {}
    for (t, _), runs in groups.items():
        for name, v in compute_outcomes(outcome_inputs(batch, runs, t)).items():
            out.setdefault(name, np.zeros(len(batch.runs)))[runs] = v
    return out


MAX_BATCH_PAIRS = 2_000_000
"""Pairs (governments x services, summed over runs) stepped in one batch at most: about
200 MB of state and draws, so that batching never costs much more memory than one run."""


def run_batched(
    engines: Sequence[Engine],
    size: int = 256,
    progress: Callable[[int], None] | None = None,
) -> list[Engine]:
    """Run fresh engines as batches of at most ``size`` runs and :data:`MAX_BATCH_PAIRS`
    pairs (any rules and sizes mixed); each engine is left a view of its own run.
    ``progress(n)`` is called after each batch with its number of runs. The numbers are
    those of running each engine alone."""
    for e in engines:
        if e._batch is not None:  # already stepped alone: finish it alone
            e.run()
    part: list[Engine] = []
    pairs = 0
    for e in [e for e in engines if e._batch is None]:
        n_pairs = e.world.n * e.world.k
        if part and (len(part) >= size or pairs + n_pairs > MAX_BATCH_PAIRS):
            _run_part(part, progress)
            part, pairs = [], 0
        part.append(e)
        pairs += n_pairs
    if part:
        _run_part(part, progress)
    return list(engines)


def _run_part(part: list[Engine], progress: Callable[[int], None] | None) -> None:
    batch = Batch([e.setup for e in part]).run()
    for b, e in enumerate(part):
        e._attach(batch, b)
    if progress is not None:
        progress(len(part))
