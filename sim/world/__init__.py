"""World building: what a run shares across rules, drawn before any rule acts.

* :mod:`~sim.world.build`: the named random streams of a seed (SeedSequence), the
  :class:`World` (population, network, service demand) and :func:`build_world`;
* :mod:`~sim.world.population`: the local governments (synthetic, or from a prefecture CSV);
* :mod:`~sim.world.network`: who learns from whom (complete, hierarchy, small world);
* :mod:`~sim.world.provinces`: the provinces of a national scenario.

May import: :mod:`sim.params`, :mod:`sim.errors`. Never the core, experiments, analysis or
interactive layers.
"""

from .build import STREAMS, World, build_world, service_demand, spawn_streams

__all__ = ["STREAMS", "World", "build_world", "service_demand", "spawn_streams"]
