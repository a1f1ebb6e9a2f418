"""Calibration files (``experiments/*.toml`` with ``targets = ...``): what to fit, to what.

A calibration names a scenario, the candidate rules (one rule: parameter inference only),
a targets CSV of observed data, the ABC settings (``[abc]``) and the priors
(``[parameters]``, the syntax of experiment files' ``[parameters]``: bounds, or a SALib
distribution)::

    scenario = "../scenarios/zhejiang.toml"
    rules = ["grassroots", "contractor", "hybrid"]
    targets = "targets/zhejiang_synthetic.csv"

    [abc]
    population = 500
    generations = 8
    min_epsilon = 0.0
    seed = 1

    [parameters]
    "drive.contractor_capacity" = { low = 50, high = 1000 }

:func:`load_calibration` validates everything — the file, the scenario, the targets, and
every prior's extremes against the scenario's own ranges — before anything runs, and raises
one :class:`~sim.errors.BadInput` listing every problem with its file and key.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from ..errors import BadInput, Problem, near
from ..experiments.experiment import (
    DISTS,
    ParamSpec,
    _Strict,
    parameter_name_problems,
    scenario_with,
    validate_file,
)
from ..io import read_toml
from ..params import Scenario, integer_keys
from ..scenario import load_scenario
from .targets import Targets, read_targets

UNBOUNDED_TAIL = 1e-6
"""Unbounded priors (``norm``, ``lognorm``) are checked against the scenario's ranges at
these tail quantiles: a sample beyond them is a one-in-a-million event per parameter."""


class AbcSpec(_Strict):
    """``[abc]``: the ABC-SMC settings."""

    population: int = Field(500, ge=10, le=1_000_000, description="Particles per generation.")
    generations: int = Field(8, ge=1, le=1000, description="At most this many generations.")
    min_epsilon: float = Field(0.0, ge=0.0, description="Stop earlier when reached.")
    seed: int = Field(0, ge=0, description="Root seed of every proposal and run.")
    predictive: int = Field(
        100, ge=0, le=100_000, description="Posterior predictive runs per rule (0: none)."
    )
    method: Literal["rf", "smc"] = Field(
        "rf", description="rf: ABC random forests on a reference table (sim.calibrate.forest);"
        " smc: pyabc's ABC-SMC. The default is the one the recovery check found right more "
        "often (docs/calibration.md)."
    )  # fmt: skip
    reference: int = Field(
        10_000, ge=30, le=10_000_000, description="rf: runs in the reference table (all rules)."
    )
    trees: int = Field(500, ge=10, le=10_000, description="rf: trees per forest.")
    distance: Literal["auto", "fixed", "adaptive"] = Field(
        "auto", description="smc without sd: fixed (each statistic scaled once, by its spread "
        "in the prior sample) or adaptive (rescaled every generation); auto: fixed when "
        "several rules are weighed (an adaptive scale refitted over all rules moves the "
        "target between generations), adaptive for one rule."
    )  # fmt: skip


class CheckSpec(_Strict):
    """``[check]``: does the calibration pick the right rule and cover the truth?"""

    truths: int = Field(0, ge=0, le=10_000, description="Truths drawn per rule (0: no check).")
    seed: int = Field(0, ge=0, description="Seed of the truths (independent of [abc] seed).")


class CalibrationSpec(_Strict):
    description: str = ""
    scenario: str
    rules: list[str] | None = None
    targets: str
    start_year: float = Field(
        0.0, description="Calendar year of the model's year 0 (targets' years are calendar "
        "years when set; 0: they are model years)."
    )  # fmt: skip
    truth: str | None = None
    rankings: str | None = Field(
        None, description="Observed rankings table (rankings.csv of scenarios/data/observed) "
        "that rank_rho:NAME targets compare the simulated provinces with."
    )  # fmt: skip
    abc: AbcSpec = Field(default_factory=AbcSpec)
    check: CheckSpec = Field(default_factory=CheckSpec)
    parameters: dict[str, ParamSpec]


@dataclass
class Calibration:
    """A validated calibration, resolved against its file (scenario and targets loaded)."""

    path: Path
    spec: CalibrationSpec
    scenario: Scenario
    rules: list[str]
    targets: Targets
    truth: dict[str, Any] | None = None  # {"rule": ..., "parameters": {...}} when given

    @property
    def abc(self) -> AbcSpec:
        return self.spec.abc

    @property
    def names(self) -> list[str]:
        return list(self.spec.parameters)

    @property
    def integer_keys(self) -> set[str]:
        """Scenario keys of integer type: sampled values are rounded to the nearest integer."""
        return integer_keys(self.names)

    def report_head(self) -> list[str]:
        """The first lines of every method's report: title, description, and the start of
        the sentence that says what was fitted (each method ends it with its own settings)."""
        return [
            f"# Calibration: {self.path.name}",
            "",
            self.spec.description.strip() or "(no description)",
            "",
            f"Scenario `{self.scenario.name}`; {len(self.targets)} targets from "
            f"`{Path(self.targets.path).name}`; rules {', '.join(self.rules)}; "
            f"{len(self.names)} parameters. ",
        ]

    def fingerprint(self) -> str:
        """What the posterior depends on: everything but the stopping rule (generations,
        min_epsilon), the predictive draws, the description and the truth, so a finished
        calibration can be resumed with more generations or a smaller epsilon."""
        abc = self.spec.abc.model_dump()
        for key in ("generations", "min_epsilon", "predictive", "reference", "trees"):
            abc.pop(key)
        scenario = self.scenario.model_dump(mode="json")
        for key in ("name", "description"):
            scenario.pop(key, None)
        scenario["population"].pop("source", None)
        scenario["national"].pop("source", None)
        payload = {
            "abc": abc,
            "rules": self.rules,
            "parameters": {k: v.model_dump() for k, v in self.spec.parameters.items()},
            "targets": [t.as_row() for t in self.targets],
            "scenario": scenario,
            "prefectures": _frame_text(self.scenario.prefectures),
            "provinces": _frame_text(self.scenario.provinces),
        }
        if self.targets.rankings is not None:  # absent: the fingerprint of earlier versions
            payload["rankings"] = {k: v.to_dict() for k, v in self.targets.rankings.items()}
        blob = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _frame_text(table: Any) -> str | None:
    return None if table is None else table.frame.to_csv(index=False)


def load_calibration(path: str | Path) -> Calibration:
    """Read and validate a calibration file; every problem is reported together."""
    path = Path(path)
    where = str(path)
    from ..experiments.whole import load_whole

    data = read_toml(path)
    return load_whole(
        data,
        CalibrationSpec,
        lambda: validate_file(where, data, CalibrationSpec, {"abc": AbcSpec, "check": CheckSpec}),
        lambda spec: _resolve(path, spec),
    )


def _resolve(path: Path, spec: CalibrationSpec) -> Calibration:
    where = str(path)
    problems: list[Problem] = []
    scen_path = _relative(path, spec.scenario)
    scenario = load_scenario(scen_path)  # its own BadInput names the scenario file
    rules = spec.rules if spec.rules is not None else [scenario.rule]
    valid_rules = scenario.valid_rules
    if not rules:
        problems.append(Problem(where, "rules", "name at least one rule"))
    for r in rules:
        if r not in valid_rules:
            problems.append(
                Problem(
                    where,
                    "rules",
                    f"unknown rule {r!r}{near(r, valid_rules)}; valid: {', '.join(valid_rules)}",
                )
            )
    if len(set(rules)) != len(rules):
        problems.append(Problem(where, "rules", "a rule is listed twice"))
    if not spec.parameters:
        problems.append(Problem(where, "parameters", "name at least one parameter to fit"))
    problems += parameter_name_problems(
        spec.parameters, where, non_numeric="not numeric: a prior needs a numeric parameter"
    )
    for name, p in spec.parameters.items():
        key = f"parameters.{name}"
        if name == "seed" or name.startswith("time."):
            problems.append(
                Problem(where, key, "cannot be calibrated (it sets the run, not the model)")
            )
        if p.values is not None:
            problems.append(
                Problem(where, key, "values = [...] is for grid designs; a prior needs "
                        "{ low, high } or { dist, params }")
            )  # fmt: skip
        if p.group is not None:
            problems.append(Problem(where, key, "groups are for sensitivity analysis, not priors"))
    target_path = _relative(path, spec.targets)
    targets = None
    try:
        targets = read_targets(
            target_path,
            named_by=f"{where}: targets",
            horizon=scenario.time.years,
            start_year=spec.start_year,
        )
    except BadInput as exc:
        problems += exc.problems
    if targets is not None and scenario.is_national and any(t.derived for t in targets):
        problems.append(Problem(where, "targets", "derived statistics (share_*, t50_*, "
                                "first_*) need a provincial scenario"))  # fmt: skip
    if targets is not None:
        targets, more = _with_rankings(path, spec, targets, scenario)
        problems += more
    truth = None
    if spec.truth is not None:
        try:
            truth = _read_truth(_relative(path, spec.truth), where, rules, list(spec.parameters))
        except BadInput as exc:
            problems += exc.problems
    if problems:
        raise BadInput(problems)
    calib = Calibration(path, spec, scenario, rules, targets, truth)  # type: ignore[arg-type]
    _check_prior_support(calib, where)
    return calib


def _with_rankings(
    path: Path, spec: CalibrationSpec, targets: Targets, scenario: Scenario
) -> tuple[Targets, list[Problem]]:
    """The targets with the published rankings their rank_rho:NAME statistics need
    (:mod:`.observed`), and the problems: a ranking not in the table, or province-level
    statistics on a province scenario."""
    from dataclasses import replace

    from . import observed

    where = str(path)
    rankings = None
    if spec.rankings is not None:
        try:
            rankings = observed.read_rankings(
                _relative(path, spec.rankings), named_by=f"{where}: rankings"
            )
        except BadInput as exc:
            return targets, list(exc.problems)
    problems = [Problem(where, "targets", m) for m in observed.check_names(
        [t.statistic for t in targets], rankings)]  # fmt: skip
    if targets.needs_result and not scenario.is_national:
        problems.append(Problem(where, "targets", "provinces_started and rank_rho:NAME need "
                                "a national scenario"))  # fmt: skip
    return replace(targets, rankings=rankings), problems


def _relative(path: Path, ref: str) -> Path:
    p = Path(ref)
    return p if p.is_absolute() else path.parent / p


def _read_truth(path: Path, named_by: str, rules: list[str], names: list[str]) -> dict[str, Any]:
    """The truth of a synthetic data set (JSON: rule, parameters), for the recovery checks."""
    where = str(path)
    if not path.is_file():
        raise BadInput.one(where, "", f"truth file not found (named by {named_by}: truth)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput.one(where, "", f"not readable JSON: {exc}") from None
    problems = []
    if not isinstance(data, dict):
        raise BadInput.one(where, "", "expected an object with rule and parameters")
    if data.get("rule") not in rules:
        problems.append(Problem(where, "rule", f"must be one of the calibrated rules {rules}"))
    params = data.get("parameters")
    if not isinstance(params, dict):
        problems.append(Problem(where, "parameters", "expected an object name -> value"))
    else:
        for name in names:
            value = params.get(name)
            if not isinstance(value, int | float) or isinstance(value, bool):
                problems.append(Problem(where, f"parameters.{name}", "expected a number"))
    if problems:
        raise BadInput(problems)
    return data


def prior_bounds(spec: ParamSpec, tail: float = UNBOUNDED_TAIL) -> tuple[float, float]:
    """The prior's support, or its ``tail`` quantiles when unbounded."""
    if spec.dist is None:
        return float(spec.low), float(spec.high)  # type: ignore[arg-type]
    params = spec.params or []
    if spec.dist in ("unif", "truncnorm"):
        return float(params[0]), float(params[1])
    if spec.dist == "triang":
        return float(params[0]), float(params[1])
    from scipy import stats

    if spec.dist == "norm":
        rv = stats.norm(params[0], params[1])
    else:  # lognorm: SALib's mean and sd of the log
        rv = stats.lognorm(s=params[1], scale=math.exp(params[0]))
    return float(rv.ppf(tail)), float(rv.ppf(1 - tail))


MAX_CORNERS = 1024


def _check_prior_support(calib: Calibration, where: str) -> None:
    """Every value a prior can propose must be one the scenario accepts.

    First each parameter's extremes alone (a message naming the parameter and the value),
    then the corners of the prior box together (up to 2^10 of them), which catches
    combinations that break a cross-field rule (e.g. capacity_spread against
    capacity_mean)."""
    base = calib.scenario.model_dump()
    keys = calib.integer_keys
    problems: dict[str, Problem] = {}
    bounds = {}
    for name, spec in calib.spec.parameters.items():
        try:
            lo, hi = prior_bounds(spec)
        except (OverflowError, ValueError) as exc:  # lognorm: exp(mean of the log) overflows
            problems[name] = Problem(
                where, f"parameters.{name}", f"the prior's parameters {spec.params} give no "
                f"finite range ({exc}); for lognorm, params are the mean and sd of the log"
            )  # fmt: skip
            continue
        if not (math.isfinite(lo) and math.isfinite(hi)):
            problems[name] = Problem(
                where, f"parameters.{name}", f"the prior's parameters {spec.params} give no "
                "finite range; for lognorm, params are the mean and sd of the log"
            )  # fmt: skip
            continue
        bounds[name] = (lo, hi)
        for value in (lo, hi):
            try:
                scenario_with(base, {name: value}, keys)
            except BadInput as exc:
                reach = "reaches" if spec.dist in ("norm", "lognorm") else "allows"
                problems.setdefault(name, Problem(
                    where, f"parameters.{name}",
                    f"the prior {reach} {value:.6g}, which the scenario rejects: "
                    f"{exc.problems[0].message}"
                    + ("; use truncnorm or bounds" if spec.dist in ("norm", "lognorm") else ""),
                ))  # fmt: skip
    if problems:
        raise BadInput(problems.values())
    names = list(bounds)
    if len(names) > 10:
        return
    for corner in itertools.islice(itertools.product(*(bounds[n] for n in names)), MAX_CORNERS):
        values = dict(zip(names, corner, strict=True))
        try:
            scenario_with(base, values, keys)
        except BadInput as exc:
            p = exc.problems[0]
            raise BadInput.one(
                where,
                "parameters",
                f"the priors allow {values}, which the scenario rejects: {p.key}: {p.message}",
            ) from None


__all__ = ["DISTS", "AbcSpec", "Calibration", "CalibrationSpec", "CheckSpec", "load_calibration"]
