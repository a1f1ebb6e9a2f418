"""The run's mutable state as arrays (structure of arrays), and the ways it changes.

Per (government i, service k), N x K matrices: ``source`` (how the pair is served, a
:class:`Source`), ``sol`` (solution id), ``quality``, ``fit``, ``step`` (when served).
Per solution, vectors sized for the usual case and grown when imports exceed it: service,
quality, origin government (-1 = contractor, -2 = imported from another province),
step. Per service: the best solution so far, the step of the first development and the
step of the first solution (developed or imported).

Every change goes through :meth:`State.develop` (new solutions),
:meth:`State.import_solutions` (copies from another province, national scenarios only) and
:meth:`State.serve` (pairs become served), which also keep the running aggregates that the
recorder reads, so recording a step costs O(events + N), not O(N x K).
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


# Plain ints for the hot path (an IntEnum costs a conversion per use in NumPy calls).
NONE, OWN, PEER, CATALOGUE, CONTRACTOR = (int(s) for s in Source)

CONTRACTOR_ORIGIN = -1
"""``sol_origin`` of a contractor module (local solutions: the developing government)."""
FOREIGN = -2
"""``sol_origin`` of a solution imported from another province (national scenarios)."""


@dataclass
class Aggregates:
    """Running sums over one group of served pairs (local or contractor)."""

    pairs: int = 0
    weight: float = 0.0  # sum of population_i * demand_k
    quality: float = 0.0  # sum of population_i * demand_k * quality * fit
    per_gov: np.ndarray = field(
        default_factory=lambda: np.zeros(0, np.int64)
    )  # pairs per government


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
    first_dev_step: np.ndarray = field(init=False)  # first development (-1: none yet)
    first_sol_step: np.ndarray = field(init=False)  # first solution, developed or imported
    # counters (cumulative)
    developments: int = 0
    duplicates: int = 0
    reuses: int = 0
    cost: float = 0.0
    by_source: np.ndarray = field(init=False)  # pairs ever served, by Source
    n_solution_services: int = 0  # services with at least one solution
    recognised: np.ndarray = field(init=False)  # bool K, set by the province (rules.province)
    n_recognised: int = 0
    local_group: Aggregates = field(init=False)  # pairs served by local solutions
    contractor_group: Aggregates = field(init=False)  # pairs served by contractor deployments

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
        # every pair gets at most one new solution (developed or copied), plus one module and
        # one catalogue import per service; repeated catalogue imports can exceed this (_grow)
        cap = n * k + 2 * k + 1
        self.sol_service = np.zeros(cap, np.int64)
        self.sol_quality = np.zeros(cap)
        self.sol_origin = np.zeros(cap, np.int64)
        self.sol_step = np.zeros(cap, np.int64)
        self.best_sol = np.full(k, -1, np.int64)
        self.best_quality = np.full(k, -np.inf)
        self.first_dev_step = np.full(k, -1, np.int64)
        self.first_sol_step = np.full(k, -1, np.int64)
        self.recognised = np.zeros(k, bool)
        self.by_source = np.zeros(len(Source), np.int64)
        self.local_group = Aggregates(per_gov=np.zeros(n, np.int64))
        self.contractor_group = Aggregates(per_gov=np.zeros(n, np.int64))

    @property
    def served_pairs(self) -> int:
        """Pairs with a service (contractor pairs count during an outage too)."""
        return self.local_group.pairs + self.contractor_group.pairs

    def develop(
        self, services: np.ndarray, quality: np.ndarray, origin: np.ndarray | int, t: int
    ) -> np.ndarray:
        """Register new solutions (developments); return their ids.

        A development is a duplicate when a solution for its service already existed in the
        province (developed, or imported in a national scenario), or when another development
        of the same service came earlier in the same call. So a group of g developments of
        one service counts g duplicates if the service had a solution before, else g - 1.
        """
        return self._register(services, quality, origin, t, developed=True)

    def import_solutions(self, services: np.ndarray, quality: np.ndarray, t: int) -> np.ndarray:
        """Register copies of solutions made in another province (national scenarios); return
        their ids. Not developments: no duplicates, no development step; origin ``FOREIGN``."""
        return self._register(services, quality, FOREIGN, t, developed=False)

    def _register(
        self,
        services: np.ndarray,
        quality: np.ndarray,
        origin: np.ndarray | int,
        t: int,
        *,
        developed: bool,
    ) -> np.ndarray:
        m = len(services)
        ids = np.arange(self.n_solutions, self.n_solutions + m)
        if m == 0:
            return ids
        if self.n_solutions + m > len(self.sol_service):  # imports can outgrow the estimate
            self._grow(self.n_solutions + m)
        self.sol_service[ids] = services
        self.sol_quality[ids] = quality
        self.sol_origin[ids] = origin
        self.sol_step[ids] = t
        self.n_solutions += m
        # Group by service, best quality first: the head of each group is its best.
        order = np.lexsort((-quality, services))
        grouped = services[order]
        head = np.empty(m, bool)
        head[0] = True
        np.not_equal(grouped[1:], grouped[:-1], out=head[1:])
        svc, best = grouped[head], order[head]
        first = self.first_sol_step[svc] < 0
        if developed:
            self.developments += m
            self.duplicates += m - int(np.count_nonzero(first))
            new = self.first_dev_step[svc] < 0
            self.first_dev_step[svc[new]] = t
        self.first_sol_step[svc[first]] = t
        self.n_solution_services += int(np.count_nonzero(first))
        better = quality[best] > self.best_quality[svc]
        self.best_quality[svc[better]] = quality[best[better]]
        self.best_sol[svc[better]] = ids[best[better]]
        return ids

    def _grow(self, needed: int) -> None:
        """Enlarge the solution table (at least doubling) to hold ``needed`` solutions."""
        size = max(needed, 2 * len(self.sol_service))
        for name in ("sol_service", "sol_quality", "sol_origin", "sol_step"):
            old = getattr(self, name)
            new = np.zeros(size, old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def serve(
        self,
        idx: np.ndarray,
        source: np.ndarray | int,
        sol: np.ndarray,
        fit: float | np.ndarray,
        cost: float,
        t: int,
        *,
        contractor: bool = False,
    ) -> None:
        """Serve the unserved pairs at flat indices ``idx`` (i * K + k) with ``sol``.

        ``source`` and ``fit`` are per pair or scalar; ``cost`` is the batch's total.
        ``contractor`` puts the pairs in the contractor group (down during outages). One
        call per component per step: a call costs a fixed number of array operations,
        whatever the number of pairs.
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
        w = self.pair_weight.ravel()[idx]
        group = self.contractor_group if contractor else self.local_group
        group.pairs += m
        # Sequential sums (bincount), not np.add.reduce's pairwise ones: batched runs
        # (sim.batch) sum each run's pairs in the same order, so their results are identical.
        one = np.zeros(m, np.intp)
        group.weight += np.bincount(one, weights=w)[0]
        group.quality += np.bincount(one, weights=w * (q * fit))[0]
        group.per_gov += np.bincount(idx // self.k, minlength=self.n)
        self.cost += cost
        if contractor:
            self.by_source[CONTRACTOR] += m
            self.reuses += m
            return
        self.local.ravel()[idx] = 1.0
        self.local_quality.ravel()[idx] = q
        if isinstance(source, int):
            self.by_source[source] += m
            self.reuses += 0 if source == OWN else m
        else:
            counts = np.bincount(source, minlength=len(Source))
            self.by_source += counts
            self.reuses += m - int(counts[OWN])
