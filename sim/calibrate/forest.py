"""ABC random forests: model choice (Pudlo et al. 2016) and parameter posteriors (Raynal et
al. 2019), trained once on a reference table (:mod:`.reference`) and then evaluated at any
observed data set for the cost of a prediction (amortised inference).

**Model choice.** A classification forest learns the rule from the summary statistics of
the table's runs (the targets' statistics, plus the linear discriminant axes of them,
which Pudlo et al. add because forests split on one statistic at a time). At the observed
statistics the forest *selects* the rule with most votes. Votes are not probabilities:
the posterior probability of the selected rule is estimated, as Pudlo et al. do, by a
second (regression) forest trained to predict whether the first forest's out-of-bag vote
was wrong; P(selected | data) = 1 - that predicted error at the observed statistics. The
out-of-bag confusion matrix says how often each rule is taken for another over the whole
prior; the importances (mean decrease in impurity) which statistics the choice rests on.

**Parameters.** For each rule and parameter a regression forest on that rule's rows; its
posterior at the observed statistics is the table's values weighted by how often they share
a leaf with the observed point (Meinshausen's quantile regression forest weights), giving
the mean, quantiles and credible intervals.

Everything is seeded (``random_state``), single-threaded (``n_jobs=1``: the machine's cores
belong to the runs), and scikit-learn is imported inside functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .verdict import Answer, Verdict, verdict

if TYPE_CHECKING:
    from .config import Calibration

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
LEAF = 5
"""Minimum rows per leaf of the parameter forests (scikit-learn's regression default is 1;
a few rows per leaf make the quantile weights smoother)."""


@dataclass(frozen=True)
class Choice:
    """The forest's answer at one observed data set."""

    selected: str
    probability: float  # P(selected | data), Pudlo et al.'s regression estimate
    votes: dict[str, float]  # share of trees voting for each rule

    def probabilities(self) -> dict[str, float]:
        """P(selected) from the forest; the rest split between the other rules in
        proportion to their votes (only the selected rule's probability is estimated)."""
        others = {r: v for r, v in self.votes.items() if r != self.selected}
        total = sum(others.values())
        rest = 1.0 - self.probability
        out = {self.selected: self.probability}
        for r, v in others.items():
            out[r] = rest * (v / total if total > 0 else 1.0 / max(1, len(others)))
        return {r: out[r] for r in self.votes}


class Features:
    """The statistics a forest reads: the target columns, plus their linear discriminant
    axes when there are several rules and no missing values."""

    def __init__(self, table: pd.DataFrame, columns: Sequence[str], rules: Sequence[str]) -> None:
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        self.columns = list(columns)
        x = table[self.columns].to_numpy(float)
        self.lda = None
        if len(rules) > 1 and np.isfinite(x).all() and len(np.unique(table["rule"])) > 1:
            self.lda = LinearDiscriminantAnalysis(solver="svd").fit(x, table["rule"].to_numpy())
        self.names = self.columns + [f"LD{i + 1}" for i in range(self._axes)]

    @property
    def _axes(self) -> int:
        return 0 if self.lda is None else int(self.lda.scalings_.shape[1])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=float))
        if self.lda is None:
            return x
        return np.hstack([x, self.lda.transform(x)])


class ChoiceForest:
    """The model-choice forests of one reference table (see the module docstring)."""

    def __init__(
        self,
        table: pd.DataFrame,
        columns: Sequence[str],
        rules: Sequence[str],
        *,
        trees: int,
        seed: int,
    ) -> None:
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        self.rules = list(rules)
        self.features = Features(table, columns, rules)
        x = self.features(table[self.features.columns].to_numpy(float))
        y = table["rule"].to_numpy()
        self.classifier = RandomForestClassifier(
            n_estimators=trees, oob_score=True, random_state=seed, n_jobs=1
        ).fit(x, y)
        classes = list(self.classifier.classes_)
        oob = np.nan_to_num(self.classifier.oob_decision_function_, nan=0.0)
        self.oob_pred = np.asarray(classes)[oob.argmax(axis=1)]
        wrong = (self.oob_pred != y).astype(float)
        self.error = RandomForestRegressor(
            n_estimators=trees, random_state=seed + 1, n_jobs=1, min_samples_leaf=LEAF
        ).fit(x, wrong)
        self.truth = y
        self.columns = list(columns)

    @property
    def accuracy(self) -> float:
        """Out-of-bag accuracy over the reference table (the prior's mix of rules)."""
        return float(np.mean(self.oob_pred == self.truth))

    def confusion(self) -> pd.DataFrame:
        """Out-of-bag confusion matrix: rows the true rule, columns the rule chosen, counts."""
        frame = pd.crosstab(
            pd.Categorical(self.truth, self.rules), pd.Categorical(self.oob_pred, self.rules),
            dropna=False,
        )  # fmt: skip
        frame.index.name, frame.columns.name = "true", "chosen"
        return frame

    def importance(self) -> pd.Series:
        """Mean decrease in impurity of each statistic (and discriminant axis), sorted."""
        imp = pd.Series(self.classifier.feature_importances_, index=self.features.names)
        return imp.sort_values(ascending=False)

    def choose_many(self, x: np.ndarray) -> list[Choice]:
        """The choice at each row of ``x`` (columns in the order of ``columns``)."""
        z = self.features(x)
        votes = self.classifier.predict_proba(z)
        error = self.error.predict(z)
        classes = list(self.classifier.classes_)
        out = []
        for v, e in zip(votes, error, strict=True):
            share = {r: float(v[classes.index(r)]) if r in classes else 0.0 for r in self.rules}
            selected = max(self.rules, key=lambda r: share[r])
            out.append(Choice(selected, float(np.clip(1.0 - e, 0.0, 1.0)), share))
        return out

    def choose(self, observed: Mapping[str, float]) -> Choice:
        return self.choose_many(np.array([[observed[c] for c in self.columns]]))[0]


class ParamForest:
    """The posterior of one parameter under one rule: a regression forest on that rule's
    rows, read as quantile-regression weights (see the module docstring)."""

    def __init__(
        self, x: np.ndarray, theta: np.ndarray, features: Features, *, trees: int, seed: int
    ) -> None:
        from sklearn.ensemble import RandomForestRegressor

        self.features = features
        z = features(x)
        self.theta = np.asarray(theta, dtype=float)
        self.forest = RandomForestRegressor(
            n_estimators=trees, random_state=seed, n_jobs=1, min_samples_leaf=LEAF,
            max_features=1 / 3,
        ).fit(z, self.theta)  # fmt: skip
        self.leaves = self.forest.apply(z)  # (rows, trees)

    def weights(self, x: np.ndarray) -> np.ndarray:
        """(points, rows) weights of the table's values at each point (rows sum to 1)."""
        leaves = self.forest.apply(self.features(x))  # (points, trees)
        out = np.zeros((leaves.shape[0], self.leaves.shape[0]))
        for p, leaf in enumerate(leaves):
            same = self.leaves == leaf[None, :]
            out[p] = (same / np.maximum(same.sum(axis=0), 1)).sum(axis=1) / same.shape[1]
        return out

    def summary(self, x: np.ndarray) -> list[dict[str, float]]:
        """Mean and :data:`QUANTILES` of the posterior at each point."""
        from .report import weighted_quantiles  # the one used for ABC-SMC posteriors

        out = []
        for w in self.weights(x):
            q = weighted_quantiles(self.theta, w, QUANTILES)
            row = {"mean": float(w @ self.theta)}
            row.update({f"q{round(p * 100):02d}": v for p, v in zip(QUANTILES, q, strict=True)})
            out.append(row)
        return out

    def cdf(self, x: np.ndarray, truth: np.ndarray) -> np.ndarray:
        """The posterior's distribution function at each point's true value (ties count
        half): uniform over truths drawn from the prior when the posterior is calibrated
        (simulation-based calibration)."""
        w = self.weights(x)
        below = self.theta[None, :] < np.asarray(truth, dtype=float)[:, None]
        tie = self.theta[None, :] == np.asarray(truth, dtype=float)[:, None]
        return (w * below).sum(axis=1) + 0.5 * (w * tie).sum(axis=1)


def param_forests(
    table: pd.DataFrame,
    columns: Sequence[str],
    rules: Sequence[str],
    names: Sequence[str],
    *,
    trees: int,
    seed: int,
) -> dict[tuple[str, str], ParamForest]:
    """(rule, parameter) -> its :class:`ParamForest` (one rule's rows each)."""
    out: dict[tuple[str, str], Any] = {}
    for r, rule in enumerate(rules):
        rows = table[table["rule"] == rule]
        features = Features(rows, columns, [rule])
        x = rows[list(columns)].to_numpy(float)
        for j, name in enumerate(names):
            out[rule, name] = ParamForest(
                x, rows[name].to_numpy(float), features, trees=trees, seed=seed + 97 * r + j
            )
    return out


# ---- one table's forests, and their answers ------------------------------------------------


def fit(
    calib: Calibration,
    table: pd.DataFrame,
    *,
    params: bool = True,
) -> dict[str, Any]:
    """The forests of one table: ``choice``, ``alternative`` (another seed, half of the
    table: the stability check of the verdict), ``params`` ((rule, name) -> forest)."""
    keys, a = calib.targets.keys, calib.abc
    out: dict[str, Any] = {"choice": ChoiceForest(table, keys, calib.rules, trees=a.trees,
                                                  seed=a.seed)}  # fmt: skip
    if len(calib.rules) > 1:
        half = table.iloc[: len(table) // 2]
        out["alternative"] = ChoiceForest(half, keys, calib.rules, trees=a.trees,
                                          seed=a.seed + 7919)  # fmt: skip
    if params:
        out["params"] = param_forests(table, keys, calib.rules, calib.names, trees=a.trees,
                                      seed=a.seed + 1)  # fmt: skip
    return out


def judge(forests: dict[str, Any], x: np.ndarray) -> list[tuple[Answer, Verdict]]:
    """(answer, verdict) at each row of ``x`` (target columns in file order)."""
    choice: ChoiceForest = forests["choice"]
    main = choice.choose_many(x)
    alt = forests["alternative"].choose_many(x) if "alternative" in forests else [None] * len(x)
    confusion = choice.confusion()
    out = []
    for m, other in zip(main, alt, strict=True):
        answer = Answer(m.selected, m.probabilities())
        alternatives = [] if other is None else [Answer(other.selected, other.probabilities())]
        out.append((answer, verdict(answer, alternatives=alternatives, confusion=confusion)))
    return out


__all__ = [
    "QUANTILES",
    "Choice",
    "ChoiceForest",
    "Features",
    "ParamForest",
    "fit",
    "judge",
    "param_forests",
]
