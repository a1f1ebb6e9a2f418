"""Figures of a sweep analysis (PNG, matplotlib's Agg canvas; no pyplot, no global state).

Per analysed outcome ``o`` (at most three or four figures each):

- ``indices_<o>.png`` — the design's indices with their 95% intervals, one panel per rule
  or contrast (Sobol'/FAST: S1 and ST; Morris: mu*; LHS: delta and RBD-FAST S1; grid:
  main-effect shares);
- ``morris_<o>.png`` — Morris mu* against sigma (Morris designs);
- ``convergence_<o>.png`` — S1 and ST against the base sample size N (Sobol' designs);
- ``scatter_<o>.png`` — replicate means against each parameter, coloured by rule, at most
  2000 sample points in all (a fixed random subset), at most 16 parameters;
- ``selection_<o>.png`` — for grids over exactly two parameters: the best rule per cell,
  shaded by (and labelled with) its margin over the runner-up.

Stale figures of these kinds left by an earlier analysis of the same folder are removed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..io import atomic_write
from .report import Figures, figure_name
from .sweeps import TIE
from .wins import grid_axis

if TYPE_CHECKING:
    from .indices import Analysis

KINDS = ("indices", "morris", "convergence", "scatter", "selection")
MAX_SCATTER_POINTS = 2000
MAX_SCATTER_PANELS = 16
BARS = {
    "sobol": [("sobol", "S1", "S1"), ("sobol", "ST", "ST")],
    "fast": [("fast", "S1", "S1"), ("fast", "ST", "ST")],
    "morris": [("morris", "mu_star", "mu*")],
    "lhs": [("delta", "delta", "delta"), ("rbd_fast", "S1", "S1 (RBD-FAST)")],
    "grid": [("grid", "S1", "main-effect share")],
}


MORRIS_LABELS = 8
"""Parameters named in a Morris plot (the largest mu*); the rest are unlabelled points."""


def rule_colour(rule: str, k: int) -> object:
    """The rule's colour everywhere in the project (:data:`sim.rules.COLOURS`), else tab10."""
    from ..rules import COLOURS

    return COLOURS.get(rule, colormaps["tab10"](k % 10))


def _save(fig: Figure, path: Path) -> None:
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))


def _margins(
    fig: Figure,
    *,
    left: float,
    right: float,
    bottom: float,
    top: float,
    wspace: float,
    hspace: float,
) -> None:
    """Subplot margins in inches (the figure size is known), spacing as fractions."""
    w, h = fig.get_size_inches()
    fig.subplots_adjust(left=left / w, right=1 - right / w, bottom=bottom / h, top=1 - top / h,
                        wspace=wspace, hspace=hspace)  # fmt: skip


def _grid(n: int, max_cols: int = 4) -> tuple[int, int]:
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


def draw_all(a: Analysis, folder: Path) -> Figures:
    """Draw every figure into ``folder``; (outcome, kind, file name) of each."""
    folder.mkdir(parents=True, exist_ok=True)
    sweep = a.sweep
    drawn: Figures = []

    def keep(kind: str, outcome: str, fig: Figure | None, caption: str) -> None:
        if fig is None:
            return
        name = figure_name(kind, outcome)
        _save(fig, folder / name)
        drawn.append((outcome, caption, name))

    for outcome in sweep.outcomes:
        keep("indices", outcome, indices_figure(a, outcome), "indices")
        if sweep.method == "morris":
            keep("morris", outcome, morris_figure(a, outcome), "mu*–sigma")
        if a.convergence is not None:
            keep("convergence", outcome, convergence_figure(a, outcome), "convergence")
        keep("scatter", outcome, scatter_figure(a, outcome), "scatter")
        if outcome in a.maps:
            keep("selection", outcome, selection_figure(a, outcome), "selection map")
    names = {name for _, _, name in drawn}
    for old in folder.glob("*.png"):
        if old.name.split("_", 1)[0] in KINDS and old.name not in names:
            old.unlink(missing_ok=True)
    return drawn


def indices_figure(a: Analysis, outcome: str) -> Figure | None:
    sweep = a.sweep
    spec = BARS[sweep.method]
    df = a.indices[a.indices.outcome == outcome]
    targets = [t for t in sweep.targets if (df.rule == t).any() and (outcome, t) not in a.skipped]
    if not targets:
        return None
    factors = sweep.factors
    rows, cols = _grid(len(targets))
    height = max(2.5, 0.3 * len(factors) * len(spec) + 1.2)
    fig = Figure(figsize=(4.2 * cols + 1.5, height * rows), layout="constrained")
    share = sweep.method != "morris"
    axes = fig.subplots(rows, cols, squeeze=False, sharex=share, sharey=True)
    y = np.arange(len(factors))[::-1]
    width = 0.8 / len(spec)
    colors = colormaps["tab10"]
    for i, target in enumerate(targets):
        ax = axes.flat[i]
        sub = df[df.rule == target]
        for k, (method, index, label) in enumerate(spec):
            part = sub[(sub.method == method) & (sub["index"] == index)].set_index("parameter")
            values = part.value.reindex(factors).to_numpy(float)
            conf = part.conf.reindex(factors).to_numpy(float)
            err = np.where(np.isfinite(conf), conf, 0.0)
            ax.barh(
                y + (len(spec) - 1 - 2 * k) * width / 2, values, height=width, xerr=err,
                color=colors(k), label=label, capsize=2, error_kw={"lw": 0.8},
            )  # fmt: skip
        ax.axvline(0, color="0.5", lw=0.6)
        ax.set_title(target, fontsize=10)
        ax.set_yticks(y, factors, fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
    for ax in axes.flat[len(targets) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8, loc="lower right")
    unit = " (outcome units per parameter range)" if sweep.method == "morris" else ""
    fig.suptitle(f"{outcome}: sensitivity indices with 95% intervals{unit}", fontsize=11)
    return fig


def morris_figure(a: Analysis, outcome: str) -> Figure | None:
    sweep = a.sweep
    df = a.indices[(a.indices.outcome == outcome) & (a.indices.method == "morris")]
    targets = [t for t in sweep.targets if (df.rule == t).any()]
    if not targets:
        return None
    rows, cols = _grid(len(targets), 3)
    fig = Figure(figsize=(4.5 * cols, 4.0 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, target in enumerate(targets):
        ax = axes.flat[i]
        sub = df[df.rule == target]
        mu = sub[sub["index"] == "mu_star"].set_index("parameter")
        sigma = sub[sub["index"] == "sigma"].set_index("parameter").value.reindex(mu.index)
        conf = np.nan_to_num(mu.conf.to_numpy(float))
        ax.errorbar(mu.value, sigma, xerr=conf, fmt="o", ms=4, lw=0.8, capsize=2)
        labelled = set(mu.value.nlargest(MORRIS_LABELS).index)  # unreadable beyond a few
        for name, x, s in zip(mu.index, mu.value, sigma, strict=True):
            if name in labelled and np.isfinite(x) and np.isfinite(s):
                ax.annotate(name.rsplit(".", 1)[-1], (x, s), fontsize=7, xytext=(3, 3),
                            textcoords="offset points")  # fmt: skip
        top = np.nanmax([(mu.value + conf).max(), sigma.max(), 0]) * 1.1 or 1.0
        ax.plot([0, top], [0, top], ls="--", color="0.6", lw=0.8, label="sigma = mu*")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_xlabel("mu*", fontsize=9)
        ax.set_ylabel("sigma", fontsize=9)
        ax.set_title(target, fontsize=10)
        ax.legend(fontsize=7, loc="upper left")
    for ax in axes.flat[len(targets) :]:
        ax.set_visible(False)
    note = f" (labels: top {MORRIS_LABELS} by mu*)" if len(sweep.factors) > MORRIS_LABELS else ""
    fig.suptitle(f"{outcome}: Morris mu* (95% interval) against sigma{note}", fontsize=11)
    return fig


def convergence_figure(a: Analysis, outcome: str) -> Figure | None:
    conv = a.convergence
    if conv is None:
        return None
    df = conv[conv.outcome == outcome]
    sweep = a.sweep
    targets = [t for t in sweep.targets if (df.rule == t).any()]
    sizes = sorted(df.n.unique())
    if not targets or len(sizes) < 2:
        return None
    legend_width = 0.3 + 0.065 * max(len(f) for f in sweep.factors)
    fig = Figure(figsize=(4.0 * len(targets) + legend_width + 0.6, 6.5))
    _margins(fig, left=0.55, right=legend_width, bottom=0.55, top=0.7, wspace=0.08, hspace=0.25)
    axes = fig.subplots(2, len(targets), squeeze=False, sharex=True, sharey="row")
    colors = colormaps["tab20"]
    for c, target in enumerate(targets):
        for r, index in enumerate(("S1", "ST")):
            ax = axes[r, c]
            sub = df[(df.rule == target) & (df["index"] == index)]
            for k, factor in enumerate(sweep.factors):
                line = sub[sub.parameter == factor].sort_values("n")
                n, v = line.n.to_numpy(float), line.value.to_numpy(float)
                e = np.nan_to_num(line.conf.to_numpy(float))
                color = colors(k % 20)
                ax.plot(n, v, marker="o", ms=3, lw=1, color=color,
                        label=factor if (r, c) == (0, 0) else None)  # fmt: skip
                ax.fill_between(n, v - e, v + e, color=color, alpha=0.15, lw=0)
            ax.set_xscale("log", base=2)
            ax.set_xticks(sizes, [str(s) for s in sizes], fontsize=7)
            ax.set_title(f"{target}: {index}", fontsize=10)
            ax.tick_params(axis="y", labelsize=8)
            if r == 1:
                ax.set_xlabel("base sample size N", fontsize=9)
    fig.legend(loc="upper right", fontsize=7, bbox_to_anchor=(1.0, 0.95))
    fig.suptitle(f"{outcome}: Sobol' indices on nested designs (bands: 95% intervals)")
    return fig


def scatter_figure(a: Analysis, outcome: str) -> Figure | None:
    sweep = a.sweep
    params = sweep.parameters[:MAX_SCATTER_PANELS]
    rules = sweep.rules
    rng = np.random.default_rng(sweep.seed)
    per_rule = max(1, MAX_SCATTER_POINTS // len(rules))
    take = np.sort(rng.choice(sweep.n_points, size=min(sweep.n_points, per_rule), replace=False))
    rows, cols = _grid(len(params))
    fig = Figure(figsize=(3.4 * cols, 2.9 * rows))  # fixed margins: faster than a layout engine
    _margins(fig, left=0.6, right=0.15, bottom=0.5, top=0.45, wspace=0.1, hspace=0.45)
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    for j, param in enumerate(params):
        ax = axes.flat[j]
        x = sweep.X[take, j]
        ticks = None
        if x.dtype == object:  # grid levels (strings possible): plot at level positions
            ticks, pos = grid_axis(sweep, j)
            x = pos[take].astype(float)
        for k, rule in enumerate(rules):
            y = sweep.means(outcome, rule)[take]
            ax.scatter(x, y, s=4, alpha=0.5, color=rule_colour(rule, k), label=rule,
                       rasterized=True, linewidths=0)  # fmt: skip
        if ticks is not None:
            ax.set_xticks(range(len(ticks)), ticks, fontsize=7)
        ax.set_xlabel(param, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.flat[len(params) :]:
        ax.set_visible(False)
    axes.flat[0].set_ylabel(outcome, fontsize=8)
    if len(rules) > 1:
        axes.flat[0].legend(fontsize=7, markerscale=3)
    shown = f"{len(take)} of {sweep.n_points} sample points"
    more = "" if len(params) == len(sweep.parameters) else f", first {len(params)} parameters"
    fig.suptitle(f"{outcome} (replicate means; {shown}{more})", fontsize=11)
    return fig


def selection_figure(a: Analysis, outcome: str) -> Figure | None:
    sel = a.maps.get(outcome)
    if sel is None:
        return None
    sweep = a.sweep
    p, q = sweep.parameters
    (xs, xpos), (ys, ypos) = grid_axis(sweep, 0), grid_axis(sweep, 1)
    rgb = {rule: to_rgb(rule_colour(rule, k)) for k, rule in enumerate(sweep.rules)}
    rgb[TIE] = (0.6, 0.6, 0.6)
    image = np.ones((len(ys), len(xs), 4))
    top = float(np.nanmax(sel.margin.to_numpy(float), initial=0.0))
    annotate = len(xs) * len(ys) <= 400
    fig = Figure(figsize=(min(2.0 + 0.7 * len(xs), 16), min(1.8 + 0.45 * len(ys), 14)),
                 layout="constrained")  # fmt: skip
    ax = fig.subplots()
    texts = []
    cells = zip(xpos, ypos, sel.best, sel.margin.to_numpy(float), strict=True)
    for i, k, best, margin in cells:
        if best not in rgb:
            continue
        # sqrt: margins often span orders of magnitude; small ones stay visible
        alpha = 1.0 if best == TIE or top <= 0 else 0.35 + 0.65 * math.sqrt(margin / top)
        image[k, i] = (*rgb[best], alpha)
        if annotate:
            texts.append((i, k, "tie" if best == TIE else f"{margin:.2g}"))
    ax.imshow(image, origin="lower", aspect="auto", interpolation="nearest")
    for i, k, text in texts:
        ax.text(i, k, text, ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(xs)), xs, fontsize=8)
    ax.set_yticks(range(len(ys)), ys, fontsize=8)
    ax.set_xlabel(p)
    ax.set_ylabel(q)
    handles = [Patch(color=rgb[r], label=r) for r in sweep.rules]
    if (sel.best == TIE).any():
        handles.append(Patch(color=rgb[TIE], label=TIE))
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    better = "higher" if sweep.higher_is_better.get(outcome, True) else "lower"
    fig.suptitle(
        f"Best rule on {outcome} ({better} is better)\nshade and label: margin over the runner-up",
        fontsize=10,
    )
    return fig
