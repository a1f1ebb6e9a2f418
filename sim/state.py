"""The run's mutable state as arrays (structure of arrays), and the two ways it changes.

Per (government i, service k), N x K matrices: ``source`` (how the pair is served, a
:class:`Source`), ``sol`` (solution id), ``quality``, ``fit``, ``step`` (when served).
Per solution, growable vectors: service, quality, origin government (-1 = contractor),
step. Per service: the best solution so far and the step of the first development.

Every change goes through :meth:`State.develop` (new solutions) and :meth:`State.serve`
(pairs become served), which also keep the running aggregates that the recorder reads,
so recording a step costs O(events + N), not O(N x K).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from .world import World


class Source(IntEnum):
    NONE = 0
    OWN = 1  # own development
    PEER = 2  # reuse from a network neighbour
    CATALOGUE = 3  # reuse from the provincial catalogue (visibility or promotion)
    CONTRACTOR = 4  # contractor deployment


LOCAL_SOURCES = (Source.OWN, Source.PEER, Source.CATALOGUE)


@dataclass
class Aggregates:
    """Running sums over one group of served pairs (local or contractor)."""

    pairs: int = 0
    weight: float = 0.0  # sum of population_i * demand_k
    quality: float = 0.0  # sum of population_i * demand_k * quality * fit
    per_gov: np.ndarray = field(default_factory=lambda: np.zeros(0))  # pairs per government


@dataclass
class State:
    n: int
    k: int
    pair_weight: np.ndarray  # N x K population_i * demand_k (constant)
    source: np.ndarray = field(init=False)
    sol: np.ndarray = field(init=False)
    quality: np.ndarray = field(init=False)
    fit: np.ndarray = field(init=False)
    step: np.ndarray = field(init=False)
    unserved: np.ndarray = field(init=False)  # bool N x K, source == NONE
    local: np.ndarray = field(init=False)  # float N x K, 1 where served by a local solution
    local_quality: np.ndarray = field(init=False)  # N x K, quality there, -inf elsewhere
    # solutions
    sol_service: np.ndarray = field(init=False)
    sol_quality: np.ndarray = field(init=False)
    sol_origin: np.ndarray = field(init=False)
    sol_step: np.ndarray = field(init=False)
    n_solutions: int = 0
    # per service
    best_sol: np.ndarray = field(init=False)
    best_quality: np.ndarray = field(init=False)
    first_dev_step: np.ndarray = field(init=False)
    # counters (cumulative)
    developments: int = 0
    duplicates: int = 0
    reuses: int = 0
    cost: float = 0.0
    by_source: np.ndarray = field(init=False)  # pairs ever served, by Source
    groups: dict[str, Aggregates] = field(init=False)

    @classmethod
    def empty(cls, world: World) -> State:
        weight = np.outer(world.population.population, world.demand)
        return cls(world.n, world.k, weight / weight.sum())

    def __post_init__(self) -> None:
        n, k = self.n, self.k
        self.source = np.zeros((n, k), np.int8)
        self.sol = np.full((n, k), -1, np.int64)
        self.quality = np.zeros((n, k))
        self.fit = np.zeros((n, k))
        self.step = np.full((n, k), -1, np.int64)
        self.unserved = np.ones((n, k), bool)
        self.local = np.zeros((n, k))
        self.local_quality = np.full((n, k), -np.inf)  # quality where served locally
        cap = n * k + k + 1  # every pair develops at most once, plus one module per service
        self.sol_service = np.zeros(cap, np.int64)
        self.sol_quality = np.zeros(cap)
        self.sol_origin = np.zeros(cap, np.int64)
        self.sol_step = np.zeros(cap, np.int64)
        self.best_sol = np.full(k, -1, np.int64)
        self.best_quality = np.full(k, -np.inf)
        self.first_dev_step = np.full(k, -1, np.int64)
        self.by_source = np.zeros(len(Source), np.int64)
        self.groups = {
            "local": Aggregates(per_gov=np.zeros(n)),
            "contractor": Aggregates(per_gov=np.zeros(n)),
        }

    def develop(self, services: np.ndarray, quality: np.ndarray, origin: np.ndarray, t: int) -> np.ndarray:
        """Register new solutions (developments); return their ids.

        A development is a duplicate when a solution for its service already existed, or
        when another development of the same service came earlier in the same call.
        """
        m = len(services)
        ids = np.arange(self.n_solutions, self.n_solutions + m)
        if m == 0:
            return ids
        self.sol_service[ids] = services
        self.sol_quality[ids] = quality
        self.sol_origin[ids] = origin
        self.sol_step[ids] = t
        self.n_solutions += m
        existed = self.best_sol[services] >= 0
        _, first = np.unique(services, return_index=True)
        not_first = np.ones(m, bool)
        not_first[first] = False
        self.developments += m
        self.duplicates += int(np.count_nonzero(existed | not_first))
        new_first = services[first][self.first_dev_step[services[first]] < 0]
        self.first_dev_step[new_first] = t
        # best solution per service: last of each service group when sorted by quality
        order = np.lexsort((quality, services))
        last = np.r_[services[order][1:] != services[order][:-1], True]
        top = order[last]
        better = quality[top] > self.best_quality[services[top]]
        self.best_quality[services[top[better]]] = quality[top[better]]
        self.best_sol[services[top[better]]] = ids[top[better]]
        return ids

    def serve(
        self, idx: np.ndarray, source: np.ndarray | Source, sol: np.ndarray,
        fit: float | np.ndarray, cost: float | np.ndarray, t: int,
    ) -> None:
        """Serve the unserved pairs at flat indices ``idx`` (i * K + k) with ``sol``.

        ``source``, ``fit`` and ``cost`` are per pair or scalar. One call per component per
        step: a call costs a fixed number of array operations, whatever the number of pairs.
        """
        m = len(idx)
        if m == 0:
            return
        q = self.sol_quality[sol]
        self.source.ravel()[idx] = source
        self.sol.ravel()[idx] = sol
        self.quality.ravel()[idx] = q
        self.fit.ravel()[idx] = fit
        self.step.ravel()[idx] = t
        self.unserved.ravel()[idx] = False
        contractor = np.isscalar(source) and source == Source.CONTRACTOR
        if not contractor:
            self.local.ravel()[idx] = 1.0
            self.local_quality.ravel()[idx] = q
        group = self.groups["contractor" if contractor else "local"]
        w = self.pair_weight.ravel()[idx]
        group.pairs += m
        group.weight += float(w.sum())
        group.quality += float(np.dot(w, q * fit))
        group.per_gov += np.bincount(idx // self.k, minlength=self.n)
        if contractor:
            self.by_source[Source.CONTRACTOR] += m
            self.reuses += m
            self.cost += cost * m
        else:
            counts = np.bincount(source, minlength=len(Source))
            self.by_source += counts
            self.reuses += m - int(counts[Source.OWN])
            self.cost += float(np.sum(cost))
