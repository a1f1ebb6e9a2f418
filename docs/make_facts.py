"""Make the figures and the numbers of docs/stylized-facts.md.

Usage (from the repository root)::

    python docs/make_facts.py                  # figures + refresh the numbers in the doc
    python docs/make_facts.py --replicates 40  # tighter intervals
    python docs/make_facts.py --no-doc         # figures and tables on stdout only

Every sweep runs each arm (a rule, possibly with extra overrides) on the same seeds
``scenario.seed + r`` for r = 0 .. R - 1 at every grid value, so differences between arms,
and between neighbouring grid values of one arm, are paired by replicate (common random
numbers, as in :mod:`sim.experiments.compare`). Intervals are two-sided 95% Student-t
intervals of the mean (:func:`sim.experiments.compare.interval`).

Figures: ``docs/figures/facts-*.png``; rows are outcomes, columns scenarios; lines are arm
means with 95% CI bands. The background marks, grid value by grid value, where the paired
contrast of the fact is significant: green where it holds, red where it reverses, white
where the 95% CI of the paired difference covers 0. Numbers: the blocks between
``<!-- BEGIN GENERATED name -->`` and ``<!-- END GENERATED name -->`` in the doc are
rewritten (atomically); everything else in the doc is left alone.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

import sim
from sim.experiments.compare import COLOURS, interval

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"
DOC = ROOT / "docs" / "stylized-facts.md"
SCENARIOS = ("teaching", "zhejiang", "guangdong")

LABELS = {
    "developments": "developments",
    "duplicate_developments": "duplicate developments",
    "best_solution_quality": "best solution quality",
    "service_quality": "service quality (quality x fit)",
    "t50_years": "t50 (years; horizon if never)",
    "coverage_mean": "mean coverage over the run",
    "coverage_weighted_mean": "mean weighted coverage",
    "lagging_gap": "lagging gap (top - bottom quartile)",
    "inequality_gini": "Gini of coverage",
    "service_loss": "service loss to outages",
}


# ---- what to run ------------------------------------------------------------------------
@dataclass(frozen=True)
class Arm:
    label: str
    rule: str
    overrides: dict[str, Any] = field(default_factory=dict)
    colour: str = "#333333"
    style: str = "-"


@dataclass(frozen=True)
class Contrast:
    """The paired difference a fact is about, with the sign it has when the fact holds.

    ``kind="arms"``: arm ``a`` minus arm ``b`` at each grid value.
    ``kind="slope"``: arm ``a`` at grid value i minus the same arm at value i - 1.
    ``kind="base"``: arm ``a`` at grid value i minus the same arm at the first grid value.
    """

    kind: str
    a: str
    b: str = ""
    sign: int = 1

    def text(self) -> str:
        rel = ">" if self.sign > 0 else "<"
        if self.kind == "arms":
            return f"{self.a} - {self.b} {rel} 0"
        if self.kind == "base":
            return f"{self.a}: change from the first grid value {rel} 0"
        return f"{self.a}: change from the previous grid value {rel} 0"


@dataclass(frozen=True)
class Sweep:
    name: str  # figure facts-<name>.png, doc block <name>
    title: str
    param: str
    values: tuple[float | str, ...]
    arms: tuple[Arm, ...]
    outcomes: tuple[str, ...]
    # outcome -> contrasts; the first is shaded in the figure; outcomes without: shown only
    contrasts: dict[str, tuple[Contrast, ...]]
    xlabel: str
    fixed: dict[str, Any] = field(default_factory=dict)
    per_pair: bool = False  # values are capacities per (government, service) pair and year
    log_x: bool = False


GRASS = Arm("grassroots", "grassroots", colour=COLOURS["grassroots"])
CONTR = Arm("contractor", "contractor", colour=COLOURS["contractor"])
CONTR_LAG = Arm(
    "contractor, lagging first", "contractor", {"drive.rollout_order": "lagging"},
    colour="#6a4c93", style="--",
)
CONTR_POP = Arm(
    "contractor, population first", "contractor", {"drive.rollout_order": "population"},
    colour=COLOURS["contractor"],
)
GC = ("grassroots", "contractor")
G_GT_C = Contrast("arms", *GC, sign=+1)
UNIT = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
CAPACITY = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0)

SWEEPS: tuple[Sweep, ...] = (
    Sweep(
        "1-crowding", "Fact 1a: grassroots develops more, and duplicates more",
        "drive.crowding_out", UNIT, (GRASS, CONTR), ("developments", "duplicate_developments"),
        {o: (G_GT_C,) for o in ("developments", "duplicate_developments")},
        "drive.crowding_out",
    ),
    Sweep(
        "1-quality", "Fact 1b: which rule finds (and delivers) better solutions",
        "drive.contractor_quality", (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9),
        (GRASS, CONTR), ("best_solution_quality", "service_quality"),
        {o: (G_GT_C,) for o in ("best_solution_quality", "service_quality")},
        "drive.contractor_quality",
    ),
    Sweep(
        "1-quality-sd", "Fact 1b: search pays when local solutions vary",
        "services.quality_sd", (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3),
        (GRASS, CONTR), ("best_solution_quality", "service_quality"),
        {o: (G_GT_C,) for o in ("best_solution_quality", "service_quality")},
        "services.quality_sd",
    ),
    Sweep(
        "2-capacity", "Fact 2: a contractor with enough capacity covers faster and more evenly",
        "drive.contractor_capacity", CAPACITY, (GRASS, CONTR),
        ("t50_years", "coverage_mean", "lagging_gap", "inequality_gini", "service_loss"),
        {
            "t50_years": (Contrast("arms", *GC, sign=+1),),
            "coverage_mean": (Contrast("arms", *GC, sign=-1),),
            "lagging_gap": (Contrast("arms", *GC, sign=+1),),
            "inequality_gini": (Contrast("arms", *GC, sign=+1),),
            "service_loss": (Contrast("arms", *GC, sign=-1),),
        },
        "contractor capacity (share of all pairs per year)", per_pair=True, log_x=True,
    ),
    Sweep(
        "3-visibility", "Fact 3: catalogue visibility cuts duplicate developments",
        "support.catalog_visibility", UNIT, (GRASS, CONTR),
        ("duplicate_developments", "best_solution_quality", "coverage_mean"),
        {
            "duplicate_developments": (
                Contrast("slope", "grassroots", sign=-1),
                Contrast("arms", *GC, sign=+1),  # fact 1a along this sweep
            ),
            "best_solution_quality": (Contrast("arms", *GC, sign=+1),),  # fact 1b likewise
        },
        "support.catalog_visibility",
    ),
    Sweep(
        "4-balancing", "Fact 4: balancing narrows the lagging gap",
        "collaboration.balancing", UNIT, (GRASS, CONTR, CONTR_LAG),
        ("lagging_gap", "coverage_mean"),
        {
            "lagging_gap": (
                Contrast("slope", GRASS.label, sign=-1),
                Contrast("base", CONTR.label, sign=-1),
                Contrast("base", CONTR_LAG.label, sign=-1),  # signed: < 0 widens a gap < 0
            )
        },
        "collaboration.balancing",
    ),
    Sweep(
        "5-rollout", "Fact 5: lagging-first rollout reverses the gap, at a small cost in reach",
        "drive.contractor_capacity", CAPACITY, (CONTR_POP, CONTR_LAG),
        ("lagging_gap", "coverage_weighted_mean", "coverage_mean", "inequality_gini"),
        {
            "lagging_gap": (Contrast("arms", CONTR_LAG.label, CONTR_POP.label, sign=-1),),
            "coverage_weighted_mean": (
                Contrast("arms", CONTR_LAG.label, CONTR_POP.label, sign=-1),
            ),
        },
        "contractor capacity (share of all pairs per year)", per_pair=True, log_x=True,
    ),
)

SERIES_OUTCOMES = {"coverage_weighted_mean"}  # need the time series, not only the scalars


# ---- running ----------------------------------------------------------------------------
def pairs_of(scenario: sim.Scenario) -> int:
    """N x K: the number of (government, service) pairs of a scenario."""
    p = scenario.population
    n = p.n_agents if p.source == "synthetic" else int(scenario.prefectures.frame[
        "local_governments"].sum())
    return n * scenario.services.count


def run_one(scenario: sim.Scenario, rule: str, seed: int, series: bool) -> dict[str, float]:
    if not series:
        return sim.run_outcomes(scenario, rule=rule, seed=seed)
    res = sim.run(scenario, rule=rule, seed=seed)
    out = dict(res.outcomes)
    out["coverage_weighted_mean"] = float(res.timeseries["coverage_weighted"].mean())
    return out


def run_sweep(sw: Sweep, scenario_name: str, replicates: int) -> dict[str, dict[str, np.ndarray]]:
    """arm -> outcome -> array (grid values x replicates)."""
    path = ROOT / "scenarios" / f"{scenario_name}.toml"
    base = sim.load_scenario(path)
    scale = pairs_of(base) if sw.per_pair else 1
    series = any(o in SERIES_OUTCOMES for o in sw.outcomes)
    out: dict[str, dict[str, np.ndarray]] = {}
    for arm in sw.arms:
        cols = {o: np.zeros((len(sw.values), replicates)) for o in sw.outcomes}
        for i, x in enumerate(sw.values):
            value = float(x) * scale if sw.per_pair else x
            s = sim.load_scenario(path, overrides={**sw.fixed, **arm.overrides, sw.param: value})
            for r in range(replicates):
                res = run_one(s, arm.rule, base.seed + r, series)
                for o in sw.outcomes:
                    cols[o][i, r] = res[o]
        out[arm.label] = cols
    return out


def contrast_table(c: Contrast, data: dict[str, np.ndarray]) -> list[tuple[float, float, float]]:
    """(mean, ci_low, ci_high) of the paired contrast at each grid value (slope: from 1)."""
    a = data[c.a]
    if c.kind == "arms":
        d = a - data[c.b]
        return [(m, lo, hi) for m, _, lo, hi in (interval(row) for row in d)]
    rows = [(np.nan, np.nan, np.nan)]
    for i in range(1, len(a)):
        m, _, lo, hi = interval(a[i] - a[0 if c.kind == "base" else i - 1])
        rows.append((m, lo, hi))
    return rows


def verdict(sign: int, lo: float, hi: float) -> str:
    if np.isnan(lo):
        return ""
    if max(abs(lo), abs(hi)) < 1e-12:  # identical runs, up to floating-point residue
        return "n.s."
    if sign * lo > 0 and sign * hi > 0:
        return "holds"
    if sign * lo < 0 and sign * hi < 0:
        return "reverses"
    return "n.s."


# ---- figures ----------------------------------------------------------------------------
def _x(sw: Sweep) -> np.ndarray:
    return np.array([float(v) for v in sw.values])


def _bin_edges(x: np.ndarray, log: bool) -> np.ndarray:
    t = np.log(x) if log else x
    mid = (t[1:] + t[:-1]) / 2
    edges = np.r_[t[0] - (mid[0] - t[0]), mid, t[-1] + (t[-1] - mid[-1])]
    return np.exp(edges) if log else edges


def figure(sw: Sweep, results: dict[str, dict[str, dict[str, np.ndarray]]], path: Path,
           replicates: int) -> None:
    x = _x(sw)
    edges = _bin_edges(x, sw.log_x)
    nrow, ncol = len(sw.outcomes), len(results)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 2.9 * nrow), squeeze=False)
    for j, (scen, res) in enumerate(results.items()):
        for i, o in enumerate(sw.outcomes):
            ax = axes[i, j]
            c = sw.contrasts.get(o, (None,))[0]
            if c is not None:
                table = contrast_table(c, {a: res[a][o] for a in res})
                for k, (_, lo, hi) in enumerate(table):
                    v = verdict(c.sign, lo, hi)
                    if v in ("holds", "reverses"):
                        left = x[k - 1] if c.kind == "slope" else edges[k]
                        right = x[k] if c.kind == "slope" else edges[k + 1]
                        colour = "#cdeccd" if v == "holds" else "#f6cccc"
                        ax.axvspan(left, right, color=colour, lw=0, zorder=0)
            for arm in sw.arms:
                y = res[arm.label][o]
                m = y.mean(axis=1)
                stats = [interval(row) for row in y]
                lo = np.array([s[2] for s in stats])
                hi = np.array([s[3] for s in stats])
                ax.plot(x, m, arm.style, color=arm.colour, lw=1.8, marker="o", ms=3,
                        label=arm.label, zorder=3)
                ax.fill_between(x, lo, hi, color=arm.colour, alpha=0.25, lw=0, zorder=2)
            if o == "lagging_gap":
                ax.axhline(0, color="k", lw=0.6, zorder=1)
            if sw.log_x:
                ax.set_xscale("log")
            ax.grid(alpha=0.3, zorder=1)
            if i == 0:
                ax.set_title(scen)
            if j == 0:
                ax.set_ylabel(LABELS.get(o, o), fontsize=9)
            if i == nrow - 1:
                ax.set_xlabel(sw.xlabel, fontsize=9)
    handles, _ = axes[0, 0].get_legend_handles_labels()
    handles += [Patch(color="#cdeccd", label="fact holds (paired 95% CI)"),
                Patch(color="#f6cccc", label="fact reverses (paired 95% CI)")]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8,
               frameon=False)
    fig.suptitle(f"{sw.title}\n{replicates} paired replicates per point; bands: 95% CI of "
                 "the mean", fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110, format="png")
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
        plt.close(fig)


# ---- numbers ----------------------------------------------------------------------------
def _fmt(v: float) -> str:
    if np.isnan(v):
        return ""
    if abs(v) < 1e-12:  # floating-point residue of identical paired runs
        return "0"
    return f"{v:.3g}" if abs(v) >= 0.001 or v == 0 else f"{v:.1e}"


def _runs(xs: list[str], mask: list[bool], slope: bool) -> str:
    """Grid values (or steps, for slopes) where mask holds, contiguous runs collapsed.

    Values: ``0.1–0.3, 0.7``. Steps (mask[k]: the step from xs[k - 1] to xs[k]):
    ``0.0→…→0.3`` for every step from 0.0 to 0.3, ``0.4→0.5`` for one step.
    """
    parts, k = [], 0
    while k < len(mask):
        if not mask[k]:
            k += 1
            continue
        e = k
        while e + 1 < len(mask) and mask[e + 1]:
            e += 1
        if slope:
            parts.append(f"{xs[k - 1]}→{xs[e]}" if e == k else f"{xs[k - 1]}→…→{xs[e]}")
        else:
            parts.append(xs[k] if e == k else f"{xs[k]}–{xs[e]}")
        k = e + 1
    return ", ".join(parts) if parts else "none"


def numbers(sw: Sweep, results: dict[str, dict[str, dict[str, np.ndarray]]],
            replicates: int) -> str:
    xs = [str(v) for v in sw.values]
    unit = " (x N·K deployments per year)" if sw.per_pair else ""
    lines = [f"Sweep of `{sw.param}`{unit} over {', '.join(xs)}; {replicates} paired "
             "replicates per point (seeds `scenario.seed + r`). Where the contrast's 95% CI "
             "excludes 0:", ""]
    for o, contrasts in sw.contrasts.items():
        for c in contrasts:
            lines.append(f"*{o}*, `{c.text()}`:")
            lines.append("")
            for scen, res in results.items():
                table = contrast_table(c, {a: res[a][o] for a in res})
                v = [verdict(c.sign, lo, hi) for _, lo, hi in table]
                sl = c.kind == "slope"
                lines.append(
                    f"- {scen}: holds at {_runs(xs, [s == 'holds' for s in v], sl)}; "
                    f"reverses at {_runs(xs, [s == 'reverses' for s in v], sl)}; "
                    f"n.s. at {_runs(xs, [s == 'n.s.' for s in v], sl)}"
                )
            lines.append("")
    lines.append("<details><summary>Full tables: arm means and paired contrasts "
                 "(mean [95% CI])</summary>")
    lines.append("")
    for scen, res in results.items():
        for o in sw.outcomes:
            contrasts = sw.contrasts.get(o, ())
            head = ["x", *[a.label for a in sw.arms], *[f"`{c.text()}`" for c in contrasts]]
            lines.append(f"**{scen}, {o}**")
            lines.append("")
            lines.append("| " + " | ".join(head) + " |")
            lines.append("|" + "---|" * len(head))
            tables = [(c, contrast_table(c, {a: res[a][o] for a in res})) for c in contrasts]
            for k, x in enumerate(xs):
                row = [x, *[_fmt(float(res[a.label][o][k].mean())) for a in sw.arms]]
                for c, table in tables:
                    m, lo, hi = table[k]
                    cell = "" if np.isnan(m) else f"{_fmt(m)} [{_fmt(lo)}, {_fmt(hi)}]"
                    tag = verdict(c.sign, lo, hi)
                    row.append(f"{cell} {tag}" if tag in ("holds", "reverses") else cell)
                lines.append("| " + " | ".join(row) + " |")
            lines.append("")
    lines.append("</details>")
    return "\n".join(lines)


DEFAULT_OUTCOMES = (
    "developments", "duplicate_developments", "best_solution_quality", "service_quality",
    "t50_years", "coverage_mean", "lagging_gap", "inequality_gini", "service_loss",
)


def defaults_block(scenarios: list[str], replicates: int) -> str:
    """Both rules at each scenario's own parameters: means and the paired difference."""
    from sim.experiments.compare import compare

    lines = [f"Each scenario at its own parameters; {replicates} paired replicates (seeds "
             "`scenario.seed + r`); `g - c` is the mean paired difference [95% CI].", "",
             "| outcome | " + " | ".join(f"{s}: grassroots / contractor / g - c" for s in
                                          scenarios) + " |",
             "|---|" + "---|" * len(scenarios)]
    sums = {}
    for name in scenarios:
        cmp = compare(sim.load_scenario(ROOT / "scenarios" / f"{name}.toml"),
                      rules=("grassroots", "contractor"), replicates=replicates)
        sums[name] = cmp.summary().set_index(["outcome", "rule"])
    for o in DEFAULT_OUTCOMES:
        cells = []
        for name in scenarios:
            t = sums[name]
            g, c = t.loc[(o, "grassroots"), "mean"], t.loc[(o, "contractor"), "mean"]
            d = t.loc[(o, "grassroots - contractor")]
            cells.append(f"{_fmt(g)} / {_fmt(c)} / {_fmt(d['mean'])} "
                         f"[{_fmt(d['ci_low'])}, {_fmt(d['ci_high'])}]")
        lines.append(f"| {o} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def update_doc(blocks: dict[str, str], path: Path = DOC) -> list[str]:
    """Replace the generated blocks in the doc; return the names of blocks not found."""
    text = path.read_text(encoding="utf-8")
    missing = []
    for name, body in blocks.items():
        begin, end = f"<!-- BEGIN GENERATED {name} -->", f"<!-- END GENERATED {name} -->"
        i, j = text.find(begin), text.find(end)
        if i < 0 or j < i:
            missing.append(name)
            continue
        text = text[: i + len(begin)] + "\n" + body + "\n" + text[j:]
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".md")
    os.close(fd)
    try:
        Path(tmp).write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return missing


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replicates", type=int, default=20, help="paired replicates per point")
    ap.add_argument("--only", nargs="*", default=None,
                    help="block names: defaults and sweep names such as 2-capacity")
    ap.add_argument("--scenarios", nargs="*", default=list(SCENARIOS))
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite the doc's numbers")
    args = ap.parse_args(argv)
    if args.replicates < 2:
        ap.error("--replicates must be at least 2 (intervals need two)")
    blocks = {}
    if not args.only or "defaults" in args.only:
        blocks["defaults"] = defaults_block(args.scenarios, args.replicates)
        print(f"## defaults\n\n{blocks['defaults']}\n", flush=True)
    for sw in SWEEPS:
        if args.only and sw.name not in args.only:
            continue
        t0 = time.perf_counter()
        results = {s: run_sweep(sw, s, args.replicates) for s in args.scenarios}
        figure(sw, results, FIGURES / f"facts-{sw.name}.png", args.replicates)
        blocks[sw.name] = numbers(sw, results, args.replicates)
        print(f"## {sw.name} ({time.perf_counter() - t0:.0f} s)\n\n{blocks[sw.name]}\n",
              flush=True)
    if not args.no_doc and DOC.exists():
        missing = update_doc(blocks)
        if missing:
            print(f"note: no generated block for {', '.join(missing)} in {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
