"""The sweep report (report.md): what was run, what matters, who wins, with notes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .indices import Analysis
from .sweeps import TIE, Sweep, points_per_base
from .wins import grid_axis

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


def _match_lines(sweep: Sweep) -> list[str]:
    """A matched sweep ([match]): what was matched at every point, and how well."""
    spec = sweep.manifest.get("match")
    if not spec:
        return []
    cols = ["sample_id", "match_value", "match_converged"]
    points = pd.read_parquet(sweep.path / "runs.parquet", columns=cols)
    points = points.drop_duplicates("sample_id")
    ok, n, v = int(points.match_converged.sum()), len(points), points.match_value
    line = (
        f"- Matched: at every point, `{spec['by']}` for {spec['rule']} was set so that its "
        f"mean `{spec['outcome']}` over the point's replicates equals the {spec['reference']} "
        "rule's "
        f"within 1%; converged at {ok:,} of {n:,} points; matched values {_num(v.min())} "
        f"(min), {_num(v.median())} (median), {_num(v.max())} (max): column `match_value` "
        "of runs.parquet."
    )
    if ok < n:
        line += (
            f" At {n - ok:,} point(s) no value came within 1% and {spec['rule']} ran "
            f"at the closest found: their contrasts are not at equal `{spec['outcome']}`."
        )
    return [line]


def _design_lines(sweep: Sweep) -> list[str]:
    m = sweep.manifest
    reps, nr = sweep.replicates, len(sweep.rules)
    lines = [f"- Method: {METHOD_TEXT[sweep.method]}."]
    if sweep.method == "sobol":
        order = (
            "first, second and total order" if m.get("second_order") else "first and total order"
        )
        lines.append(
            f"- N = {sweep.n_points // points_per_base(sweep)} base samples × "
            f"{points_per_base(sweep)} points per base sample ({order})."
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
        f"rule{'s' * (nr > 1)} = {sweep.n_runs:,} runs; seed {m.get('seed')}"
        + (
            ", the same seeds at every point (common random numbers across the design)."
            if m.get("common_seeds")
            else "."
        )
    )
    lines.append(f"- Rules: {', '.join(sweep.rules)}.")
    if sweep.contrasts:
        lines.append(f"- Contrasts: {', '.join(c[0] for c in sweep.contrasts)}.")
    lines += _match_lines(sweep)
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
