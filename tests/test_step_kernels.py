"""The time loop's kernels count no references (issue 18, :mod:`sim.core.jit`).

``step_kernel`` relies on Numba's private ``_nrt`` option; this guards it: a kernel compiled
with the step kernels' options, and a plain kernel it calls (which takes its caller's
flags), contain no call of the runtime's incref/decref, while the same code compiled
plainly does. That the results are unchanged bit for bit is the frozen baseline's job
(tests/test_baseline.py).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
from numba import njit

from sim.core.jit import STEP_OPTIONS


class Pair(NamedTuple):
    a: np.ndarray
    b: np.ndarray


def _inner(p: Pair, i: int) -> None:
    row = p.a[i]  # a view: counts a reference with the runtime on
    row[0] += p.b[i, 0]


def _loop(p: Pair, n: int) -> None:
    for i in range(n):
        _inner_kernel(p, i)


_inner_kernel = njit(_inner)


@pytest.mark.parametrize("counted", [True, False])
def test_step_kernel_options_remove_reference_counting(counted: bool) -> None:
    options = {} if counted else {**STEP_OPTIONS, "cache": False}  # no cache files of tests
    kernel = njit(**options)(_loop)
    p = Pair(np.ones((3, 2)), np.full((3, 2), 2.0))
    kernel(p, 3)
    np.testing.assert_array_equal(p.a[:, 0], [3.0, 3.0, 3.0])  # it still computes
    ir = "".join(kernel.inspect_llvm().values())
    assert ("NRT_incref" in ir) is counted
    assert ("NRT_decref" in ir) is counted
