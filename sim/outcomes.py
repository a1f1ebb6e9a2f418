"""What a run measures: the per-step time series and the scalar outcomes derived from it.

Time-series columns follow starsim's naming: plain names are levels at the end of the step
(``coverage``), cumulative counts are named for what they count (``developments``); the
``served_*`` columns are shares of all (government, service) pairs by how they were served.
Definitions of every outcome are in :data:`OUTCOMES` and in docs/ODD.md section 7.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .state import CATALOGUE, CONTRACTOR, OWN, PEER, State

COLUMNS: tuple[str, ...] = (
    "step",
    "year",
    "coverage",
    "coverage_weighted",
    "developments",
    "duplicate_developments",
    "reuses",
    "cost",
    "quality",
    "gini",
    "lagging_gap",
    "served_own",
    "served_peer",
    "served_catalogue",
    "served_contractor",
    "outage",
    "lost_pairs",
)

OUTCOMES: dict[str, str] = {
    "coverage_final": "share of (government, service) pairs served at the end",
    "coverage_weighted_final": "population x demand weighted coverage at the end",
    "coverage_mean": "coverage averaged over all recorded steps 0..T (speed: a discrete area "
    "under the curve)",
    "t50_years": "first time coverage >= 0.5 (the horizon when never reached)",
    "t50_reached": "1 if coverage reached 0.5, else 0",
    "t90_years": "first time coverage >= 0.9 (the horizon when never reached)",
    "t90_reached": "1 if coverage reached 0.9, else 0",
    "developments": "solutions developed (local developments + contractor module builds)",
    "duplicate_developments": "developments of a service for which a solution already existed",
    "duplicate_share": "duplicate_developments / developments (0 when none)",
    "reuses": "pairs served by reuse (peer, catalogue, contractor deployment)",
    "reuse_ratio": "reuses / developments (0 when no developments)",
    "total_cost": "all costs: developments, adaptations, modules, deployments, platform",
    "cost_per_service": "total_cost / pairs served at the end (at least 1)",
    "service_quality": "mean quality x fit of served pairs weighted by population x service "
    "demand, averaged over steps with any served pair",
    "best_solution_quality": "mean over services of the best solution's quality (0 if none)",
    "inequality_gini": "Gini of per-government coverage, averaged over all steps",
    "lagging_gap": "coverage of the top capacity quartile minus the bottom one, averaged over "
    "steps",
    "service_loss": "pair-years lost to outages / (pair-years served + lost)",
    "outages": "number of contractor outages",
}
"""Every scalar outcome of a run and its meaning (all floats)."""

HIGHER_IS_BETTER: dict[str, bool] = {
    name: name.startswith(
        (
            "coverage",
            "t50_reached",
            "t90_reached",
            "reuse",
            "service_quality",
            "best_solution_quality",
        )
    )
    for name in OUTCOMES
}
"""Whether a larger value of each outcome is better (for "which rule wins" and selection
maps): more coverage, reuse and quality are better; time, cost, duplicates, inequality and
outage losses are worse. ``developments`` counts as worse (effort spent)."""


class Recorder:
    """Preallocated per-step columns; step 0 (the initial state) is row 0.

    The two distributional columns (``gini``, ``lagging_gap``) are derived from the
    per-government counts kept for every step, and computed for all pending steps at once
    when :attr:`data` is read: the Gini from a per-row histogram of the counts (no sort),
    the lagging gap from integer sums (exact, whatever is computed at once).
    """

    def __init__(self, n_steps: int, dt: float, capacity: np.ndarray, k: int) -> None:
        self.dt = dt
        self.k = k
        self._data = {c: np.zeros(n_steps + 1) for c in COLUMNS}
        self._data["step"] = np.arange(n_steps + 1, dtype=float)
        self._data["year"] = self._data["step"] * dt
        self._per_gov = np.zeros((n_steps + 1, len(capacity)), np.int64)
        self._recorded = -1  # last recorded step
        self._derived = -1  # last step whose gini and lagging_gap are computed
        order = np.argsort(capacity, kind="stable")
        q = max(1, len(capacity) // 4)
        # lagging_gap: mean coverage of the top capacity quartile minus the bottom one
        # (integer sums, so every step's value is exact whatever is computed at once)
        self._top, self._bottom, self._quartile = order[-q:], order[:q], q

    @property
    def data(self) -> dict[str, np.ndarray]:
        """The columns, with every recorded step's derived columns filled in."""
        if self._derived < self._recorded:
            rows = slice(self._derived + 1, self._recorded + 1)
            counts = self._per_gov[rows]
            self._data["gini"][rows] = gini_rows(counts, self.k)
            gap = counts[:, self._top].sum(axis=1) - counts[:, self._bottom].sum(axis=1)
            self._data["lagging_gap"][rows] = gap / (self._quartile * self.k)
            self._derived = self._recorded
        return self._data

    def record(self, t: int, st: State, down: bool) -> None:
        d = self._data
        loc, con = st.local_group, st.contractor_group
        if down or con.pairs == 0:
            pairs, weight, quality, per_gov = loc.pairs, loc.weight, loc.quality, loc.per_gov
        else:
            pairs, weight, quality = (
                loc.pairs + con.pairs,
                loc.weight + con.weight,
                loc.quality + con.quality,
            )
            per_gov = loc.per_gov + con.per_gov  # pairs served per government (integers)
        total = st.n * st.k
        d["coverage"][t] = pairs / total
        d["coverage_weighted"][t] = weight
        d["quality"][t] = quality / weight if weight > 0 else np.nan
        self._per_gov[t] = per_gov  # gini and lagging_gap derive from these (see data)
        self._recorded = t
        d["developments"][t] = st.developments
        d["duplicate_developments"][t] = st.duplicates
        d["reuses"][t] = st.reuses
        d["cost"][t] = st.cost
        by_source = st.by_source
        d["served_own"][t] = by_source[OWN] / total
        d["served_peer"][t] = by_source[PEER] / total
        d["served_catalogue"][t] = by_source[CATALOGUE] / total
        d["served_contractor"][t] = by_source[CONTRACTOR] / total
        d["outage"][t] = float(down)
        d["lost_pairs"][t] = con.pairs if down else 0

    @property
    def per_gov(self) -> np.ndarray:
        """Pairs served per government (as recorded: not during an outage), steps 0..t."""
        return self._per_gov[: self._recorded + 1]

    def repeat(self, t: int) -> None:
        """A settled run: step t equals step t - 1 (apart from its step and year)."""
        for c in COLUMNS[2:]:
            self._data[c][t] = self._data[c][t - 1]
        self._per_gov[t] = self._per_gov[t - 1]
        self._recorded = t


INTEGER_COLUMNS = (
    "step",
    "developments",
    "duplicate_developments",
    "reuses",
    "outage",
    "lost_pairs",
)


def timeseries_frame(data: dict[str, np.ndarray], t: int) -> pd.DataFrame:
    """Rows 0..t of the recorded columns as a DataFrame (counts as integers)."""
    frame = pd.DataFrame({c: data[c][: t + 1] for c in COLUMNS})
    for c in INTEGER_COLUMNS:
        frame[c] = frame[c].astype("int64")
    return frame


def gini_rows(counts: np.ndarray, k: int) -> np.ndarray:
    """Gini coefficient of each row of integer counts in 0..k (0 for all-zero rows).

    No sort: with h_v governments at value v and c_v = h_0 + ... + h_v, the sorted values
    occupy ranks c_{v-1} + 1 .. c_v, so sum_i i x_(i) = sum_v v h_v (c_{v-1} + c_v + 1) / 2.
    """
    rows, n = counts.shape
    flat = counts + (k + 1) * np.arange(rows)[:, None]
    h = np.bincount(flat.ravel(), minlength=rows * (k + 1)).reshape(rows, k + 1)
    c = h.cumsum(axis=1)
    values = np.arange(k + 1)
    ranked = (h * (2 * c - h + 1)) @ values / 2.0  # c_{v-1} + c_v = 2 c_v - h_v
    total = h @ values
    with np.errstate(divide="ignore", invalid="ignore"):
        g = 2.0 * ranked / (n * total) - (n + 1) / n
    return np.where(total > 0, g, 0.0)


def scalar_outcomes(data: dict[str, np.ndarray], st: State, outages: int) -> dict[str, float]:
    """The scalar outcomes (:data:`OUTCOMES`) from the recorded columns and the final state."""
    cov, year = data["coverage"], data["year"]
    horizon = float(year[-1])

    def first_time(level: float) -> tuple[float, float]:
        hit = np.flatnonzero(cov >= level - 1e-12)
        return (float(year[hit[0]]), 1.0) if len(hit) else (horizon, 0.0)

    t50, r50 = first_time(0.5)
    t90, r90 = first_time(0.9)
    served_end = st.served_pairs
    quality = data["quality"][~np.isnan(data["quality"])]
    served_steps = cov.sum()  # pair-steps served / (N K), lost likewise
    lost_steps = data["lost_pairs"].sum() / (st.n * st.k)
    defined = st.best_sol >= 0
    dev = st.developments
    return {
        "coverage_final": float(cov[-1]),
        "coverage_weighted_final": float(data["coverage_weighted"][-1]),
        "coverage_mean": float(cov.mean()),
        "t50_years": t50,
        "t50_reached": r50,
        "t90_years": t90,
        "t90_reached": r90,
        "developments": float(dev),
        "duplicate_developments": float(st.duplicates),
        "duplicate_share": st.duplicates / dev if dev else 0.0,
        "reuses": float(st.reuses),
        "reuse_ratio": st.reuses / dev if dev else 0.0,
        "total_cost": float(st.cost),
        "cost_per_service": float(st.cost) / max(served_end, 1),
        "service_quality": float(quality.mean()) if len(quality) else 0.0,
        "best_solution_quality": float(st.best_quality[defined].sum() / st.k),
        "inequality_gini": float(data["gini"].mean()),
        "lagging_gap": float(data["lagging_gap"].mean()),
        "service_loss": lost_steps / (served_steps + lost_steps) if lost_steps else 0.0,
        "outages": float(outages),
    }
