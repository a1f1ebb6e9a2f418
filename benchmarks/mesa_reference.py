"""A plain Mesa 3.3 reference for the benchmarks: the grassroots rule in its Bass limit.

One service; every local government has capacity 1; no catalogue, promotion or balancing.
Each step an unserved government becomes served with probability

    1 - exp(-(p + q * share) * dt),

where ``share`` is the fraction of its network neighbours that were served at the start
of the step. The update is synchronous: every agent decides in ``step()`` from the
start-of-step state, then every agent applies its decision in ``advance()``.

This is written the way Mesa's own examples are (compare ``mesa.examples.basic.
virus_on_network``): one :class:`~mesa.discrete_space.FixedAgent` per government placed on
a cell of a :class:`mesa.discrete_space.Network` built from a networkx Watts-Strogatz
graph, agents driven through the model's ``AgentSet``, coverage recorded by a
:class:`mesa.DataCollector`, the model's ``rng``/``seed`` seeding everything. It is a fair
baseline for ``benchmarks/run.py``, not a strawman: nothing in it is deliberately slow.
"""

from __future__ import annotations

import math

import mesa
import networkx as nx
from mesa.discrete_space import Cell, FixedAgent, Network
from mesa.model import RNGLike, SeedLike


class Government(FixedAgent):
    """A local government: served or not by the one service."""

    def __init__(self, model: BassNetworkModel, cell: Cell) -> None:
        super().__init__(model)
        self.cell = cell
        self.served = False
        self._next_served = False

    def step(self) -> None:
        """Decide from the start-of-step state (nothing changes until ``advance``)."""
        if self.served:
            return
        neighbours = self.cell.neighborhood
        degree = len(neighbours)
        served = sum(1 for agent in neighbours.agents if agent.served)
        share = served / degree if degree else 0.0
        model = self.model
        hazard = model.p + model.q * share
        self._next_served = self.random.random() < -math.expm1(-hazard * model.dt)

    def advance(self) -> None:
        """Apply the decision taken in ``step``."""
        self.served = self._next_served


def coverage(model: BassNetworkModel) -> float:
    """Share of governments served (the DataCollector's model reporter)."""
    served = model.agents.get("served")
    return sum(served) / len(served)


class BassNetworkModel(mesa.Model):
    """Bass diffusion of one service on a Watts-Strogatz small-world network.

    Args:
        n: number of local governments.
        p: innovation rate (1/year), Bass p.
        q: peer-learning rate (1/year) at full neighbour coverage, Bass q.
        mean_degree: lattice degree ``k`` of the Watts-Strogatz graph (even).
        rewiring: Watts-Strogatz rewiring probability.
        dt: step length in years.
        n_steps: steps that :meth:`run_model` runs.
        seed: seed for the model's random generators (Mesa's ``seed=``).
        rng: alternatively, a numpy Generator or seed (Mesa's ``rng=``).
    """

    def __init__(
        self,
        *,
        n: int = 1000,
        p: float = 0.03,
        q: float = 0.38,
        mean_degree: int = 6,
        rewiring: float = 0.1,
        dt: float = 1 / 12,
        n_steps: int = 100,
        seed: int | None = None,
        rng: RNGLike | SeedLike | None = None,
    ) -> None:
        super().__init__(seed=seed, rng=rng)
        self.p = p
        self.q = q
        self.dt = dt
        self.n_steps = n_steps
        graph = nx.watts_strogatz_graph(n, mean_degree, rewiring, seed=self.random)
        self.grid = Network(graph, capacity=1, random=self.random)
        for cell in self.grid.all_cells:
            Government(self, cell)
        self.datacollector = mesa.DataCollector(model_reporters={"coverage": coverage})
        self.datacollector.collect(self)  # step 0: the initial state

    def step(self) -> None:
        self.agents.do("step")  # synchronous update: all decide, then all apply
        self.agents.do("advance")
        self.datacollector.collect(self)
        self.running = self.steps < self.n_steps


if __name__ == "__main__":
    model = BassNetworkModel(seed=1)
    model.run_model()
    curve = model.datacollector.get_model_vars_dataframe()["coverage"]
    print(f"steps {model.steps}; coverage at step 50: {curve[50]:.3f}, final: {curve.iloc[-1]:.3f}")
