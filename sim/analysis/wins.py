"""Which rule wins where: win shares and selection maps over the design."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .sweeps import TIE, TIE_RTOL, Sweep

# --------------------------------------------------------------------------- who wins


def _best(sweep: Sweep, outcome: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per sample point: winner index (-1 on a tie), runner-up index, margin (>= 0, in
    outcome units), and a mask of points where every rule's mean is finite."""
    sign = 1.0 if sweep.higher_is_better.get(outcome, True) else -1.0
    means = np.column_stack([sweep.means(outcome, r) for r in sweep.rules]) * sign
    ok = np.isfinite(means).all(axis=1)
    filled = np.where(ok[:, None], means, 0.0)
    ranked = np.argsort(-filled, axis=1, kind="stable")
    top, second = ranked[:, 0], ranked[:, 1]
    rows = np.arange(len(filled))
    margin = filled[rows, top] - filled[rows, second]
    scale = np.maximum(np.abs(filled[rows, top]), np.abs(filled[rows, second]))
    tie = margin <= TIE_RTOL * scale  # equal up to rounding in the replicate means
    margin = np.where(tie, 0.0, margin)
    winner = np.where(tie, -1, top)
    return winner, second, margin, ok


def win_shares(sweep: Sweep, outcome: str) -> pd.DataFrame:
    """Share of sample points at which each rule has the best replicate mean (``"tie"``:
    two or more rules share the best mean). Columns: outcome, rule, share, points.
    Empty with fewer than two rules."""
    cols = ["outcome", "rule", "share", "points"]
    if len(sweep.rules) < 2:
        return pd.DataFrame(columns=cols)
    winner, _, _, ok = _best(sweep, outcome)
    n = int(ok.sum())
    winner = winner[ok]
    out = []
    for k, rule in enumerate([*sweep.rules, TIE]):
        count = int((winner == (k if rule != TIE else -1)).sum())
        out.append((outcome, rule, count / n if n else math.nan, count))
    return pd.DataFrame(out, columns=cols)


def selection_map(sweep: Sweep, outcome: str) -> pd.DataFrame | None:
    """For a grid over exactly two parameters and two rules or more: per cell the best
    rule (``"tie"`` on equal means), the runner-up and the margin between them (outcome
    units, >= 0). None otherwise."""
    if sweep.method != "grid" or len(sweep.parameters) != 2 or len(sweep.rules) < 2:
        return None
    winner, second, margin, ok = _best(sweep, outcome)
    rules = np.array([*sweep.rules, TIE], dtype=object)
    p, q = sweep.parameters
    return pd.DataFrame(
        {
            p: sweep.X[:, 0],
            q: sweep.X[:, 1],
            "best": np.where(ok, rules[winner], "n/a"),
            "runner_up": np.where(ok & (winner >= 0), np.array(sweep.rules, object)[second], ""),
            "margin": np.where(ok, margin, np.nan),
        }
    )


def grid_axis(sweep: Sweep, j: int) -> tuple[list[str], np.ndarray]:
    """Labels of the levels of parameter j — in the experiment's order and spelling
    (``grid_values``) when the manifest has them, else in order of first appearance — and
    the level position of every sample point."""

    def key(v: Any) -> Any:  # 20 in the experiment is 20.0 in the float column
        numeric = isinstance(v, int | float | np.number) and not isinstance(v, bool)
        return float(v) if numeric else str(v)

    column = sweep.X[:, j]
    keys = [key(v) for v in column]
    value = dict(zip(keys, column, strict=True))  # key -> the value (equal keys, equal values)
    given = (sweep.manifest.get("grid_values") or {}).get(sweep.parameters[j])
    if given is not None and {key(v) for v in given} == set(value):
        order, labels = [key(v) for v in given], [str(v) for v in given]
    else:
        order = list(dict.fromkeys(keys))
        labels = [str(value[k]) for k in order]
    where = {k: i for i, k in enumerate(order)}
    return labels, np.array([where[k] for k in keys], dtype=np.int64)
