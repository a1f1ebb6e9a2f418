"""Named tuples passed to kernels by reference (:mod:`sim.core.ref`, issue 18).

A kernel must read and write the same arrays through a :class:`~sim.core.ref.Ref` as
through the tuple itself, whatever the fields' types, through nested calls and in kernels
compiled as step kernels (no reference counting). Reading past the fields must fail to
compile rather than read another field. That whole runs are unchanged bit for bit is the
frozen baseline's job (tests/test_baseline.py).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from sim.core.jit import STEP_OPTIONS
from sim.core.ref import Ref, ref


class Mixed(NamedTuple):
    counts: np.ndarray  # int64, 1-d
    grid: np.ndarray  # float64, 2-d
    flags: np.ndarray  # bool, 1-d
    cube: np.ndarray  # int8, 3-d


def _mixed() -> Mixed:
    return Mixed(
        np.arange(4, dtype=np.int64),
        np.arange(6, dtype=np.float64).reshape(2, 3),
        np.array([True, False, True]),
        np.zeros((2, 2, 2), np.int8),
    )


def _touch(m: Mixed, i: int) -> float:
    """Reads every field and writes three of them; the same code for a tuple or a Ref."""
    m.counts[i] += 10
    m.cube[1, i % 2, 1] = 7
    total = m.grid[1, 2] + m.counts.shape[0]
    if m.flags[2]:
        m.grid[0, i % 3] = -1.0
    return total


_touch_plain = njit(_touch)
_touch_step = njit(**{**STEP_OPTIONS, "cache": False})(_touch)  # no cache files of tests


@njit
def _by_ref(m: Mixed, i: int) -> float:
    r = ref(m)
    return _touch_step(r, i) + _nested(r)


@njit
def _nested(r: Mixed) -> float:  # a Ref handed on to another kernel reads the same tuple
    return float(r.counts[1] + r.cube[1, 1, 1])


def test_a_kernel_reads_and_writes_the_same_arrays_through_a_reference() -> None:
    by_tuple, by_ref = _mixed(), _mixed()
    expected = _touch_plain(by_tuple, 1)
    got = _by_ref(by_ref, 1)
    assert got == expected + 11.0 + 7.0  # counts[1] and cube[1, 1, 1], read after the writes
    for name in Mixed._fields:
        np.testing.assert_array_equal(getattr(by_ref, name), getattr(by_tuple, name))
    assert by_ref.counts[1] == 11 and by_ref.cube[1, 1, 1] == 7 and by_ref.grid[0, 1] == -1.0


def test_the_reference_type_knows_the_fields_of_its_tuple() -> None:
    m = _mixed()
    _by_ref(m, 0)
    (signature,) = _touch_step.signatures
    assert isinstance(signature[0], Ref)
    assert signature[0].tup.fields == Mixed._fields


def test_an_unknown_field_does_not_compile() -> None:
    @njit
    def bad(m: Mixed) -> float:
        return ref(m).no_such_field[0]

    with pytest.raises(TypingError, match="no_such_field"):
        bad(_mixed())


def test_only_named_tuples_are_referenced() -> None:
    @njit
    def bad(a: np.ndarray) -> int:
        return ref(a).shape[0]

    with pytest.raises(TypingError):
        bad(np.zeros(3))
