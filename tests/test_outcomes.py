"""The distributional outcomes against their definitions."""

from __future__ import annotations

import numpy as np
import pytest

from sim.outcomes import gini_rows


def gini_by_definition(x: np.ndarray) -> float:
    """Mean absolute difference over all pairs / (2 x mean); 0 for all zeros."""
    if x.sum() == 0:
        return 0.0
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) * x.sum()))


@pytest.mark.parametrize("k", [1, 3, 20])
def test_gini_rows_matches_the_definition(k: int) -> None:
    x = np.random.default_rng(k).integers(0, k + 1, size=(40, 57))
    x[5] = 0  # an all-zero row
    x[6] = np.arange(57) % (k + 1)
    expected = np.array([gini_by_definition(row) for row in x])
    np.testing.assert_allclose(gini_rows(x, k), expected, rtol=0, atol=1e-12)


def test_gini_extremes() -> None:
    n = 10
    equal = np.full((1, n), 4)
    one_holder = np.zeros((1, n), int)
    one_holder[0, 3] = 4
    assert gini_rows(equal, 4)[0] == 0.0
    assert gini_rows(one_holder, 4)[0] == pytest.approx((n - 1) / n)


def test_a_ratio_over_a_vanishing_denominator_is_finite() -> None:
    """value_for_money over a lifecycle cost of 5e-324 overflowed to inf (found by the
    Hypothesis invariants): such a denominator counts as no cost, like 0."""
    import numpy as np

    from sim.core.outcomes import _ratio

    r = _ratio(np.array([1.0, 1.0, 2.0]), np.array([5e-324, 0.0, 4.0]))
    assert r.tolist() == [0.0, 0.0, 0.5]
