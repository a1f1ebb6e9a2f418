"""The sign atlas: where in the plausible parameter space each contrast is positive,
negative or not distinguishable from zero, which parameters decide it, and readable rules.

Everything here works on a complete sweep (:class:`~sim.analysis.sweeps.Sweep`) whose
design samples the plausible space (Sobol' or LHS over a prior file) with paired
replicates (every rule on the same seeds at a point).

Sign of a point. For contrast ``a - b`` and an outcome, the paired differences
``d_r = y_a[r] - y_b[r]`` over the point's replicates give a Student-t interval of their
mean at ``level`` (default 95%). The point is *positive* when the interval lies above 0,
*negative* when below, else *unclear*. Replicates with identical differences (no noise)
give a point interval: the sign of the mean, unclear at exactly 0. A point with a
non-finite difference counts in no share (``n_points`` counts the finite ones).

Shares. ``positive = k / n_points`` with a Wilson score interval at the same level. The
design points are quasi-random (Sobol', LHS), which spreads them more evenly than
independent draws, so the binomial interval is conservative for the share of the
space (its volume under the prior).

Importance. A random forest classifies the sign from the parameters (scaled to [0, 1] by
the prior's bounds); a parameter's importance is the mean drop in out-of-fold accuracy
when its column is permuted (scikit-learn's permutation importance, K-fold: the forest
never scores points it was fitted on). A contrast whose sign never changes has importance
0 for every parameter: nothing decides it.

Rules. A shallow decision tree (``max_depth``) fitted on all points, read as one rule per
leaf ("positive when x > 412 and y <= 0.2"), with its K-fold out-of-sample accuracy and
the baseline accuracy of always predicting the most frequent sign.

May import what :mod:`sim.analysis` may; scikit-learn is imported lazily (the ``atlas``
extra).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import BadInput
from .sweeps import Sweep

SIGNS = ("positive", "negative", "unclear")
SIGNS_COLUMNS = (
    "contrast", "outcome", "positive", "negative", "unclear", "n_points",
    "positive_low", "positive_high", "negative_low", "negative_high", "unclear_low",
    "unclear_high", "direction",
)  # fmt: skip
"""Columns of ``signs.csv`` (``direction``: the outcome's, max, min or none)."""
IMPORTANCE_COLUMNS = ("contrast", "outcome", "parameter", "importance", "std", "rank")
RULES_COLUMNS = (
    "contrast", "outcome", "sign", "condition", "n_points", "purity", "accuracy",
    "baseline_accuracy",
)  # fmt: skip
FOLDS = 4
TREES = 100
REPEATS = 5


def _need_sklearn() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise BadInput.one(
            "sim atlas", "", "needs scikit-learn: pip install 'reform-diffusion-sim[atlas]'"
        ) from None


# --------------------------------------------------------------------------- signs


def point_signs(sweep: Sweep, outcome: str, contrast: str, *, level: float = 0.95) -> np.ndarray:
    """Per sample point: +1, -1, 0 (unclear) or -2 (a non-finite difference)."""
    from scipy import stats

    d = sweep.runs(outcome, contrast)  # n_points x replicates, paired differences
    finite = np.isfinite(d).all(axis=1)
    r = d.shape[1]
    mean = np.where(finite, np.where(finite[:, None], d, 0.0).mean(axis=1), 0.0)
    if r >= 2:
        sd = np.where(finite[:, None], d, 0.0).std(axis=1, ddof=1)
        half = stats.t.ppf(0.5 + level / 2, r - 1) * sd / math.sqrt(r)
    else:
        half = np.zeros(len(d))
    scale = np.maximum(np.abs(mean), 1.0)
    tiny = 1e-12 * scale  # differences at rounding level are zero
    sign = np.where(mean - half > tiny, 1, np.where(mean + half < -tiny, -1, 0))
    return np.where(finite, sign, -2).astype(np.int64)


def wilson(k: int, n: int, *, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of the share k / n (NaN for n = 0)."""
    from scipy import stats

    if n == 0:
        return math.nan, math.nan
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def sign_row(contrast: str, outcome: str, direction: str, signs: np.ndarray, level: float):
    """One row of ``signs.csv`` from the point signs."""
    ok = signs > -2
    n = int(ok.sum())
    row: dict[str, object] = {"contrast": contrast, "outcome": outcome, "direction": direction}
    counts = {"positive": int((signs == 1).sum()), "negative": int((signs == -1).sum())}
    counts["unclear"] = n - counts["positive"] - counts["negative"]
    for name in SIGNS:
        row[name] = counts[name] / n if n else math.nan
    row["n_points"] = n
    for name in SIGNS:
        row[f"{name}_low"], row[f"{name}_high"] = wilson(counts[name], n, level=level)
    return row


# --------------------------------------------------------------------------- who decides


def scaled(sweep: Sweep) -> np.ndarray:
    """The design in [0, 1] per parameter (by the sampled range), so that importances and
    trees do not depend on units."""
    X = np.asarray(sweep.X, dtype=float)
    lo, hi = X.min(axis=0), X.max(axis=0)
    return (X - lo) / np.where(hi > lo, hi - lo, 1.0)


def _folds(y: np.ndarray, seed: int):
    from sklearn.model_selection import KFold, StratifiedKFold

    counts = np.bincount(y - y.min())
    if counts[counts > 0].min() >= FOLDS:
        return StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
    return KFold(FOLDS, shuffle=True, random_state=seed).split(np.zeros(len(y)))


def importance(X: np.ndarray, y: np.ndarray, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Permutation importance (mean, s.d. over folds) of each column of ``X`` for a random
    forest classifying ``y``, scored out of fold: the drop in accuracy on the fold's
    points when the column is shuffled (``REPEATS`` shuffles, averaged). Zeros when ``y``
    takes one value. All shuffled copies of a fold are scored in one call (fast)."""
    from sklearn.ensemble import RandomForestClassifier

    n, d = X.shape
    if len(np.unique(y)) < 2 or n < 2 * FOLDS:
        return np.zeros(d), np.zeros(d)
    rng = np.random.default_rng(seed)
    per_fold = []
    for train, test in _folds(y, seed):
        forest = RandomForestClassifier(
            n_estimators=TREES, min_samples_leaf=2, random_state=seed, n_jobs=1
        ).fit(X[train], y[train])
        Xt, yt = X[test], y[test]
        base = float((forest.predict(Xt) == yt).mean())
        copies = np.repeat(Xt[None, None], d, axis=0).repeat(REPEATS, axis=1)  # d, R, m, d
        for j in range(d):
            for r in range(REPEATS):
                copies[j, r, :, j] = rng.permutation(Xt[:, j])
        hit = forest.predict(copies.reshape(-1, d)).reshape(d, REPEATS, len(yt)) == yt
        per_fold.append(base - hit.mean(axis=(1, 2)))
    values = np.array(per_fold)
    mean, sd = values.mean(axis=0), values.std(axis=0)
    return np.where(np.abs(mean) < 1e-12, 0.0, mean), sd


@dataclass(frozen=True)
class Leaf:
    sign: str
    condition: str  # "" for the whole space
    n_points: int
    purity: float  # share of the leaf's points with its sign


@dataclass(frozen=True)
class Tree:
    leaves: list[Leaf]
    accuracy: float  # K-fold out of sample
    baseline: float  # always the most frequent sign


def tree_rules(
    X: np.ndarray,
    y: np.ndarray,
    names: list[str],
    *,
    bounds: list[tuple[float, float]],
    max_depth: int,
    seed: int,
) -> Tree:
    """A shallow decision tree of the sign (``y`` in -1, 0, 1) read as rules, thresholds in
    the parameters' own units (``X`` is scaled; ``bounds`` undo it)."""
    from sklearn.tree import DecisionTreeClassifier

    label = {1: "positive", -1: "negative", 0: "unclear"}
    values, counts = np.unique(y, return_counts=True)
    baseline = float(counts.max() / len(y))
    if len(values) < 2:
        return Tree([Leaf(label[int(values[0])], "", len(y), 1.0)], 1.0, 1.0)
    leaf_size = max(3, len(y) // 20)
    make = lambda: DecisionTreeClassifier(  # noqa: E731
        max_depth=max_depth, min_samples_leaf=leaf_size, random_state=seed
    )
    hits = 0
    for train, test in _folds(y, seed):
        hits += int((make().fit(X[train], y[train]).predict(X[test]) == y[test]).sum())
    fitted = make().fit(X, y)
    t = fitted.tree_

    def walk(node: int, limits: dict[int, list[float]]) -> list[tuple[str, dict, int, float]]:
        """Leaves under ``node`` as (sign, limits, points, purity); two sibling leaves of
        the same sign are one rule (their parent's)."""
        if t.children_left[node] < 0:
            dist = t.value[node][0]
            k = int(np.argmax(dist))
            sign = label[int(fitted.classes_[k])]
            return [(sign, limits, int(t.n_node_samples[node]), float(dist[k] / dist.sum()))]
        j, cut = int(t.feature[node]), float(t.threshold[node])
        lo, hi = limits.get(j, [-math.inf, math.inf])
        left = walk(int(t.children_left[node]), {**limits, j: [lo, min(hi, cut)]})
        right = walk(int(t.children_right[node]), {**limits, j: [max(lo, cut), hi]})
        if len(left) == len(right) == 1 and left[0][0] == right[0][0]:
            (sign, _, n1, p1), (_, _, n2, p2) = left[0], right[0]
            return [(sign, limits, n1 + n2, (n1 * p1 + n2 * p2) / (n1 + n2))]
        return left + right

    leaves = [
        Leaf(sign, _condition(limits, names, bounds), n, purity)
        for sign, limits, n, purity in walk(0, {})
    ]
    return Tree(leaves, hits / len(y), baseline)


def _condition(
    limits: dict[int, list[float]], names: list[str], bounds: list[tuple[float, float]]
) -> str:
    parts = []
    for j in sorted(limits):
        lo, hi = limits[j]
        a, b = bounds[j]

        def unit(v: float, a: float = a, b: float = b) -> str:
            return f"{a + v * (b - a):.3g}"

        if math.isfinite(lo) and math.isfinite(hi):
            parts.append(f"{unit(lo)} < {names[j]} <= {unit(hi)}")
        elif math.isfinite(lo):
            parts.append(f"{names[j]} > {unit(lo)}")
        else:
            parts.append(f"{names[j]} <= {unit(hi)}")
    return " and ".join(parts)


# --------------------------------------------------------------------------- everything


@dataclass
class Atlas:
    """The atlas of one sweep: the tables its files hold."""

    signs: pd.DataFrame
    importance: pd.DataFrame
    rules: pd.DataFrame
    point_signs: dict[tuple[str, str], np.ndarray]  # (contrast, outcome) -> per point
    level: float


def compute_atlas(
    sweep: Sweep, *, level: float = 0.95, max_depth: int = 2, directions: dict[str, str]
) -> Atlas:
    """Signs, importances and rules of every contrast and outcome of ``sweep``."""
    _need_sklearn()
    if not sweep.contrasts:
        raise BadInput.one(str(sweep.path), "contrasts", "an atlas needs at least one contrast")
    X = scaled(sweep)
    Xf = np.asarray(sweep.X, dtype=float)
    bounds = list(zip(Xf.min(axis=0), Xf.max(axis=0), strict=True))
    seed = sweep.seed
    signs, imp, rules, per_point = [], [], [], {}
    for label, _, _ in sweep.contrasts:
        for outcome in sweep.outcomes:
            s = point_signs(sweep, outcome, label, level=level)
            per_point[label, outcome] = s
            signs.append(sign_row(label, outcome, directions.get(outcome, "none"), s, level))
            ok = s > -2
            if not ok.any():
                continue
            mean, sd = importance(X[ok], s[ok], seed=seed)
            order = np.argsort(-mean, kind="stable")
            rank = np.empty(len(order), np.int64)
            rank[order] = np.arange(1, len(order) + 1)
            for j, name in enumerate(sweep.parameters):
                imp.append((label, outcome, name, float(mean[j]), float(sd[j]), int(rank[j])))
            tree = tree_rules(
                X[ok], s[ok], sweep.parameters, bounds=bounds, max_depth=max_depth, seed=seed
            )
            for leaf in tree.leaves:
                rules.append((label, outcome, leaf.sign, leaf.condition, leaf.n_points,
                              leaf.purity, tree.accuracy, tree.baseline))  # fmt: skip
    return Atlas(
        pd.DataFrame(signs, columns=list(SIGNS_COLUMNS)),
        pd.DataFrame(imp, columns=list(IMPORTANCE_COLUMNS)),
        pd.DataFrame(rules, columns=list(RULES_COLUMNS)),
        per_point,
        level,
    )
