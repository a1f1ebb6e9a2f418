"""Analysing a finished sweep folder: sensitivity indices, convergence, wins, figures, report.

:func:`analyze` reads ``DIR/manifest.json`` and the columns it needs from
``DIR/runs.parquet`` and writes, each atomically (:mod:`sim.io`):

- ``DIR/indices.csv`` — tidy: ``method, rule, outcome, parameter, index, value, conf``;
- ``DIR/convergence.csv`` — Sobol' designs only: the same columns plus ``n``;
- ``DIR/figures/*.png`` — see :mod:`sim.analysis_figures`;
- ``DIR/report.md`` — the short summary to read first (written last).

What is analysed
----------------
Every analysis uses *replicate means per sample point*: the runs of one rule are put in
design order (``sample_id``, then ``replicate``) whatever the row order of the Parquet
files, and averaged over replicates. A contrast ``"a - b"`` is, per sample point, the mean
over replicates of ``a`` minus that of ``b``. The ``rule`` column of the outputs holds the
rule or the contrast label.

- sobol: ``S1``, ``ST`` (and ``S2`` with second order; parameter ``"a:b"``).
- morris: ``mu``, ``mu_star`` (conf = ``mu_star_conf``), ``sigma`` (SALib conventions:
  elementary effects are output differences divided by the step in the unit hypercube, so
  a linear term ``c·x`` with ``x`` in ``[lo, hi]`` has ``mu_star = |c|·(hi - lo)``).
- lhs: method ``delta`` gives ``delta`` and ``S1`` from ``SALib.analyze.delta``; method
  ``rbd_fast`` gives ``S1``.
- fast: ``S1``, ``ST`` (SALib warns that its FAST intervals are indicative only).
- grid: no SALib method applies. Method ``grid``, index ``S1``: the exact first-order
  variance share of each parameter over the full factorial with equally weighted levels,
  ``Var_levels(E[Y | level]) / Var(Y)`` (population variances, no interval).
- groups: SALib reports per group; ``parameter`` then holds the group name.
- ``noise_share`` (replicates >= 2): mean over sample points of the within-point variance
  of the runs (ddof=1) divided by the variance of all runs of that rule (ddof=1).

Decisions where the contract left room (documented here, the report repeats the key ones)
------------------------------------------------------------------------------------------
- Contrast noise share: computed from the *paired* per-replicate differences
  ``y_a[r] - y_b[r]`` (replicate ``r`` uses the same seed under every rule), with the same
  formula as for a rule.
- Delta: SALib 1.6 returns three variants (balanced, raw, step). ``delta`` here is
  ``delta_raw`` — the Borgonovo index under the sampled input distribution; "balanced"
  re-weights the sample towards equal-width bins of each input and "step" contrasts
  ``x <= 0`` with ``x > 0``, neither of which is the usual index. Delta is by far the most
  expensive estimator (kernel density estimates per bootstrap resample), so it uses
  ``delta_resamples`` (default 20) bootstrap resamples; every other method uses
  ``num_resamples`` (default 100).
- Bootstrap seed: ``1 + manifest seed`` (SALib ignores a seed of 0 in ``sobol.analyze``).
  ``delta`` and ``fast`` seed NumPy's global generator; its state is restored afterwards.
- Skipped analyses: when the replicate means of an outcome are constant for a rule or
  contrast (range <= 1e-12 of their magnitude) or contain non-finite values, no SALib
  indices are computed and no rows are written for them; the report lists every skip.
  The noise share is still written when its denominator is positive and finite.
- Convergence: ``S1`` and ``ST`` (not ``S2``) on the nested prefixes of the Sobol' design,
  ``n`` = base sample size ``N'`` for the powers of two from ``max(16, N/64)`` up to ``N``;
  the row ``n = N`` equals the one in ``indices.csv``. Other methods have no convergence
  file (morris, fast and grid designs do not nest; lhs prefixes are not Latin hypercubes).
- Wins: at each sample point, the rule with the best replicate mean wins (best per
  ``higher_is_better``; an outcome missing from it counts as higher-is-better and the
  report says so). Best means equal to 1e-9 relative (rounding in the replicate means)
  count as a tie; ties are a separate share.
- Selection maps (grid over exactly two parameters, two rules or more): per cell the
  best rule and its margin over the runner-up in outcome units.
- An incomplete sweep (status other than ``"complete"``) is refused: the analysis of a
  partial design would be biased (Sobol' and Morris need every point of a base sample).
  So is a shard folder (manifest key ``shard``): merge the shards first. A complete sweep
  must hold every (sample_id, replicate, rule) exactly once, else :class:`BadInput`.
- A SALib call that raises on a degenerate design (e.g. RBD-FAST with very few points) is
  recorded as a skip with SALib's message rather than aborting the whole analysis.
- The report adds, for Sobol' designs with replicates, the *ST noise floor*: replicate
  noise left in the replicate means (variance: within-point variance / R) enters every
  ST estimate (``0.5 E[(y_A - y_AB)^2]``) but not S1 on average; floor = that variance /
  the variance of the replicate means. Report only, not in ``indices.csv``.
- Grid designs: main effects (above); win shares for any number of parameters.

Cost (2-core machine, shared): a Sobol' sweep of 57,344 runs (N = 1024, 12 parameters,
2 replicates, 2 rules + 1 contrast, 10 outcomes) analyses in ~23 s: reading 0.6 s, SALib
with convergence 6-8 s, 30 figures ~16 s; peak memory ~300 MB. SALib's delta is slow
(kernel densities per bootstrap resample): an LHS of 2,000 points and 12 parameters takes
~4-6 s per outcome and rule or contrast.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import BadInput
from .io import write_csv, write_text

__all__ = [
    "COLUMNS",
    "DELTA_RESAMPLES",
    "Analysis",
    "Sweep",
    "analyze",
    "compute",
    "load_sweep",
    "noise_share",
    "selection_map",
    "win_shares",
]

COLUMNS = ("method", "rule", "outcome", "parameter", "index", "value", "conf")
"""Columns of ``indices.csv`` (``convergence.csv`` adds ``n``)."""

DELTA_RESAMPLES = 20
"""Bootstrap resamples for SALib's delta (the slow estimator)."""

METHODS = ("sobol", "morris", "lhs", "grid", "fast")
TIE = "tie"
TIE_RTOL = 1e-9
"""Best means closer than this (relative) count as a tie."""


# --------------------------------------------------------------------------- loading


@dataclass
class Sweep:
    """A complete sweep folder, read and checked: the design and the outcome columns."""

    path: Path
    manifest: dict[str, Any]
    method: str
    problem: dict[str, Any]
    parameters: list[str]
    rules: list[str]
    contrasts: list[tuple[str, str, str]]  # (label, a, b)
    outcomes: list[str]
    higher_is_better: dict[str, bool]
    replicates: int
    n_points: int
    n_runs: int
    X: np.ndarray  # n_points x parameters, design order (object for grids with strings)
    columns: dict[str, np.ndarray] = field(repr=False)  # outcome -> values of every row
    order: dict[str, np.ndarray] = field(repr=False)  # rule -> rows in design order

    @property
    def targets(self) -> list[str]:
        """Rules, then contrast labels: the values of the ``rule`` column of the outputs."""
        return self.rules + [c[0] for c in self.contrasts]

    @property
    def factors(self) -> list[str]:
        """Names SALib reports on: the groups (in first-appearance order) or the parameters."""
        groups = self.problem.get("groups")
        return list(dict.fromkeys(groups)) if groups else list(self.parameters)

    @property
    def seed(self) -> int:
        """Seed of every bootstrap: never 0 (SALib's sobol would then ignore it)."""
        return 1 + int(self.manifest.get("seed", 0)) % (2**31 - 2)

    def runs(self, outcome: str, target: str) -> np.ndarray:
        """Outcome of every run, ``n_points x replicates`` in design order; for a contrast
        the paired difference of the two rules' runs (replicate r minus replicate r)."""
        for label, a, b in self.contrasts:
            if label == target:
                return self.runs(outcome, a) - self.runs(outcome, b)
        values = self.columns[outcome][self.order[target]]
        return values.reshape(self.n_points, self.replicates)

    def means(self, outcome: str, target: str) -> np.ndarray:
        """Replicate means per sample point, design order."""
        return self.runs(outcome, target).mean(axis=1)


def load_sweep(path: Path) -> Sweep:
    """Read and check a sweep folder; :class:`BadInput` names whatever is wrong."""
    path = Path(path)
    where = str(path)
    if not path.is_dir():
        raise BadInput.one(where, "", "not a folder (expected a sweep folder from `sim sweep`)")
    mpath = path / "manifest.json"
    if not mpath.is_file():
        raise BadInput.one(where, "", "no manifest.json: not a sweep folder (run `sim sweep`)")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput.one(str(mpath), "", f"cannot read: {exc}") from None
    if not isinstance(manifest, dict):
        raise BadInput.one(str(mpath), "", "expected a JSON object")
    msource = str(mpath)
    if manifest.get("format") != 1:
        raise BadInput.one(msource, "format", f"unsupported format {manifest.get('format')!r}")
    if manifest.get("shard") is not None:
        i, k = manifest["shard"]
        raise BadInput.one(
            msource,
            "shard",
            f"this is shard {i} of {k} of a sharded sweep; combine the shards with "
            f"`sim merge {path.parent.parent}` and analyse that folder",
        )
    if manifest.get("status") != "complete":
        raise BadInput.one(
            msource,
            "status",
            f"the sweep is not complete (status {manifest.get('status')!r}); finish it with "
            f"`sim sweep <experiment> --out {path} --resume` and analyse it again",
        )
    missing = [
        k
        for k in ("method", "parameters", "problem", "rules", "outcomes", "replicates", "n_points")
        if k not in manifest
    ]
    if missing:
        raise BadInput.one(msource, "", f"missing keys: {', '.join(missing)}")
    method = manifest["method"]
    if method not in METHODS:
        raise BadInput.one(msource, "method", f"unknown method {method!r}")
    parameters = [str(p) for p in manifest["parameters"]]
    rules = [str(r) for r in manifest["rules"]]
    outcomes = [str(o) for o in manifest["outcomes"]]
    replicates, n_points = int(manifest["replicates"]), int(manifest["n_points"])
    if not rules or not parameters or replicates < 1 or n_points < 1:
        raise BadInput.one(msource, "", "no rules, parameters, replicates or points")
    contrasts = []
    for label in manifest.get("contrasts") or []:
        a, sep, b = (s.strip() for s in str(label).partition(" - "))
        if not sep or a not in rules or b not in rules:
            raise BadInput.one(msource, "contrasts", f"{label!r} is not 'a - b' over {rules}")
        contrasts.append((str(label), a, b))
    problem = copy.deepcopy(manifest["problem"])
    if problem.get("names") != parameters and not problem.get("groups"):
        raise BadInput.one(msource, "problem", "problem names differ from parameters")

    runs_path = path / "runs.parquet"
    frame = _read_runs(runs_path, parameters, outcomes)
    rsource = str(runs_path)
    codes = pd.Categorical(frame["rule"].astype(object), categories=rules).codes
    if (codes < 0).any():
        extra = sorted(set(frame["rule"].astype(str)) - set(rules))
        raise BadInput.one(rsource, "rule", f"rules not in the manifest: {', '.join(extra)}")
    sid = frame["sample_id"].to_numpy(np.int64)
    rep = frame["replicate"].to_numpy(np.int64)
    if sid.min() < 0 or sid.max() >= n_points or rep.min() < 0 or rep.max() >= replicates:
        raise BadInput.one(
            rsource, "", f"sample_id or replicate outside 0..{n_points - 1} / 0..{replicates - 1}"
        )
    cells = n_points * replicates
    order = {}
    for k, rule in enumerate(rules):
        rows = np.flatnonzero(codes == k)
        pos = sid[rows] * replicates + rep[rows]
        counts = np.bincount(pos, minlength=cells)
        if (counts != 1).any():
            raise BadInput.one(
                rsource,
                "",
                f"rule {rule!r}: {(counts == 0).sum()} (sample_id, replicate) pairs missing and "
                f"{(counts > 1).sum()} duplicated; a complete sweep has each exactly once",
            )
        ordered = np.empty(cells, dtype=np.int64)
        ordered[pos] = rows
        order[rule] = ordered
    first = order[rules[0]][::replicates]  # replicate 0 of every point, design order
    xs = [frame[p].to_numpy()[first] for p in parameters]
    if all(np.asarray(x).dtype.kind in "fiub" for x in xs):
        X = np.column_stack(xs).astype(float)
    else:  # a grid with string levels: keep each column's own values
        X = np.empty((n_points, len(xs)), dtype=object)
        for j, x in enumerate(xs):
            X[:, j] = x
    columns = {o: frame[o].to_numpy(np.float64, na_value=np.nan) for o in outcomes}
    hib = {o: bool(v) for o, v in (manifest.get("higher_is_better") or {}).items()}
    sweep = Sweep(
        path, manifest, method, problem, parameters, rules, contrasts, outcomes, hib,
        replicates, n_points, len(frame), X, columns, order,
    )  # fmt: skip
    _check_shape(sweep, msource)
    return sweep


def _read_runs(runs_path: Path, parameters: list[str], outcomes: list[str]) -> pd.DataFrame:
    import pyarrow.dataset as ds

    where = str(runs_path)
    if not runs_path.exists():
        raise BadInput.one(where, "", "no runs: the sweep has not written any")
    try:
        schema = ds.dataset(runs_path, format="parquet").schema
    except Exception as exc:  # unreadable or corrupt Parquet: the user's folder to fix
        raise BadInput.one(where, "", f"cannot read: {type(exc).__name__}: {exc}") from None
    if not schema.names:
        raise BadInput.one(where, "", "no runs: the dataset is empty")
    wanted = list(dict.fromkeys(["sample_id", "replicate", "rule", *parameters, *outcomes]))
    absent = [c for c in wanted if c not in schema.names]
    if absent:
        raise BadInput.one(where, "", f"missing columns: {', '.join(absent)}")
    frame = pd.read_parquet(runs_path, columns=wanted)
    if frame.empty:
        raise BadInput.one(where, "", "no runs: the dataset is empty")
    return frame


def _check_shape(sweep: Sweep, source: str) -> None:
    d = len(sweep.factors)
    per = {"sobol": _points_per_base(sweep), "fast": d, "morris": d + 1}.get(sweep.method)
    if per and sweep.n_points % per:
        raise BadInput.one(
            source,
            "n_points",
            f"{sweep.n_points} points do not make whole {sweep.method} blocks of {per}",
        )


def _points_per_base(sweep: Sweep) -> int:
    d = len(sweep.factors)
    fallback = 2 * d + 2 if sweep.manifest.get("second_order") else d + 2
    return int(sweep.manifest.get("points_per_base") or fallback)


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
    ppb = _points_per_base(sweep) if sweep.method == "sobol" else 0
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


# --------------------------------------------------------------------------- report


RANK_BY = {"sobol": ("sobol", "ST"), "fast": ("fast", "ST"), "morris": ("morris", "mu_star"),
           "lhs": ("delta", "delta"), "grid": ("grid", "S1")}  # fmt: skip
METHOD_TEXT = {
    "sobol": "Sobol' (Saltelli scheme, SALib sobol sampler)",
    "morris": "Morris elementary effects",
    "lhs": "Latin hypercube (analysed with delta and RBD-FAST)",
    "fast": "extended FAST",
    "grid": "full factorial grid",
}
Figures = list[tuple[str, str, str]]
"""(outcome, kind, file name) of each figure drawn, in drawing order."""


def _num(v: float) -> str:
    """Three significant digits (outcome units)."""
    if v is None or not math.isfinite(v):
        return "–"
    return f"{v:.3g}"


def _share(v: float) -> str:
    """Two decimals (indices and shares, dimensionless); no negative zero."""
    if v is None or not math.isfinite(v):
        return "–"
    return f"{round(v, 2) + 0.0:.2f}"


def _with_conf(v: float, c: float, fmt=_share) -> str:
    return fmt(v) if not math.isfinite(c) else f"{fmt(v)} ± {fmt(c)}"


def _design_lines(sweep: Sweep) -> list[str]:
    m = sweep.manifest
    reps, nr = sweep.replicates, len(sweep.rules)
    lines = [f"- Method: {METHOD_TEXT[sweep.method]}."]
    if sweep.method == "sobol":
        order = (
            "first, second and total order" if m.get("second_order") else "first and total order"
        )
        lines.append(
            f"- N = {sweep.n_points // _points_per_base(sweep)} base samples × "
            f"{_points_per_base(sweep)} points per base sample ({order})."
        )
    elif sweep.method == "morris":
        lines.append(
            f"- {sweep.n_points // (len(sweep.factors) + 1)} trajectories, "
            f"{m.get('num_levels', 4)} levels."
        )
    elif sweep.method == "fast":
        lines.append(f"- n = {m.get('n')} per parameter, interference factor M = {m.get('M')}.")
    lines.append(
        f"- {sweep.n_points:,} sample points × {reps} replicate{'s' * (reps > 1)} × {nr} "
        f"rule{'s' * (nr > 1)} = {sweep.n_runs:,} runs; seed {m.get('seed')}."
    )
    lines.append(f"- Rules: {', '.join(sweep.rules)}.")
    if sweep.contrasts:
        lines.append(f"- Contrasts: {', '.join(c[0] for c in sweep.contrasts)}.")
    lines += ["", "| parameter | range / distribution |", "|---|---|"]
    bounds = sweep.problem.get("bounds") or []
    dists = sweep.problem.get("dists") or ["unif"] * len(bounds)
    groups = sweep.problem.get("groups") or [None] * len(sweep.parameters)
    for j, name in enumerate(sweep.parameters):
        if sweep.method == "grid":
            levels = grid_axis(sweep, j)[0]
            text = ", ".join(levels[:12]) + (" …" if len(levels) > 12 else "")
            text = f"grid: {text} ({len(levels)} values)"
        else:
            text = _dist_text(dists[j], bounds[j])
        if groups[j] is not None and groups[j] != name:
            text += f" (group {groups[j]})"
        lines.append(f"| `{name}` | {text} |")
    return lines


def _dist_text(dist: str, b: list[float]) -> str:
    f = _num
    return {
        "unif": lambda: f"uniform [{f(b[0])}, {f(b[1])}]",
        "triang": lambda: f"triangular [{f(b[0])}, {f(b[1])}], peak at {f(b[2])} of the width",
        "norm": lambda: f"normal, mean {f(b[0])}, sd {f(b[1])}",
        "truncnorm": lambda: (
            f"normal truncated to [{f(b[0])}, {f(b[1])}], mean {f(b[2])}, sd {f(b[3])}"
        ),
        "lognorm": lambda: f"lognormal, log-mean {f(b[0])}, log-sd {f(b[1])}",
    }.get(dist, lambda: f"{dist} {b}")()


def _lookup(indices: pd.DataFrame) -> dict[tuple, tuple[float, float]]:
    """(rule, outcome, method, index, parameter) -> (value, conf)."""
    return {
        (r.rule, r.outcome, r.method, r.index, r.parameter): (r.value, r.conf)
        for r in indices.itertuples(index=False)
    }


def _top_text(a: Analysis, get: dict, outcome: str, target: str, top: int = 3) -> str:
    sweep = a.sweep
    method, index = RANK_BY[sweep.method]
    ranked = [
        (p, get[(target, outcome, method, index, p)])
        for p in sweep.factors
        if (target, outcome, method, index, p) in get
    ]
    fmt = _share
    if sweep.method == "morris":  # outcome units: show rounding residue (1e-17) as 0
        scale = max((abs(v) for _, (v, _) in ranked if math.isfinite(v)), default=0.0)

        def fmt(v: float) -> str:
            return _num(0.0 if abs(v) <= 1e-9 * scale else v)

    ranked.sort(key=lambda t: -t[1][0] if math.isfinite(t[1][0]) else math.inf)
    parts = []
    for p, (v, c) in ranked[:top]:
        extra = None
        if sweep.method in ("sobol", "fast"):
            s1 = get.get((target, outcome, method, "S1", p))
            extra = f"S1 {_with_conf(*s1)}" if s1 else None
        elif sweep.method == "morris":
            sigma = get.get((target, outcome, method, "sigma", p))
            extra = f"σ {fmt(sigma[0])}" if sigma else None
        elif sweep.method == "lhs":
            s1 = get.get((target, outcome, "rbd_fast", "S1", p))
            extra = f"S1 {_with_conf(*s1)}" if s1 else None
        parts.append(f"`{p}` {_with_conf(v, c, fmt)}" + (f" ({extra})" if extra else ""))
    return "; ".join(parts)


def _st_floor(sweep: Sweep, outcome: str, target: str) -> float:
    """What replicate noise left in the replicate means adds to every Sobol' ST: the
    variance of that noise (within-point variance / R) over the variance of the means."""
    runs = sweep.runs(outcome, target)
    if runs.shape[1] < 2 or not np.isfinite(runs).all():
        return math.nan
    means = runs.mean(axis=1)
    total = means.var()
    if not total > 0:
        return math.nan
    return float(runs.var(axis=1, ddof=1).mean() / runs.shape[1] / total)


def _convergence_text(a: Analysis, outcome: str) -> str | None:
    conv = a.convergence
    if conv is None or conv.empty:
        return None
    sub = conv[(conv.outcome == outcome) & (conv["index"] == "ST")]
    sizes = sorted(sub.n.unique())
    if len(sizes) < 2:
        return None
    last, prev = sub[sub.n == sizes[-1]], sub[sub.n == sizes[-2]]
    merged = last.merge(prev, on=["rule", "parameter"], suffixes=("", "_prev"))
    if merged.empty:
        return None
    change = (merged.value - merged.value_prev).abs()
    k = int(change.to_numpy().argmax())
    row = merged.iloc[k]
    return (
        f"Convergence: the largest change of any ST from N = {sizes[-2]} to N = {sizes[-1]} "
        f"is {_share(float(change.iloc[k]))} (`{row.parameter}`, {row.rule})."
    )


def render_report(a: Analysis, figures: Figures) -> str:
    """The text of report.md."""
    sweep = a.sweep
    get = _lookup(a.indices)
    method = RANK_BY[sweep.method][0]
    sums = sweep.method in ("sobol", "fast")
    floor = sweep.method == "sobol" and sweep.replicates >= 2
    out = [f"# Sweep analysis: {sweep.path.name}", ""]
    if sweep.manifest.get("fingerprint"):
        out += [f"Experiment fingerprint `{sweep.manifest['fingerprint']}`.", ""]
    out += ["## Design", "", *_design_lines(sweep), ""]
    out += ["## Sensitivity", "", _ranking_sentence(sweep), ""]
    tag = {True: "higher is better", False: "lower is better", None: "direction not given"}
    for outcome in sweep.outcomes:
        out += [f"### {outcome} ({tag[sweep.higher_is_better.get(outcome)]})", ""]
        head = ["rule", "top parameters"]
        head += ["ΣS1"] * sums + ["ST noise floor"] * floor + ["noise share"]
        out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for target in sweep.targets:
            reason = a.skipped.get((outcome, target))
            text = f"not analysed: {reason}" if reason else _top_text(a, get, outcome, target)
            cells = [target, text]
            if sums:
                s1 = [
                    get[(target, outcome, method, "S1", p)][0]
                    for p in sweep.factors
                    if (target, outcome, method, "S1", p) in get
                ]
                cells.append(_share(float(np.sum(s1))) if s1 and not reason else "–")
            if floor:
                cells.append(_share(_st_floor(sweep, outcome, target)) if not reason else "–")
            share = get.get((target, outcome, sweep.method, "noise_share", ""))
            cells.append(_share(share[0]) if share else "–")
            out.append("| " + " | ".join(cells) + " |")
        conv = _convergence_text(a, outcome)
        if conv:
            out += ["", conv]
        links = [f"[{kind}](figures/{name})" for o, kind, name in figures if o == outcome]
        if links:
            out += ["", "Figures: " + ", ".join(links) + "."]
        out.append("")
    out += _wins_section(a, {name for _, _, name in figures})
    missing = [o for o in sweep.outcomes if o not in sweep.higher_is_better]
    if missing and len(sweep.rules) > 1:
        out += [f"Not in higher_is_better, counted as higher-is-better: {', '.join(missing)}.", ""]
    out += _notes_section(a)
    return "\n".join(out)


def _ranking_sentence(sweep: Sweep) -> str:
    conf = "± is the half-width of the 95% bootstrap interval"
    text = {
        "sobol": f"Parameters ranked by the total-order index ST ({conf}); S1 in brackets. "
        "ΣS1 is the share of variance explained by parameters acting alone.",
        "fast": f"Parameters ranked by the total-order index ST ({conf}; SALib calls FAST "
        "intervals indicative only); S1 in brackets.",
        "morris": f"Parameters ranked by mu* ({conf}), in outcome units per full parameter "
        "range; σ (spread of the elementary effects: interactions or non-linearity) in "
        "brackets.",
        "lhs": f"Parameters ranked by the delta index ({conf}; SALib's delta_raw); the "
        "RBD-FAST first-order index S1 in brackets.",
        "grid": "Parameters ranked by their main-effect variance share over the grid "
        "(exact first-order index for equally weighted levels; no interval).",
    }[sweep.method]
    text += " All indices use replicate means per sample point; contrasts are differences of "
    text += "replicate means."
    if sweep.replicates >= 2:
        text += (
            " Noise share: mean within-point variance of the runs / variance of all runs (for "
            "contrasts, of the paired per-replicate differences)."
        )
        if sweep.method == "sobol":
            text += (
                " Replicate noise left in the means adds about the ST noise floor to every "
                "ST (and nothing to S1 on average): an ST near the floor is indistinguishable "
                "from noise."
            )
    elif sweep.method == "sobol":
        text += (
            " With one replicate, run-to-run noise cannot be separated from parameter "
            "effects: it adds to every ST."
        )
    return text


def _wins_section(a: Analysis, drawn: set[str]) -> list[str]:
    sweep = a.sweep
    if len(sweep.rules) < 2:
        return []
    out = ["## Where each rule wins", ""]
    out.append(
        "Share of sample points at which each rule has the best replicate mean (tie: equal "
        "best means). Where margins are within replicate noise the winner is uncertain."
    )
    out += ["", "| outcome | better | " + " | ".join([*sweep.rules, TIE]) + " |"]
    out.append("|---|---|" + "---|" * (len(sweep.rules) + 1))
    for outcome in sweep.outcomes:
        sub = a.wins[a.wins.outcome == outcome].set_index("rule")
        better = "higher" if sweep.higher_is_better.get(outcome, True) else "lower"
        cells = [f"{sub.share[r]:.1%}" if r in sub.index else "–" for r in [*sweep.rules, TIE]]
        out.append(f"| {outcome} | {better} | " + " | ".join(cells) + " |")
    out.append("")
    for outcome, sel in a.maps.items():
        out += _map_table(sweep, outcome, sel, drawn)
    return out


def _map_table(sweep: Sweep, outcome: str, sel: pd.DataFrame, drawn: set[str]) -> list[str]:
    p, q = sweep.parameters
    (xs, xpos), (ys, ypos) = grid_axis(sweep, 0), grid_axis(sweep, 1)
    out = [f"### Selection map: {outcome}", ""]
    name = figure_name("selection", outcome)
    if name in drawn:
        out += [f"![best rule on {outcome}](figures/{name})", ""]
    if len(xs) > 12 or len(ys) > 30:
        return [*out, "(Too many cells for a table; see the figure.)", ""]
    cell = dict(zip(zip(xpos, ypos, strict=True), zip(sel.best, sel.margin, strict=True),
                    strict=True))  # fmt: skip
    out += [f"Best rule (margin over the runner-up) by `{q}` (rows) and `{p}` (columns).", ""]
    out.append(f"| {q} \\ {p} | " + " | ".join(xs) + " |")
    out.append("|---|" + "---|" * len(xs))
    for k, y in enumerate(ys):
        row = []
        for i in range(len(xs)):
            best, margin = cell.get((i, k), ("", math.nan))
            row.append(f"{best} ({_num(margin)})" if best else "")
        out.append(f"| {y} | " + " | ".join(row) + " |")
    return [*out, ""]


def _notes_section(a: Analysis) -> list[str]:
    if not a.skipped:
        return []
    out = ["## Not analysed", ""]
    out += [f"- {o}, {t}: {why}." for (o, t), why in a.skipped.items()]
    return [*out, ""]


def figure_name(kind: str, outcome: str) -> str:
    """Stable file name of a figure: ``<kind>_<outcome>.png`` with unsafe characters
    replaced."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in outcome)
    return f"{kind}_{safe}.png"


# --------------------------------------------------------------------------- entry point


def analyze(
    dir: Path,
    *,
    figures: bool = True,
    num_resamples: int = 100,
    delta_resamples: int = DELTA_RESAMPLES,
) -> None:
    """Analyse the complete sweep in ``dir``: write indices.csv, convergence.csv (Sobol'),
    figures/*.png and report.md (last). Raises :class:`BadInput` for a folder that is not a
    complete sweep."""
    sweep = load_sweep(Path(dir))
    result = compute(sweep, num_resamples=num_resamples, delta_resamples=delta_resamples)
    folder = sweep.path
    write_csv(folder / "indices.csv", result.indices)
    if result.convergence is not None:
        write_csv(folder / "convergence.csv", result.convergence)
    drawn: Figures = []
    if figures:
        from .analysis_figures import draw_all

        drawn = draw_all(result, folder / "figures")
    write_text(folder / "report.md", render_report(result, drawn))
