"""The outputs of a calibration: tables, posterior predictive runs, figures, ``report.md``.

* ``model_probabilities.csv`` — ``generation,rule,probability`` (P(rule | data) as the
  generations sharpen it; the last generation is the answer);
* ``posterior.csv`` — the last generation's particles: ``rule,weight`` and one column per
  parameter; ``weight`` sums to 1 over the whole file (within a rule it sums to P(rule));
* ``predictive.csv`` — quantiles of each target statistic over fresh runs drawn from the
  posterior (per rule, and ``all``: averaged over the rules by P(rule)), next to the
  observed value;
* ``figures/`` — ``posterior_<rule>.png`` (marginals and pairs), ``predictive.png``,
  ``model_probabilities.png``;
* ``report.md`` — read this first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import atomic_write, write_csv, write_text
from .config import Calibration, prior_bounds
from .smc import Job, Simulator, predictive_seed

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
ALL = "all"


def write_outputs(
    calib: Calibration, history: Any, folder: Path, *, figures: bool = True
) -> dict[str, float]:
    """Write every output into ``folder``; return P(rule | data) of the last generation."""
    probs = model_probabilities(calib, history)
    write_csv(folder / "model_probabilities.csv", probs)
    last = probs[probs.generation == probs.generation.max()]
    p_rule = dict(zip(last.rule, last.probability, strict=True))
    posterior = posterior_frame(calib, history, p_rule)
    write_csv(folder / "posterior.csv", posterior)
    predictive, curves = posterior_predictive(calib, posterior, p_rule)
    write_csv(folder / "predictive.csv", predictive)
    if figures:
        where = folder / "figures"
        where.mkdir(exist_ok=True)
        plot_model_probabilities(probs, calib, where / "model_probabilities.png")
        for rule in calib.rules:
            rows = posterior[posterior.rule == rule]
            if len(rows) >= 2:
                plot_posterior(calib, rule, rows, where / f"posterior_{rule}.png")
        if len(predictive):
            plot_predictive(calib, predictive, curves, p_rule, where / "predictive.png")
    table = credible_table(calib, posterior, p_rule)
    write_text(folder / "report.md", report(calib, history, probs, table, predictive, p_rule))
    return p_rule


# ---- tables ---------------------------------------------------------------------------------


def model_probabilities(calib: Calibration, history: Any) -> pd.DataFrame:
    """Long table ``generation,rule,probability``; a rule that died out has probability 0."""
    wide = history.get_model_probabilities()
    rows = []
    for t, row in wide.iterrows():
        for m, rule in enumerate(calib.rules):
            p = row.get(m, 0.0)
            rows.append((int(t), rule, 0.0 if pd.isna(p) else float(p)))
    return pd.DataFrame(rows, columns=["generation", "rule", "probability"])


def posterior_frame(calib: Calibration, history: Any, p_rule: dict[str, float]) -> pd.DataFrame:
    """The last generation's particles: ``rule,weight`` and the parameters."""
    frames = []
    t = history.max_t
    for m, rule in enumerate(calib.rules):
        if p_rule.get(rule, 0.0) <= 0:
            continue
        df, w = history.get_distribution(m=m, t=t)
        if not len(df):
            continue
        frame = df.reset_index(drop=True)[calib.names].astype(float)
        frame.insert(0, "weight", np.asarray(w, float) / np.sum(w) * p_rule[rule])
        frame.insert(0, "rule", rule)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["rule", "weight", *calib.names])
    return pd.concat(frames, ignore_index=True)


def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    from pyabc.weighted_statistics import weighted_quantile

    w = np.asarray(w, float) / np.sum(w)
    return [float(weighted_quantile(np.asarray(x, float), w, alpha=q)) for q in qs]


def credible_table(
    calib: Calibration, posterior: pd.DataFrame, p_rule: dict[str, float]
) -> pd.DataFrame:
    """Per rule and parameter: posterior mean, median, 90% interval, its width as a share of
    the prior's 90% interval (near 1: the data say little about it), effective sample
    size, and whether the truth (if known) lies inside."""
    from pyabc.weighted_statistics import effective_sample_size

    rows = []
    truth = calib.truth or {}
    for rule in calib.rules:
        part = posterior[posterior.rule == rule]
        if not len(part):
            continue
        w = part.weight.to_numpy(float)
        for name, spec in calib.spec.parameters.items():
            x = part[name].to_numpy(float)
            q05, q50, q95 = weighted_quantiles(x, w, (0.05, 0.5, 0.95))
            p05, p95 = _prior_interval(spec)
            lo, hi = prior_bounds(spec)
            bounded = spec.dist not in ("norm", "lognorm")
            true = truth.get("parameters", {}).get(name) if truth.get("rule") == rule else None
            rows.append({
                "rule": rule, "p_rule": p_rule[rule], "parameter": name,
                "mean": float(np.average(x, weights=w)), "median": q50, "ci_low": q05,
                "ci_high": q95, "prior_low": p05, "prior_high": p95,
                "prior_bound_low": lo if bounded else -np.inf,
                "prior_bound_high": hi if bounded else np.inf,
                "width_vs_prior": (q95 - q05) / (p95 - p05) if p95 > p05 else float("nan"),
                "ess": float(effective_sample_size(w / w.sum())), "truth": true,
                "inside": None if true is None else bool(q05 <= true <= q95),
            })  # fmt: skip
    return pd.DataFrame(rows)


def _prior_interval(spec: Any) -> tuple[float, float]:
    from .smc import prior

    rv = prior(spec)
    return float(rv.distribution.ppf(0.05)), float(rv.distribution.ppf(0.95))


def posterior_predictive(
    calib: Calibration, posterior: pd.DataFrame, p_rule: dict[str, float]
) -> tuple[pd.DataFrame, dict[str, dict[str, np.ndarray]]]:
    """Fresh runs at particles drawn from each rule's posterior (``[abc] predictive`` per
    rule, the same seeds for every rule); the quantiles of every target statistic, and the
    quantile curves of every time-series column a target names, for the figure."""
    k = calib.abc.predictive
    rules = [r for r in calib.rules if p_rule.get(r, 0.0) > 0 and (posterior.rule == r).any()]
    if k == 0 or not rules:
        return pd.DataFrame(), {}
    rng = np.random.default_rng(np.random.SeedSequence(calib.abc.seed, spawn_key=(1 << 31,)))
    simulator = Simulator(calib)
    stats: dict[str, list[dict[str, float]]] = {}
    curves: dict[str, dict[str, np.ndarray]] = {}
    columns = calib.targets.series_columns
    for rule in rules:
        part = posterior[posterior.rule == rule]
        w = part.weight.to_numpy(float)
        picks = rng.choice(len(part), size=k, p=w / w.sum())
        jobs = [
            Job(rule, {n: float(part[n].iloc[j]) for n in calib.names},
                predictive_seed(calib.abc.seed, i))
            for i, j in enumerate(picks)
        ]  # fmt: skip
        if columns:
            stats[rule], series = _predictive_runs(simulator, jobs)
            curves[rule] = {"year": np.asarray(series[0]["year"], dtype=float)}
            for c in columns:
                data = np.stack([np.asarray(r[c], dtype=float) for r in series])
                curves[rule][c] = np.quantile(data, QUANTILES, axis=0)
        else:
            stats[rule] = simulator.summaries(jobs)
    rows = []
    for target in calib.targets:
        pooled, weights = [], []
        for rule in [*rules, ALL]:
            if rule == ALL:
                if len(rules) < 2:
                    continue
                x, w = np.concatenate(pooled), np.concatenate(weights)
            else:
                x = np.array([s[target.key] for s in stats[rule]])
                w = np.full(len(x), p_rule[rule] / len(x))
                pooled.append(x)
                weights.append(w)
            q = weighted_quantiles(x, w, QUANTILES)
            rows.append({
                "statistic": target.statistic, "year": target.year, "rule": rule,
                "observed": target.value, "sd": target.sd,
                **{f"q{round(p * 100):02d}": v for p, v in zip(QUANTILES, q, strict=True)},
                "inside_90": bool(q[0] <= target.value <= q[-1]),
            })  # fmt: skip
    return pd.DataFrame(rows), curves


def _predictive_runs(
    simulator: Simulator, jobs: list[Job]
) -> tuple[list[dict[str, float]], list[Any]]:
    """(summary statistics, time series) of each job: batched engine runs for a province,
    :func:`sim.run` for a national scenario."""
    if simulator.national:
        results = simulator.timeseries(jobs)
        stats = [simulator.targets.summarize(r.timeseries, r.outcomes, result=r) for r in results]
        return stats, [r.timeseries for r in results]
    runs = simulator.engine_runs(jobs)
    return [s for s, _ in runs], [e.recorder.data for _, e in runs]


# ---- figures --------------------------------------------------------------------------------


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _colour(rule: str, k: int) -> Any:
    from ..analysis.figures import rule_colour

    return rule_colour(rule, k)


def _save(fig: Any, path: Path) -> None:
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    _plt().close(fig)


def plot_model_probabilities(probs: pd.DataFrame, calib: Calibration, path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for k, rule in enumerate(calib.rules):
        rows = probs[probs.rule == rule]
        ax.plot(rows.generation, rows.probability, marker="o", color=_colour(rule, k), label=rule)
    ax.set_xlabel("generation")
    ax.set_ylabel("P(rule | data)")
    ax.set_ylim(-0.02, 1.02)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    ax.set_title(f"{calib.path.name}: model probabilities by generation", fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def plot_posterior(calib: Calibration, rule: str, rows: pd.DataFrame, path: Path) -> None:
    """Marginals (diagonal) and pairs (off-diagonal) of one rule's posterior, over the
    prior's range; the truth, when known, as a reference line."""
    from pyabc.visualization import plot_kde_matrix

    _plt()  # the Agg backend before pyabc's figure
    limits = {n: prior_bounds(s, tail=0.001) for n, s in calib.spec.parameters.items()}
    truth = calib.truth or {}
    refval = truth.get("parameters") if truth.get("rule") == rule else None
    df = rows[calib.names].reset_index(drop=True)
    w = rows.weight.to_numpy(float)
    if df.std().min() <= 0:  # a degenerate population has no density to draw
        return
    if len(calib.names) == 1:  # pyabc's matrix indexes a 2-d grid of axes, one has none
        from pyabc.visualization import plot_kde_1d

        plt = _plt()
        fig, ax = plt.subplots()
        (name,) = calib.names
        lo, hi = limits[name]
        plot_kde_1d(df, w / w.sum(), x=name, xmin=lo, xmax=hi, refval=refval,
                    refval_color="k", ax=ax)  # fmt: skip
    else:
        arr = plot_kde_matrix(df, w / w.sum(), limits=limits, refval=refval, refval_color="k")
        fig = np.asarray(arr).flat[0].figure
    fig.set_size_inches(2.6 * len(calib.names) + 1.2, 2.6 * len(calib.names) + 0.6)
    fig.suptitle(f"posterior under {rule} (P = {rows.weight.sum():.2f})", fontsize=10)
    fig.subplots_adjust(top=0.92)
    _save(fig, path)


def plot_predictive(
    calib: Calibration,
    predictive: pd.DataFrame,
    curves: dict[str, dict[str, np.ndarray]],
    p_rule: dict[str, float],
    path: Path,
) -> None:
    """One panel per time-series column (5-95% and 25-75% bands of each rule's posterior
    predictive runs, the median line, the observed points with +-sd bars) and one per
    outcome target (each rule's 90% interval and median against the observed value)."""
    plt = _plt()
    columns = calib.targets.series_columns
    outcomes = [t for t in calib.targets if t.is_outcome or t.is_observed]
    panels = len(columns) + len(outcomes)
    ncol = min(3, panels)
    nrow = -(-panels // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.4 * nrow), squeeze=False)
    rules = list(curves) or [r for r in calib.rules if (predictive.rule == r).any()]
    shift = calib.spec.start_year
    for ax, column in zip(axes.flat, columns, strict=False):
        for k, rule in enumerate(calib.rules):
            if rule not in curves:
                continue
            c, colour = curves[rule], _colour(rule, k)
            years, q = c["year"] + shift, c[column]
            ax.fill_between(years, q[0], q[4], color=colour, alpha=0.15, lw=0)
            ax.fill_between(years, q[1], q[3], color=colour, alpha=0.3, lw=0)
            ax.plot(years, q[2], color=colour, lw=1.8, label=f"{rule} (P = {p_rule[rule]:.2f})")
        obs = [t for t in calib.targets if t.statistic == column]
        ax.errorbar([t.year for t in obs], [t.value for t in obs],
                    yerr=[t.sd or 0 for t in obs], fmt="o", color="k", ms=4, capsize=2,
                    label="observed", zorder=5)  # fmt: skip
        ax.set_xlabel("year" if shift else "years since start")
        ax.set_ylabel(column)
        ax.grid(alpha=0.3)
    for ax, target in zip(list(axes.flat)[len(columns) :], outcomes, strict=False):
        rows = predictive[(predictive.statistic == target.statistic)]
        if target.year is not None:  # a province-level statistic at a year
            rows = rows[np.isclose(rows.year.astype(float), target.year)]
        for k, rule in enumerate(rules):
            r = rows[rows.rule == rule]
            if not len(r):
                continue
            r = r.iloc[0]
            ax.errorbar([k], [r.q50], yerr=[[r.q50 - r.q05], [r.q95 - r.q50]], fmt="s",
                        color=_colour(rule, calib.rules.index(rule)), capsize=4)  # fmt: skip
        ax.axhline(target.value, color="k", ls="--", lw=1, label="observed")
        if target.sd:
            ax.axhspan(target.value - target.sd, target.value + target.sd, color="k", alpha=0.08)
        ax.set_xticks(range(len(rules)), rules)
        ax.set_xlim(-0.6, len(rules) - 0.4)
        ax.set_ylabel(target.key if target.is_observed else target.column)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[panels:]:
        ax.set_visible(False)
    axes.flat[0].legend(loc="best", fontsize=8)
    fig.suptitle(
        "posterior predictive: bands 5-95% and 25-75% of runs drawn from each rule's "
        "posterior; dots: observed (+-sd)",
        fontsize=9,
    )
    fig.tight_layout()
    _save(fig, path)


# ---- report.md ------------------------------------------------------------------------------


def _g(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}g}"


def report(
    calib: Calibration,
    history: Any,
    probs: pd.DataFrame,
    table: pd.DataFrame,
    predictive: pd.DataFrame,
    p_rule: dict[str, float],
) -> str:
    pops = history.get_all_populations()
    pops = pops[pops.t >= 0]
    a = calib.abc
    best = max(p_rule, key=lambda r: p_rule[r])
    *head, start = calib.report_head()
    lines = [
        *head,
        start + "ABC-SMC (pyabc): {a.population} particles, "
        f"{len(pops)} generations (at most {a.generations}), seed {a.seed}, "
        f"{int(pops.samples.sum()):,} runs; final epsilon {_g(float(pops.epsilon.iloc[-1]))}; "
        + _distance_text(calib),
        "",
        "## Which rule explains the data?",
        "",
        "| rule | P(rule \\| data) |",
        "| --- | ---: |",
        *[f"| {r} | {p_rule[r]:.3f} |" for r in calib.rules],
        "",
        _verdict(calib, probs, p_rule).sentence() if len(calib.rules) > 1 else "",
        "",
        (
            f"Most probable: **{best}**. Model probabilities by generation: "
            "`model_probabilities.csv`, `figures/model_probabilities.png`. With a uniform "
            "prior over the rules, the ratio of two probabilities is the ABC estimate of "
            "their Bayes factor; it is only as good as the summary statistics are informative."
            if len(calib.rules) > 1
            else "One rule: parameter inference only."
        ),
        "",
        "## Parameters",
        "",
        "Posterior of each parameter under each rule (last generation): mean, median and "
        "the 90% credible interval (5% and 95% weighted quantiles). *Width vs prior* is the "
        "interval's width over the prior's 90% width: near 1 means the data say little about "
        "that parameter under that rule. ESS: effective number of particles.",
        "",
        "| rule | parameter | mean | median | 90% interval | width vs prior | ESS |"
        + (" truth |" if calib.truth else ""),
        "| --- | --- | ---: | ---: | --- | ---: | ---: |" + (" --- |" if calib.truth else ""),
    ]  # fmt: skip
    for r in table.itertuples():
        cell = ""
        if calib.truth:
            cell = (
                ""
                if r.truth is None or pd.isna(r.truth)
                else (f" {_g(r.truth)} {'inside' if r.inside else '**outside**'} |")
            )
            cell = cell or " |"
        lines.append(
            f"| {r.rule} | `{r.parameter}` | {_g(r.mean)} | {_g(r.median)} | "
            f"[{_g(r.ci_low)}, {_g(r.ci_high)}] | {_g(r.width_vs_prior, 2)} | {r.ess:.0f} |"
            + cell
        )  # fmt: skip
    lines += [
        "",
        "Particles: `posterior.csv`; marginals and pairs: `figures/posterior_<rule>.png`.",
        "",
        "## Checks",
        "",
    ]
    lines += _checks(calib, probs, table, predictive, p_rule, best)
    return "\n".join(lines) + "\n"


def _distance_text(calib: Calibration) -> str:
    if calib.targets.sd_weights:
        return "distance: Euclidean in units of each target's sd."
    from .smc import FixedScaleDistance, distance

    fixed = isinstance(distance(calib), FixedScaleDistance)
    return "distance: weighted Euclidean (weights 1 / MAD of each statistic, " + (
        "fitted once on the prior sample)." if fixed else "refitted every generation)."
    )


def _verdict(calib: Calibration, probs: pd.DataFrame, p_rule: dict[str, float]) -> Any:
    """The verdict (:mod:`.verdict`) on the last generation: settled or not."""
    from .verdict import Answer, verdict

    generations = sorted(probs.generation.unique())
    settled = True
    if len(generations) >= 2:
        a, b = (
            probs[probs.generation == g].set_index("rule").probability for g in generations[-2:]
        )
        settled = float((b - a).abs().max()) <= SETTLED
    best = max(p_rule, key=lambda r: p_rule[r])
    return verdict(Answer(best, p_rule), settled=settled)


def _at_edge(table: pd.DataFrame, share: float = 0.02) -> pd.Series:
    """Rows whose 90% interval comes within ``share`` of the prior's range of one of its
    bounds, while the posterior is clearly narrower than the prior (an interval that
    spans the prior touches both bounds and says nothing)."""
    low, high = table.prior_bound_low, table.prior_bound_high
    span = high - low
    near = ((table.ci_low - low) < share * span) | ((high - table.ci_high) < share * span)
    return near & (table.width_vs_prior < 0.8) & np.isfinite(span)


SETTLED = 0.1
"""Largest change of a rule's probability between the last two generations that still
counts as settled."""


def _checks(
    calib: Calibration,
    probs: pd.DataFrame,
    table: pd.DataFrame,
    predictive: pd.DataFrame,
    p_rule: dict[str, float],
    best: str,
) -> list[str]:
    lines = []
    generations = sorted(probs.generation.unique())
    if len(calib.rules) > 1 and len(generations) >= 2:
        a, b = (
            probs[probs.generation == g].set_index("rule").probability for g in generations[-2:]
        )
        change = float((b - a).abs().max())
        lines.append(
            f"- **Model probabilities {'settled' if change <= SETTLED else 'NOT settled'}**: "
            f"they moved by at most {change:.2f} between the last two generations"
            + ("." if change <= SETTLED else
               f" (more than {SETTLED}): run more generations (`--resume` after raising "
               "`[abc] generations`) or more particles before reading P(rule | data).")
        )  # fmt: skip
    truth = calib.truth
    if truth is not None:
        true_rule = truth["rule"]
        won = best == true_rule
        lines.append(
            f"- **Recovery of the rule**: the data were made under `{true_rule}`; "
            f"P({true_rule} | data) = {p_rule.get(true_rule, 0.0):.3f}, "
            + ("the highest." if won else f"below `{best}`'s {p_rule[best]:.3f}.")
        )
        rows = table[(table.rule == true_rule) & table.truth.notna()]
        inside = int(rows.inside.sum()) if len(rows) else 0
        lines.append(
            f"- **Recovery of the parameters** (under `{true_rule}`): {inside} of {len(rows)} "
            "true values lie inside their 90% credible interval."
            if len(rows) else f"- `{true_rule}` died out: no parameter check."
        )  # fmt: skip
    if len(predictive):
        view = predictive[predictive.rule == (ALL if (predictive.rule == ALL).any() else best)]
        outside = view[~view.inside_90]
        lines.append(
            f"- **Posterior predictive check** ({'averaged over the rules' if (predictive.rule == ALL).any() else best},"  # noqa: E501
            f" {calib.abc.predictive} runs per rule): {len(view) - len(outside)} of {len(view)} "
            "observed values lie inside the 90% predictive interval"
            + ("." if not len(outside) else "; outside: "
               + ", ".join(f"`{r.statistic}`" + (f" at {r.year:g}" if pd.notna(r.year) else "")
                           for r in outside.itertuples()) + ".")
        )  # fmt: skip
        lines.append("  Quantiles: `predictive.csv`; bands: `figures/predictive.png`.")
    edge = table[_at_edge(table)] if len(table) else table
    if len(edge):
        lines.append(
            "- **At the edge of the prior**: "
            + ", ".join(f"`{r.parameter}` under {r.rule}" for r in edge.itertuples())
            + ". The 90% interval comes within 2% of the prior's range of one of its bounds: "
            "the data may want values the prior excludes. Widen the prior if such values "
            "are plausible, or read this as the model straining to fit."
        )
    weak = table[table.width_vs_prior > 0.8] if len(table) else table
    if len(weak):
        lines.append(
            "- **Weakly identified** (90% interval over 80% of the prior's): "
            + ", ".join(f"`{r.parameter}` under {r.rule}" for r in weak.itertuples())
            + ". The targets carry little information about these; do not read their "
            "posterior as a finding."
        )
    low = table[table.ess < 50] if len(table) else table
    if len(low):
        rules = sorted(set(low.rule))
        lines.append(
            f"- **Few effective particles** under {', '.join(rules)} (ESS < 50): intervals "
            "there are rough; raise `[abc] population`."
        )
    return lines or ["- (no checks apply)"]
