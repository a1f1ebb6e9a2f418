"""Comparing rules on common random numbers: replicates, paired differences, intervals.

Replicate r of a comparison uses seed ``seed + r`` under *every* rule, so each rule sees
the same province, network and service demands, and the local events draw from the same
streams (:mod:`sim.world`). Differences between rules are therefore paired by replicate,
and their intervals are much narrower than those of independent samples.

Intervals are two-sided 95% Student-t intervals of the mean over replicates (for
differences: of the mean paired difference). They need at least two replicates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..core.engine import run_batched
from ..outcomes import OUTCOMES
from ..params import Scenario
from ..rules import COLOURS
from ..run import engine_for
from ..world.counties import county_table

BLOCK = 64
"""Replicates of every rule run (batched) at once by :func:`compare`."""

SERIES = ("coverage", "duplicate_developments", "cost", "gini", "served_contractor", "lost_pairs")
"""Time-series columns kept per replicate for the comparison figures (and, the last two,
for the idle share of a matched contractor's crew, :func:`sim.experiments.match.lever_use`)."""


@dataclass(frozen=True)
class Comparison:
    scenario: Scenario
    rules: tuple[str, ...]
    seeds: tuple[int, ...]
    outcomes: pd.DataFrame  # one row per (rule, replicate): rule, replicate, seed, outcomes...
    years: np.ndarray  # time axis of the series
    series: dict[str, dict[str, np.ndarray]]  # rule -> column -> replicates x steps
    # county scenarios only (for sim.interactive.maps): rule -> each replicate's agents frame
    agents: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    # national scenarios only (province maps): rule -> each replicate's provinces frame
    provinces: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    pairs: int = 0  # (government, service) pairs of one run (0: unknown)

    def summary(self) -> pd.DataFrame:
        """Tidy summary: one row per (outcome, rule or contrast ``"a - b"``)."""
        return summarise(self.outcomes, self.rules)


def compare(
    scenario: Scenario,
    *,
    rules: Sequence[str] | None = None,
    replicates: int = 20,
    seed: int | None = None,
    progress: Callable[[], None] | None = None,
) -> Comparison:
    """Run every rule on seeds ``seed .. seed + replicates - 1`` (default: the scenario's).

    ``rules`` defaults to every rule the scenario can run under (``Scenario.valid_rules``).
    The replicates of every rule are run as one batch (:func:`sim.core.engine.run_batched`:
    the same numbers as one by one), :data:`BLOCK` replicates at a time; national scenarios
    run one by one."""
    rules = scenario.valid_rules if rules is None else tuple(rules)
    base = scenario.seed if seed is None else seed
    seeds = tuple(base + r for r in range(replicates))
    rows = []
    series = {rule: {c: [] for c in SERIES} for rule in rules}
    years = np.arange(scenario.n_steps + 1) * scenario.dt
    block = 1 if scenario.is_national else BLOCK
    agents: dict[str, list[pd.DataFrame]] = {}
    if county_table(scenario) is not None:  # issue 10: per-county maps need the agents
        agents = {rule: [] for rule in rules}
    provinces: dict[str, list[pd.DataFrame]] = {rule: [] for rule in rules}
    pairs = 0

    def tick(n: int) -> None:
        for _ in range(n if progress is not None else 0):
            progress()  # type: ignore[misc]

    for lo in range(0, replicates, block):
        plan = [(r, rule) for r in range(lo, min(lo + block, replicates)) for rule in rules]
        engines = [engine_for(scenario, rule=rule, seed=seeds[r]) for r, rule in plan]
        if scenario.is_national:
            for e in engines:
                e.run()
                tick(1)
        else:
            run_batched(engines, progress=tick)  # type: ignore[arg-type]
        for (r, rule), engine in zip(plan, engines, strict=True):
            pairs = int(engine.state.n * engine.state.k) if not scenario.is_national else 0
            rows.append({"rule": rule, "replicate": r, "seed": seeds[r], **engine.outcomes()})
            for c in SERIES:
                series[rule][c].append(engine.recorder.data[c])
            if agents:
                agents[rule].append(engine.agents())
            if scenario.is_national:
                provinces[rule].append(engine.provinces())
    arrays = {rule: {c: np.vstack(v) for c, v in cols.items()} for rule, cols in series.items()}
    return Comparison(
        scenario,
        tuple(rules),
        seeds,
        pd.DataFrame(rows),
        years,
        arrays,
        agents,
        provinces if scenario.is_national else {},
        pairs=pairs,
    )


def interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, standard deviation and the Student-t interval of the mean (NaN when n < 2)."""
    n = len(x)
    mean = float(np.mean(x))
    if n < 2:
        return mean, float("nan"), float("nan"), float("nan")
    sd = float(np.std(x, ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / np.sqrt(n)
    return mean, sd, mean - half, mean + half


def summarise(outcomes: pd.DataFrame, rules: Sequence[str]) -> pd.DataFrame:
    rows = []
    by_rule = {rule: outcomes[outcomes["rule"] == rule].sort_values("replicate") for rule in rules}
    for name in OUTCOMES:
        for rule in rules:
            x = by_rule[rule][name].to_numpy(float)
            mean, sd, lo, hi = interval(x)
            rows.append(
                dict(outcome=name, rule=rule, n=len(x), mean=mean, sd=sd, ci_low=lo, ci_high=hi)
            )
        for a, b in combinations(rules, 2):
            d = by_rule[a][name].to_numpy(float) - by_rule[b][name].to_numpy(float)
            mean, sd, lo, hi = interval(d)
            rows.append(
                dict(
                    outcome=name,
                    rule=f"{a} - {b}",
                    n=len(d),
                    mean=mean,
                    sd=sd,
                    ci_low=lo,
                    ci_high=hi,
                )
            )
    return pd.DataFrame(rows)


LABELS = {
    "coverage": "coverage (share of pairs served)",
    "duplicate_developments": "duplicate developments (cumulative)",
    "cost": "cost (cumulative, cost units)",
    "gini": "inequality between governments (Gini)",
}


def _band(ax, years: np.ndarray, data: np.ndarray, rule: str) -> None:
    mean = data.mean(axis=0)
    colour = COLOURS.get(rule)
    ax.plot(years, mean, color=colour, lw=2, label=rule)
    if len(data) >= 2:
        half = stats.t.ppf(0.975, len(data) - 1) * data.std(axis=0, ddof=1) / np.sqrt(len(data))
        ax.fill_between(years, mean - half, mean + half, color=colour, alpha=0.25, lw=0)
    lo, hi = np.percentile(data, [5, 95], axis=0)
    ax.plot(years, lo, color=colour, lw=0.6, ls=":")
    ax.plot(years, hi, color=colour, lw=0.6, ls=":")


def plot(cmp: Comparison, path: Path, columns: Sequence[str] = ("coverage",)) -> None:
    """Mean curves per rule; shaded: 95% interval of the mean; dotted: 5-95% of replicates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import atomic_write

    ncol = min(2, len(columns))
    nrow = int(np.ceil(len(columns) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(6.2 * ncol, 3.8 * nrow), squeeze=False)
    for ax, column in zip(axes.flat, columns, strict=False):
        for rule in cmp.rules:
            _band(ax, cmp.years, cmp.series[rule][column], rule)
        ax.set_xlabel("years")
        ax.set_ylabel(LABELS.get(column, column))
        ax.grid(alpha=0.3)
        if column == "coverage":
            ax.set_ylim(0, 1.02)
    axes.flat[0].legend(loc="lower right" if columns[0] == "coverage" else "best")
    for ax in list(axes.flat)[len(columns) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{cmp.scenario.name}: {len(cmp.seeds)} paired replicates "
        "(shaded: 95% CI of the mean; dotted: 5-95% of runs)",
        fontsize=10,
    )
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    plt.close(fig)
