"""The engine: one run of one rule on one seed, as arrays. The step loop is here.

A step t = 1 .. n_steps (time advances from (t - 1) * dt to t * dt):

1. each component of the rule acts, in order (:mod:`sim.rules`): the province's
   recognition (grassroots, hybrid), local diffusion (own development, peer reuse,
   catalogue), then the contractor (contractor, hybrid: outage draw, module builds or
   adoptions, deployments). Local decisions read the state at the start of the step; the
   contractor deploys to pairs still unserved after this step's local events (a pair is
   served once per step, and local events come first);
2. the recorder writes row t of the time series (step 0 is the initial state);
3. components finish the step (an outage counts down).

Once every pair is served and no component can change anything again (all modules built,
no outage possible), the run is *settled* (unless ``can_settle`` is False, as for the
provinces of a national run): the remaining rows repeat the last one, which is exactly what
stepping would produce, at no cost. For a single-province scenario :func:`sim.run` and the
Mesa wrapper both drive this class, so they give identical results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .errors import BadInput
from .outcomes import Recorder, scalar_outcomes, timeseries_frame
from .params import RULES, Scenario
from .rules import RULE_BUILDERS, Context
from .state import CATALOGUE, CONTRACTOR, OWN, PEER, State
from .world import World, build_world, spawn_streams

if TYPE_CHECKING:
    from .national import NationalEngine


def engine_for(
    scenario: Scenario,
    rule: str | None = None,
    seed: int | None = None,
    *,
    world: World | None = None,
) -> Engine | NationalEngine:
    """The engine for ``scenario``: an :class:`Engine`, or a
    :class:`~sim.national.NationalEngine` for a national scenario (``world`` is then unused:
    every province builds its own)."""
    if scenario.is_national:
        from .national import NationalEngine

        return NationalEngine(scenario, rule=rule, seed=seed)
    return Engine(scenario, rule=rule, seed=seed, world=world)


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
        per seed and share it between rules, which gives the same results as rebuilding it,
        because the world and the events draw from separate streams). ``stream_key``: extra
        SeedSequence entropy (internal: a province of a national scenario)."""
        if scenario.is_national:
            raise BadInput.one(
                scenario.path or scenario.name,
                "national.source",
                "a national scenario runs with sim.run / sim.engine_for (one Engine per province)",
            )
        self.scenario = scenario
        self.rule = scenario.rule if rule is None else rule
        if self.rule not in RULE_BUILDERS:
            raise BadInput.one(
                "rule", "", f"unknown rule {self.rule!r}; valid rules: {', '.join(RULES)}"
            )
        self.seed = scenario.seed if seed is None else int(seed)
        if self.seed < 0:
            raise BadInput.one("seed", "", f"must be >= 0 (got {self.seed})")
        streams = spawn_streams(self.seed, *stream_key)
        self.world = build_world(scenario, streams) if world is None else world
        self.state = State.empty(self.world)
        self.ctx = Context(scenario, self.world, self.state, streams)
        self.components = RULE_BUILDERS[self.rule](scenario)
        for c in self.components:
            c.setup(self.ctx)
        self.n_steps = scenario.n_steps
        self.t = 0
        self.settled = False
        self.can_settle = True  # False: step to the end even once nothing can change
        self.recorder = Recorder(
            self.n_steps, scenario.dt, self.world.population.capacity, self.world.k
        )
        self.recorder.record(0, self.state, down=False)

    @property
    def done(self) -> bool:
        return self.t >= self.n_steps

    @property
    def down(self) -> bool:
        return any(c.down for c in self.components)

    def step(self) -> None:
        if self.done:
            return
        self.t += 1
        if self.settled:
            self.recorder.repeat(self.t)
            return
        for c in self.components:
            c.step(self.ctx, self.t)
        self.recorder.record(self.t, self.state, self.down)
        for c in self.components:
            c.end_step()
        st = self.state
        if self.can_settle and st.served_pairs == st.n * st.k:
            self.settled = all(c.settled(self.ctx) for c in self.components)

    def run(self) -> Engine:
        while not self.done:
            self.step()
        return self

    # ---- results -------------------------------------------------------------------------
    def timeseries(self) -> pd.DataFrame:
        return timeseries_frame(self.recorder.data, self.t)

    def outcomes(self) -> dict[str, float]:
        outages = sum(getattr(c, "outages", 0) for c in self.components)
        data = {c: v[: self.t + 1] for c, v in self.recorder.data.items()}
        return scalar_outcomes(data, self.state, outages)

    def agents(self) -> pd.DataFrame:
        pop, st = self.world.population, self.state
        served = ~st.unserved
        # -- issue 10 (sim.counties): county identity columns and t50_years -----------------
        from .counties import agent_columns, half_served_years

        county = agent_columns(pop)  # adcode, name_zh, name, prefecture, population_flag
        t50 = half_served_years(st.step, self.scenario.dt)
        # -- end issue 10 ------------------------------------------------------------------
        return pd.DataFrame(
            {
                "agent_id": range(pop.n),
                **county,
                "region": [pop.region_names[r] for r in pop.region],
                "region_id": pop.region,
                "is_seat": pop.is_seat,
                "population": pop.population,
                "capacity": pop.capacity,
                "degree": self.world.network.degree.astype(int),
                "coverage": served.mean(axis=1),
                "t50_years": t50,  # issue 10: first time with half of the services
                "own": (st.source == OWN).sum(axis=1),
                "peer": (st.source == PEER).sum(axis=1),
                "catalogue": (st.source == CATALOGUE).sum(axis=1),
                "contractor": (st.source == CONTRACTOR).sum(axis=1),
                "mean_quality_fit": (st.quality * st.fit).sum(axis=1)
                / served.sum(axis=1).clip(min=1),
                "lat": pop.lat,
                "lon": pop.lon,
            }
        )
