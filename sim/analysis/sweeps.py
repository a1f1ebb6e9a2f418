"""Analysing a finished sweep folder: sensitivity indices, convergence, wins, figures, report.

:func:`analyze` reads ``DIR/manifest.json`` and the columns it needs from
``DIR/runs.parquet`` and writes, each atomically (:mod:`sim.io`):

- ``DIR/indices.csv`` — tidy: ``method, rule, outcome, parameter, index, value, conf``;
- ``DIR/convergence.csv`` — Sobol' designs only: the same columns plus ``n``;
- ``DIR/figures/*.png`` — see :mod:`sim.analysis.figures`;
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

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import BadInput

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
    per = {"sobol": points_per_base(sweep), "fast": d, "morris": d + 1}.get(sweep.method)
    if per and sweep.n_points % per:
        raise BadInput.one(
            source,
            "n_points",
            f"{sweep.n_points} points do not make whole {sweep.method} blocks of {per}",
        )


def points_per_base(sweep: Sweep) -> int:
    d = len(sweep.factors)
    fallback = 2 * d + 2 if sweep.manifest.get("second_order") else d + 2
    return int(sweep.manifest.get("points_per_base") or fallback)
