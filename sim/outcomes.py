"""What a run measures: the per-step time series and the scalar outcomes derived from it.

Time-series columns follow starsim's naming: plain names are levels at the end of the step
(``coverage``), cumulative counts are named for what they count (``developments``); the
``served_*`` columns are shares of all (government, service) pairs by how they were served.
Definitions of every outcome are in :data:`OUTCOMES` and in docs/ODD.md section 7.
"""

from __future__ import annotations

import numpy as np

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
    """Preallocated per-step columns; step 0 (the initial state) is row 0."""

    def __init__(self, n_steps: int, dt: float, capacity: np.ndarray, k: int) -> None:
        self.dt = dt
        self.k = k
        self.data = {c: np.zeros(n_steps + 1) for c in COLUMNS}
        self.data["step"] = np.arange(n_steps + 1, dtype=float)
        self.data["year"] = self.data["step"] * dt
        order = np.argsort(capacity, kind="stable")
        q = max(1, len(capacity) // 4)
        # lagging_gap = per_gov @ contrast: mean of the top quartile minus the bottom one
        self._contrast = np.zeros(len(capacity))
        self._contrast[order[-q:]] = 1.0 / q
        self._contrast[order[:q]] = -1.0 / q
        self._ranks = np.arange(1, len(capacity) + 1, dtype=float)

    def record(self, t: int, st: State, down: bool) -> None:
        d = self.data
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
        d["gini"][t] = gini(per_gov, self._ranks)  # scale-free: counts give the same Gini
        d["lagging_gap"][t] = (per_gov @ self._contrast) / self.k
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

    def repeat(self, t: int) -> None:
        """A settled run: step t equals step t - 1 (apart from its step and year)."""
        for c in COLUMNS[2:]:
            self.data[c][t] = self.data[c][t - 1]


def gini(x: np.ndarray, ranks: np.ndarray | None = None) -> float:
    """Gini coefficient of non-negative values; 0 when all are zero.

    ``ranks`` (1..n as floats) may be passed in to save an allocation per call.
    """
    total = x.sum()
    if total <= 0:
        return 0.0
    n = len(x)
    if ranks is None:
        ranks = np.arange(1, n + 1, dtype=float)
    return float(2.0 * np.dot(ranks, np.sort(x)) / (n * total) - (n + 1) / n)


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
