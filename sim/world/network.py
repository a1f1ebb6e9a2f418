"""Who learns from whom: the peer network, as a sparse adjacency with fast paths.

Topologies (``population.network``):

* ``complete``    everyone is everyone's neighbour (the Bass-model limit);
* ``hierarchy``   governments of one prefecture all know each other, and prefecture seats
  know each other (information flows up and across through the seats);
* ``small_world`` a Watts-Strogatz graph built with NumPy from the run's network stream:
  a ring lattice of degree ``mean_degree``, each edge's far end rewired with probability
  ``rewiring`` to a uniform node other than itself; edges that coincide are merged, so a
  few nodes have one link fewer than in networkx's generator (which redraws the endpoint
  instead). The saving: no Python loop over edges;
* ``contiguity`` and ``contiguity+hierarchy``: real borders of county-level units, with the
  prefecture seats (:mod:`sim.world.counties`).

The engine reads the adjacency as CSR arrays (``indptr``, ``indices``; neighbours sorted)
in its compiled kernels (:mod:`sim.core.mechanisms`); a complete graph has no edge list,
the kernels treat it as everyone's neighbour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..params import PopulationParams


@dataclass
class Network:
    n: int
    complete: bool
    adjacency: sp.csr_array | None  # None for complete graphs
    degree: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        if self.complete:
            self.degree = np.full(self.n, self.n - 1, dtype=float)
        else:
            assert self.adjacency is not None
            self.degree = np.diff(self.adjacency.indptr).astype(float)

    def to_networkx(self):  # pragma: no cover - convenience for users and the viz
        import networkx as nx

        if self.complete:
            return nx.complete_graph(self.n)
        return nx.from_scipy_sparse_array(self.adjacency)


def build_network(
    params: PopulationParams,
    region: np.ndarray,
    is_seat: np.ndarray,
    rng: np.random.Generator,
    *,
    counties: Any = None,
) -> Network:
    """``counties``: the scenario's :class:`~sim.world.counties.CountyTable` (contiguity)."""
    n = len(region)
    if params.network == "complete":
        return Network(n, True, None)
    if params.network.startswith("contiguity"):  # real borders (sim.world.counties)
        hierarchy = params.network == "contiguity+hierarchy"
        return Network(n, False, counties.adjacency(hierarchy=hierarchy))
    if params.network == "hierarchy":
        adj = _hierarchy(region, is_seat)
    else:
        adj = _small_world(n, params.mean_degree, params.rewiring, rng)
    return Network(n, False, adj)


def _hierarchy(region: np.ndarray, is_seat: np.ndarray) -> sp.csr_array:
    """Same prefecture, or both seats. Built from a dense mask up to a thousand
    governments (far cheaper than sparse products at that size; measured), else sparsely."""
    n = len(region)
    if n <= 1000:
        adj = (region[:, None] == region[None, :]) | (is_seat[:, None] & is_seat[None, :])
        np.fill_diagonal(adj, False)
        return sp.csr_array(adj.astype(float))
    member = sp.csr_array((np.ones(n), (np.arange(n), region)), shape=(n, region.max() + 1))
    seats = sp.csr_array(is_seat.astype(float)[:, None])
    adj = (member @ member.T + seats @ seats.T).tocsr()
    adj.setdiag(0)
    adj.eliminate_zeros()
    adj.data[:] = 1.0
    adj.sort_indices()
    return adj


def _small_world(n: int, k: int, p: float, rng: np.random.Generator) -> sp.csr_array:
    half = min(k // 2, (n - 1) // 2)
    src = np.repeat(np.arange(n), half)
    dst = (src + np.tile(np.arange(1, half + 1), n)) % n
    rewire = rng.random(len(src)) < p
    # A uniform node other than the source: draw from n - 1 values and skip the source.
    new = rng.integers(0, n - 1, size=int(rewire.sum()))
    new += new >= src[rewire]
    dst[rewire] = new
    both = np.concatenate([src, dst]), np.concatenate([dst, src])
    adj = sp.csr_array((np.ones(2 * len(src)), both), shape=(n, n))
    adj.sum_duplicates()
    adj.data[:] = 1.0
    adj.sort_indices()
    return adj
