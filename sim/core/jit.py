"""How the kernels of the time loop are compiled: without reference counting.

The step kernels take the batch's three named tuples (:mod:`sim.core.arrays`, about 127
arrays). Numba's runtime counts references to every array a compiled function receives:
a call that passes the tuples increfs and decrefs each of their arrays, about 4 us per call
(issue 18), many times the work of a small step. The kernels called inside the time loop
allocate nothing (they work in the batch's arrays and the scratch arrays of
:func:`sim.core.step.scratch`), so they need no reference counts: :data:`step_kernel`
compiles them with Numba's runtime off for their own code. The arrays stay owned by the
entry points (:func:`sim.core.step.advance`), which run with the runtime on and outlive
every call they make.

No kernel of the step allocates today. A kernel that must (say, a new mechanism's rare
path) is an :data:`alloc_kernel`, called from a step kernel as usual (its calls then count
references again, only while that mechanism is on). It must
say so explicitly: a kernel called from another inherits the caller's flags unless it sets
its own. Helpers with ``inline="always"`` take the flags of the kernel they are inlined
into, so they must not allocate either.

Compile time and calls: the entry points hand the step kernels *references* to the named
tuples (:mod:`sim.core.ref`), one pointer each, instead of the tuples themselves (over a
thousand machine words of arguments). With the tuples, every separate kernel cost 3-4 s
of CPU to compile whatever its size and each call copied its arguments, so the small
mechanisms had to be inlined into the step; with references a separate kernel costs what
its own code costs, and the ledger's ``serve`` and ``register``, called from many places,
are compiled once instead of being inlined at each (the cold compile of a Zhejiang run:
about 75 s of CPU with the tuples, 20 s with references). The small mechanisms called
once per step are still inlined.
"""

from __future__ import annotations

from numba import njit

STEP_OPTIONS: dict = {"cache": True, "_nrt": False}
"""Numba's options of a step kernel (``_nrt``: the runtime's reference counting)."""

step_kernel = njit(**STEP_OPTIONS)
"""Decorator of a kernel of the time loop: compiled, cached, no reference counting (it must
not allocate an array; Numba refuses to compile one that does)."""

alloc_kernel = njit(cache=True, _nrt=True)
"""Decorator of a kernel that allocates and may be called from a :data:`step_kernel`."""
