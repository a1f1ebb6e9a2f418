"""Experiments: many runs, organised.

* :mod:`~sim.experiments.compare`: every rule on paired seeds (common random numbers), with
  intervals and paired differences;
* :mod:`~sim.experiments.experiment`: experiment files (parameters, design, outcomes);
* :mod:`~sim.experiments.design`: sample designs (Sobol', Morris, LHS, grid, FAST) from a
  design spec;
* :mod:`~sim.experiments.sweep`: running a design (batched, resumable, sharded) and
  :mod:`~sim.experiments.executors` (local processes, Dask, MPI);
* :mod:`~sim.experiments.atlas`: atlas files (an experiment over a prior file) for
  ``sim atlas``.

May import: the public API (:mod:`sim.run`), :mod:`sim.core`, :mod:`sim.world` and the
bottom layer (params, scenario, io, errors). Never analysis, interactive or the CLI.
"""
