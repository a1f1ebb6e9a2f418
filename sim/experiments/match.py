"""Equal-outcome contrasts: set one parameter of one rule so that an outcome matches.

``sim compare SCENARIO --match OUTCOME --by PARAM [--rule RULE]`` asks, for example, "at
the same lifecycle cost, which rule is faster, fairer, safer?" (``--match lifecycle_cost
--by drive.contractor_capacity``). :func:`match` adjusts PARAM for RULE (default
``contractor``) until RULE's mean OUTCOME over the replicates equals the mean of the
*reference* rule (the first other rule of the comparison) within ``tol`` (relative, 1%).

Every evaluation runs RULE on the same seeds as the reference (common random numbers), so
the mean is a deterministic, in practice monotone, function of PARAM and bisection
converges without noise between steps. The search first brackets the target by doubling
and halving the scenario's value (within the parameter's declared bounds), then bisects.

The interval of the matched value is a bootstrap over replicates: each resample of the
replicate indices gives a resampled reference mean and, from every value evaluated during
the search and at 0.6, 0.8, 1.25 and 1.6 times the match (each kept with its
per-replicate outcomes), a piecewise-linear curve of RULE's
resampled mean against PARAM; its crossing with the reference mean is that resample's
matched value. The 2.5% and 97.5% quantiles of those values form the 95% interval (NaN
when fewer than 90% of the resamples cross within the evaluated range). It reflects
sampling over replicates, not the bisection's own 1% tolerance.

Out of sample (issue 19). ``sim compare --match`` fits on one set of seeds and compares on
another (:func:`match_and_compare`): with R replicates and root seed S the match runs on
seeds S + R .. S + 2R - 1 and the comparison on S .. S + R - 1, so the matched contrast is
not forced to zero by the fit: its interval on the comparison seeds says how well the
match carries over. For ``drive.contractor_capacity`` it also reports how much of the
matched crew is idle and whether capacity still binds (:func:`lever_use`): when the
contractor never uses 90% of its capacity in a year, speed is capped elsewhere (by
``drive.build_rate``, say) and buying capacity buys nothing.

Experiment files ask for the same with a ``[match]`` table (:mod:`.match_spec`): a sweep
calls :func:`match` at every design point on that point's replicate seeds, without the
interval (:func:`sim.experiments.worker.run_chunk`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core.engine import Engine, run_batched
from ..errors import BadInput, Problem
from ..params import SECTIONS, Scenario
from .experiment import scenario_with
from .match_spec import match_problems

BOOTSTRAP = 2000


@dataclass
class Match:
    """The result of :func:`match`."""

    outcome: str
    param: str
    rule: str
    reference: str
    target: float  # the reference rule's mean outcome
    value: float  # the matched parameter value
    achieved: float  # RULE's mean outcome at ``value``
    interval: tuple[float, float]  # bootstrap 95% interval of the matched value
    original: float  # the scenario's own value
    converged: bool
    evaluations: list[dict] = field(default_factory=list)  # value, mean (search order)
    searched: int = 0  # values evaluated by the search itself (not the interval's grid)
    extra: dict = field(default_factory=dict)  # out of sample and lever use (CLI only)

    def as_dict(self) -> dict:
        return {
            "outcome": self.outcome,
            "param": self.param,
            "rule": self.rule,
            "reference": self.reference,
            "target": self.target,
            "value": self.value,
            "achieved": self.achieved,
            "interval_95": list(self.interval),
            "original": self.original,
            "converged": self.converged,
            "evaluations": self.evaluations,
            **self.extra,
        }


def check_match(scenario: Scenario, outcome: str, param: str, rule: str, rules: Sequence[str]):
    """BadInput naming the CLI option when the request cannot be matched (the checks are
    :func:`sim.experiments.match_spec.match_problems`, which experiment files share)."""
    options = {"outcome": "--match", "by": "--by", "rule": "--rule", "rules": "--rules"}
    problems = [Problem(options[f], "", m) for f, m in match_problems(outcome, param, rule, rules)]
    if scenario.is_national:
        problems.append(Problem("--match", "", "matching runs on province scenarios only"))
    if problems:
        raise BadInput(problems)


def _bounds(param: str) -> tuple[float, float]:
    table, _, key = param.rpartition(".")
    lo, hi = 0.0, np.inf
    for m in SECTIONS[table].model_fields[key].metadata:
        for name, attr in (("ge", "ge"), ("gt", "gt")):
            if getattr(m, attr, None) is not None:
                lo = float(getattr(m, name))
        for name in ("le", "lt"):
            if getattr(m, name, None) is not None:
                hi = float(getattr(m, name))
    return lo, hi


def _outcomes(scenario: Scenario, rule: str, seeds: Sequence[int], outcome: str) -> np.ndarray:
    engines = run_batched([Engine(scenario, rule, s) for s in seeds])
    return np.array([e.outcomes()[outcome] for e in engines])


def match(
    scenario: Scenario,
    *,
    outcome: str,
    param: str,
    rule: str = "contractor",
    rules: Sequence[str] | None = None,
    replicates: int = 20,
    seed: int | None = None,
    seeds: Sequence[int] | None = None,
    tol: float = 0.01,
    max_evaluations: int = 40,
    interval: bool = True,
) -> Match:
    """Set ``param`` for ``rule`` so that its mean ``outcome`` equals the reference rule's.

    The replicates run on seeds ``seed .. seed + replicates - 1`` (default: the scenario's
    seed), or on ``seeds`` when given (a sweep's design point: its replicates' seeds).
    ``interval=False`` skips the bootstrap interval and the four extra evaluations it needs
    (the interval is then NaN): a sweep matches at every point and reports the value only."""
    rules = tuple(scenario.valid_rules if rules is None else rules)
    check_match(scenario, outcome, param, rule, rules)
    reference = next(r for r in rules if r != rule)
    base = scenario.seed if seed is None else seed
    given = seeds is not None
    seeds = [int(s) for s in seeds] if seeds is not None else [base + r for r in range(replicates)]
    ref = _outcomes(scenario, reference, seeds, outcome)
    target = float(ref.mean())
    table, _, key = param.rpartition(".")
    original = float(getattr(getattr(scenario, table), key))
    dump = scenario.model_dump()
    lo_bound, hi_bound = _bounds(param)
    seen: dict[float, np.ndarray] = {}

    def f(x: float) -> float:
        if x not in seen:
            s = scenario_with(dump, {param: x}, set())
            s._prefectures, s._provinces = scenario.prefectures, scenario.provinces
            s._path = scenario.path
            seen[x] = _outcomes(s, rule, seeds, outcome)
        return float(seen[x].mean()) - target

    def close(x: float) -> bool:
        return abs(f(x)) <= tol * max(abs(target), 1e-12)

    x0 = original if original > lo_bound else (lo_bound + min(hi_bound, lo_bound + 1.0)) / 2
    a = b = x0
    fa = fb = f(x0)
    # bracket: move away from x0 by doubling / halving until the sign changes
    step = 0
    while fa * fb > 0 and not close(b) and len(seen) < max_evaluations:
        step += 1
        up = min(x0 * 2.0**step, hi_bound if np.isfinite(hi_bound) else x0 * 2.0**step)
        down = max(x0 / 2.0**step, lo_bound)
        for x in (up, down):
            fx = f(x)
            if fx * fa <= 0:
                b, fb = x, fx
                break
        if (up >= hi_bound and down <= lo_bound) or step > 12:
            break
    converged = close(b) or close(a)
    best = b if close(b) else a
    if not converged and fa * fb <= 0 and a != b:
        lo, hi, flo = (a, b, fa) if a < b else (b, a, fb)
        while len(seen) < max_evaluations:
            mid = 0.5 * (lo + hi)
            fm = f(mid)
            best = mid
            if close(mid):
                converged = True
                break
            if fm * flo > 0:
                lo, flo = mid, fm
            else:
                hi = mid
    if not converged:  # the closest value evaluated (within 1% if any was)
        best = min(seen, key=lambda x: abs(f(x)))
        converged = close(best)
    achieved, searched = float(seen[best].mean()), len(seen)
    bounds = (float("nan"), float("nan"))
    if interval:  # a grid around the match, so that resampled curves cross the target
        for factor in (0.8, 1.25, 0.6, 1.6):
            x = float(min(max(best * factor, lo_bound), hi_bound))
            if x not in seen:
                f(x)
        bounds = _bootstrap(seen, ref, np.random.default_rng(seeds if given else base))
    return Match(
        outcome=outcome,
        param=param,
        rule=rule,
        reference=reference,
        target=target,
        value=float(best),
        achieved=achieved,
        interval=bounds,
        original=original,
        converged=converged,
        evaluations=[{"value": x, "mean": float(v.mean())} for x, v in seen.items()],
        searched=searched,
    )


def _bootstrap(seen: dict[float, np.ndarray], ref: np.ndarray, rng) -> tuple[float, float]:
    """95% bootstrap interval of the matched value (see the module docstring)."""
    xs = np.array(sorted(seen))
    values = np.vstack([seen[x] for x in xs])  # (evaluations, replicates)
    r = values.shape[1]
    idx = rng.integers(0, r, size=(BOOTSTRAP, r))
    means = values[:, idx].mean(axis=2)  # (evaluations, BOOTSTRAP)
    targets = ref[idx].mean(axis=1)
    roots = np.full(BOOTSTRAP, np.nan)
    for j in range(BOOTSTRAP):
        d = means[:, j] - targets[j]
        cross = np.flatnonzero(np.sign(d[:-1]) * np.sign(d[1:]) <= 0)
        if len(cross) == 0:
            continue
        i = cross[np.argmin(np.abs(d[cross]))]
        if d[i] == d[i + 1]:
            roots[j] = xs[i]
        else:
            roots[j] = xs[i] + (xs[i + 1] - xs[i]) * d[i] / (d[i] - d[i + 1])
    ok = roots[np.isfinite(roots)]
    if len(ok) < BOOTSTRAP * 0.9:  # the evaluated range does not bracket most resamples
        return (float("nan"), float("nan"))
    return (float(np.quantile(ok, 0.025)), float(np.quantile(ok, 0.975)))


def compare_matched(
    scenario: Scenario, m: Match, *, rules: Sequence[str], replicates: int, seed: int | None = None
):
    """The usual comparison (:func:`sim.experiments.compare.compare`), with ``m.rule`` run
    at the matched value and every other rule at the scenario's own."""
    from .compare import Comparison, compare

    others = [r for r in rules if r != m.rule]
    s = scenario_with(scenario.model_dump(), {m.param: m.value}, set())
    s._prefectures, s._provinces, s._path = scenario.prefectures, scenario.provinces, scenario.path
    a = compare(scenario, rules=others, replicates=replicates, seed=seed)
    b = compare(s, rules=[m.rule], replicates=replicates, seed=seed)
    outcomes = pd.concat([a.outcomes, b.outcomes], ignore_index=True)
    return Comparison(
        scenario,
        tuple(rules),
        a.seeds,
        outcomes,
        a.years,
        {**a.series, **b.series},
        {**a.agents, **b.agents},
        pairs=a.pairs or b.pairs,
    )


BINDS = 0.9
"""Capacity binds when the contractor uses at least this share of it in its busiest year."""


def lever_use(cmp, m: Match) -> dict:
    """How much of a matched ``drive.contractor_capacity`` the contractor uses, from the
    comparison's runs of ``m.rule`` (empty for other levers). Deployments are the increments
    of the running maximum of contractor-served pairs (so a pair restored after an outage
    is not counted twice); the crew is paid from the start until every pair is served (as
    in lifecycle_cost). ``idle_share`` = 1 - deployments / (capacity x years paid), mean over
    replicates; ``peak_use`` = the busiest whole year's deployments / capacity (mean);
    ``binds`` = peak_use >= :data:`BINDS`."""
    if m.param != "drive.contractor_capacity" or m.rule not in cmp.series or m.value <= 0:
        return {}
    series = cmp.series[m.rule]
    served = series["served_contractor"]  # replicates x steps, share of pairs
    years = cmp.years
    dt = float(years[1] - years[0])
    steps_per_year = max(1, round(1 / dt))
    n_pairs = cmp.pairs
    if n_pairs <= 0:
        return {}
    deployed = np.diff(np.maximum.accumulate(served, axis=1), axis=1) * n_pairs
    full = (series["coverage"] + series["lost_pairs"] / n_pairs)[:, 1:] >= 1.0 - 1e-12
    last = np.where(full.any(axis=1), full.argmax(axis=1) + 1, full.shape[1])
    paid = m.value * last * dt
    idle = 1.0 - deployed.sum(axis=1) / paid
    whole = (deployed.shape[1] // steps_per_year) * steps_per_year
    per_year = deployed[:, :whole].reshape(len(deployed), -1, steps_per_year).sum(axis=2)
    peak = per_year.max(axis=1) / m.value if per_year.size else np.zeros(len(deployed))
    peak_use = float(peak.mean())
    return {
        "idle_share": float(np.clip(idle, 0.0, 1.0).mean()),
        "peak_use": peak_use,
        "binds": bool(peak_use >= BINDS),
    }


def match_and_compare(
    scenario: Scenario,
    *,
    outcome: str,
    param: str,
    rule: str,
    rules: Sequence[str],
    replicates: int,
    seed: int | None = None,
):
    """Fit on seeds S + R .. S + 2R - 1, compare on S .. S + R - 1 (module docstring);
    ``m.extra`` gets the seeds, the matched rule's mean outcome and the reference's on the
    comparison seeds, and :func:`lever_use`. Returns (match, comparison)."""
    base = scenario.seed if seed is None else seed
    m = match(
        scenario, outcome=outcome, param=param, rule=rule, rules=rules,
        replicates=replicates, seed=base + replicates,
    )  # fmt: skip
    cmp = compare_matched(scenario, m, rules=rules, replicates=replicates, seed=base)
    runs = cmp.outcomes
    mean = runs.groupby("rule")[outcome].mean()
    m.extra = {
        "fit_seeds": [base + replicates, base + 2 * replicates - 1],
        "compare_seeds": [base, base + replicates - 1],
        "achieved_compare": float(mean[m.rule]),
        "target_compare": float(mean[m.reference]),
        **lever_use(cmp, m),
    }
    return m, cmp
