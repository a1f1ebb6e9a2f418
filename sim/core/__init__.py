"""The model core: one batched, compiled engine.

What it holds, bottom up:

* :mod:`~sim.core.arrays`: the arrays of a batch of B >= 1 runs (constants, state, series)
  as named tuples, with the leading run axis; the source codes and solution origins;
* :mod:`~sim.core.jit` and :mod:`~sim.core.ref`: how the kernels are compiled (no
  reference counting in the time loop) and how they receive those tuples (by reference);
* :mod:`~sim.core.mechanisms`: each mechanism written once, as Numba kernels over one run
  of a batch: solutions and serving (``ledger``), the province's recognition, local
  diffusion, the contractor;
* :mod:`~sim.core.record` (the recorder) and :mod:`~sim.core.coupling` (the provinces of a
  national run learn from and share with each other);
* :mod:`~sim.core.step`: the one step loop, compiled;
* :mod:`~sim.core.outcomes`: the outcome registry and the scalar outcomes;
* :mod:`~sim.core.batch` (builds a batch from runs and steps it) and
  :mod:`~sim.core.engine` (one run: a view of a batch), :mod:`~sim.core.national`.

May import: :mod:`sim.world`, :mod:`sim.params`, :mod:`sim.errors`; never the experiments,
analysis or interactive layers.

On import, :func:`sim.core.cache.check` drops cached kernels compiled from other sources
(a hash of the core's files, about a millisecond), and :func:`sim.core.cache.fall_back`
points Numba at a temporary folder, with one line saying so, when no cache can be written.
"""

import sys

from . import cache

cache.check()
if (_note := cache.fall_back()) is not None:
    print(_note, file=sys.stderr)
