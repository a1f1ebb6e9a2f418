"""Analytic test functions for the sweep and analysis machinery (``model = "module:function"``).

Each takes ``(params, seed)`` and returns a dict of outcomes, like any user model.
"""

from __future__ import annotations

import math

import numpy as np


def ishigami(params: dict[str, float], seed: int) -> dict[str, float]:
    """Ishigami function (a = 7, b = 0.1) on x1, x2, x3 in [-pi, pi].

    Analytic first-order indices S1 = (0.3139, 0.4424, 0), total ST = (0.5576, 0.4424, 0.2437).
    ``noisy`` adds N(0, 1) noise drawn from the seed (replicate noise of known variance).
    """
    x1, x2, x3 = params["x1"], params["x2"], params["x3"]
    y = math.sin(x1) + 7.0 * math.sin(x2) ** 2 + 0.1 * x3**4 * math.sin(x1)
    noise = np.random.default_rng(seed).standard_normal()
    return {"y": y, "noisy": y + noise}
