"""Sensitivity indices of a sweep with SALib (Sobol', Morris, FAST, delta, grid main
effects), and their convergence."""

from __future__ import annotations

import contextlib
import copy
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .sweeps import COLUMNS, DELTA_RESAMPLES, Sweep, points_per_base
from .wins import selection_map, win_shares

# --------------------------------------------------------------------------- indices


def noise_share(runs: np.ndarray) -> float:
    """Mean within-point variance (ddof=1) / variance of all runs (ddof=1), truncated at 1
    (where parameters explain almost nothing, sampling error can push the ratio just above
    1); NaN if fewer than two replicates or no variance."""
    if runs.shape[1] < 2 or not np.isfinite(runs).all():
        return math.nan
    total = runs.var(ddof=1)
    if not total > 0:
        return math.nan
    return float(min(1.0, runs.var(axis=1, ddof=1).mean() / total))


@contextlib.contextmanager
def _quiet_salib() -> Iterator[None]:
    """Silence SALib's advisory warnings and undo its global side effects (NumPy's global
    generator, which ``delta`` and ``fast`` reseed; ``warnings.formatwarning``)."""
    state = np.random.get_state()
    formatwarning = warnings.formatwarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            np.random.set_state(state)
            warnings.formatwarning = formatwarning


def _salib(sweep: Sweep, Y: np.ndarray, num_resamples: int, delta_resamples: int) -> list[tuple]:
    """(method, parameter, index, value, conf) rows of the design's method for outputs Y."""
    from SALib.analyze import delta, fast, morris, rbd_fast, sobol

    m, seed, names = sweep.method, sweep.seed, sweep.factors
    problem = copy.deepcopy(sweep.problem)
    rows: list[tuple] = []

    def add(method: str, index: str, values: Any, confs: Any = None, labels=names) -> None:
        for j, label in enumerate(labels):
            conf = math.nan if confs is None else float(confs[j])
            rows.append((method, label, index, float(values[j]), conf))

    with _quiet_salib():
        if m == "sobol":
            second = bool(sweep.manifest.get("second_order"))
            S = sobol.analyze(
                problem, Y, calc_second_order=second, num_resamples=num_resamples, seed=seed
            )
            add(m, "S1", S["S1"], S["S1_conf"])
            add(m, "ST", S["ST"], S["ST_conf"])
            if second:
                for j in range(len(names)):
                    for k in range(j + 1, len(names)):
                        rows.append(
                            (m, f"{names[j]}:{names[k]}", "S2", float(S["S2"][j, k]),
                             float(S["S2_conf"][j, k]))
                        )  # fmt: skip
        elif m == "morris":
            S = morris.analyze(
                problem, sweep.X.astype(float), Y, num_resamples=num_resamples,
                num_levels=int(sweep.manifest.get("num_levels", 4)), seed=seed,
            )  # fmt: skip
            labels = list(S["names"])
            add(m, "mu", S["mu"], labels=labels)
            add(m, "mu_star", S["mu_star"], S["mu_star_conf"], labels=labels)
            add(m, "sigma", S["sigma"], labels=labels)
        elif m == "fast":
            S = fast.analyze(
                problem, Y, M=int(sweep.manifest.get("M", 4)), num_resamples=num_resamples,
                seed=seed,
            )  # fmt: skip
            add(m, "S1", S["S1"], S["S1_conf"])
            add(m, "ST", S["ST"], S["ST_conf"])
        elif m == "lhs":
            X = sweep.X.astype(float)
            # delta forbids some name suffixes (_raw, _conf, ...): give it neutral names
            plain = {"num_vars": len(names), "names": [f"x{j}" for j in range(len(names))],
                     "bounds": problem["bounds"]}  # fmt: skip
            S = delta.analyze(plain, X, Y, num_resamples=delta_resamples, seed=seed)
            add("delta", "delta", S["delta_raw"], S["delta_raw_conf"])
            add("delta", "S1", S["S1"], S["S1_conf"])
            S = rbd_fast.analyze(plain, X, Y, num_resamples=num_resamples, seed=seed)
            add("rbd_fast", "S1", S["S1"], S["S1_conf"])
        elif m == "grid":
            add(m, "S1", _grid_main_effects(sweep.X, Y))
    return rows


def _grid_main_effects(X: np.ndarray, Y: np.ndarray) -> list[float]:
    """Exact first-order variance shares over a full factorial (levels equally weighted)."""
    total = Y.var()
    out = []
    for j in range(X.shape[1]):
        level_means = pd.Series(Y).groupby(pd.Series(X[:, j]), sort=False).transform("mean")
        out.append(float(level_means.to_numpy().var() / total))
    return out


def _skip_reason(Y: np.ndarray) -> str | None:
    bad = int((~np.isfinite(Y)).sum())
    if bad:
        return f"{bad} sample points have non-finite replicate means"
    scale = max(1.0, float(np.abs(Y).max()))
    if float(np.ptp(Y)) <= 1e-12 * scale:
        return "constant over the design (zero variance)"
    return None


def _sobol_sizes(n_base: int) -> list[int]:
    """Nested base sizes for convergence: powers of two from max(16, N/64) up to N."""
    sizes, size = [], n_base
    while size >= max(16, n_base // 64) and size >= 1:
        sizes.append(size)
        if size % 2:
            break
        size //= 2
    return sorted(sizes) or [n_base]


@dataclass
class Analysis:
    """Everything :func:`analyze` writes, in memory."""

    sweep: Sweep
    indices: pd.DataFrame
    convergence: pd.DataFrame | None
    skipped: dict[tuple[str, str], str]  # (outcome, rule or contrast) -> why
    wins: pd.DataFrame  # outcome, rule (or "tie"), share, points
    maps: dict[str, pd.DataFrame]  # outcome -> selection map (grids over two parameters)


def compute(
    sweep: Sweep, *, num_resamples: int = 100, delta_resamples: int = DELTA_RESAMPLES
) -> Analysis:
    """Indices, convergence, win shares and selection maps of a loaded sweep."""
    rows: list[tuple] = []
    conv: list[tuple] = []
    skipped: dict[tuple[str, str], str] = {}
    ppb = points_per_base(sweep) if sweep.method == "sobol" else 0
    for outcome in sweep.outcomes:
        for target in sweep.targets:
            runs = sweep.runs(outcome, target)
            Y = runs.mean(axis=1)
            reason = _skip_reason(Y)
            if reason is None:
                try:
                    found = _salib(sweep, Y, num_resamples, delta_resamples)
                except Exception as exc:  # SALib on a degenerate design: report, carry on
                    found = []
                    reason = f"SALib failed: {type(exc).__name__}: {exc}"
                rows += [(m, target, outcome, p, i, v, c) for m, p, i, v, c in found]
                if ppb and reason is None:
                    n_base = sweep.n_points // ppb
                    for size in _sobol_sizes(n_base):
                        part = (
                            found
                            if size == n_base
                            else _salib(sweep, Y[: size * ppb], num_resamples, delta_resamples)
                        )
                        conv += [
                            (m, target, outcome, p, i, v, c, size)
                            for m, p, i, v, c in part
                            if i in ("S1", "ST")
                        ]
            if reason is not None:
                skipped[(outcome, target)] = reason
            share = noise_share(runs)
            if not math.isnan(share):
                rows.append((sweep.method, target, outcome, "", "noise_share", share, math.nan))
    indices = pd.DataFrame(rows, columns=list(COLUMNS))
    convergence = pd.DataFrame(conv, columns=[*COLUMNS, "n"]) if ppb else None
    wins = pd.concat([win_shares(sweep, o) for o in sweep.outcomes], ignore_index=True)
    maps = {}
    for outcome in sweep.outcomes:
        sel = selection_map(sweep, outcome)
        if sel is not None:
            maps[outcome] = sel
    return Analysis(sweep, indices, convergence, skipped, wins, maps)
