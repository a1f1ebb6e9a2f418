"""Everything a run shares across rules: random streams, governments, network, services.

One ``numpy.random.SeedSequence(seed)`` spawns one independent stream per purpose. The
world (population, network, service demand) is drawn from its own streams before any rule
acts, so two rules run under one seed face the same province (common random numbers), and
each rule's events draw from streams that the other rule's events cannot shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import Scenario, ServicesParams
from .counties import build_population as county_population
from .network import Network, build_network
from .population import Population, build_population

STREAMS: tuple[str, ...] = (
    "population",
    "network",
    "services",
    "local",
    "choices",
    "contractor",
    "risk",  # local failures (issue 12); appended, so the others draw as before
    "province",  # the province's errors of judgement (issue 12)
    "consolidation",  # migration clocks (issue 12)
    "mechanisms",  # the mechanisms of issues 19 and 22 (one child stream each)
)
"""Named child streams of the run's SeedSequence, in spawn order (never reorder: it would
change every result for every seed; a new stream is appended, which leaves every existing
child, ``SeedSequence.spawn`` key (i,), as it was)."""


def spawn_streams(seed: int, *key: int) -> dict[str, np.random.Generator]:
    """The named streams of ``SeedSequence(seed)``, or of ``SeedSequence([seed, *key])`` when
    a key is given (the provinces of a national scenario: key = the province's index)."""
    children = np.random.SeedSequence([seed, *key] if key else seed).spawn(len(STREAMS))
    return {
        name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)
    }


@dataclass(frozen=True)
class World:
    population: Population
    network: Network
    demand: np.ndarray  # K service demand weights, sum 1, descending
    priority: np.ndarray  # K demand priorities, mean 1 (= K * demand)

    @property
    def n(self) -> int:
        return self.population.n

    @property
    def k(self) -> int:
        return len(self.demand)


def service_demand(p: ServicesParams, rng: np.random.Generator) -> np.ndarray:
    """Zipf-like weights r^-skew with optional lognormal noise, normalised, sorted descending."""
    rank = np.arange(1, p.count + 1, dtype=float)
    weight = rank ** (-p.demand_skew)
    if p.demand_noise > 0:
        weight = weight * np.exp(p.demand_noise * rng.standard_normal(p.count))
    weight = np.sort(weight)[::-1]
    return weight / weight.sum()


def build_world(scenario: Scenario, streams: dict[str, np.random.Generator]) -> World:
    table = scenario.prefectures
    if table is not None and table.counties is not None:  # real county-level units
        pop = county_population(scenario.population, table, streams["population"])
    else:
        pop = build_population(scenario.population, table, streams["population"])
    net = build_network(
        scenario.population,
        pop.region,
        pop.is_seat,
        streams["network"],
        counties=scenario.prefectures.counties if scenario.prefectures is not None else None,
    )
    demand = service_demand(scenario.services, streams["services"])
    return World(pop, net, demand, demand * len(demand))
