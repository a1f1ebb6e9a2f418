"""Experiment files (``experiments/*.toml``): what to vary, how to sample it, what to measure.

An experiment names a scenario (or a Python ``model = "module:function"``), the rules to
compare, a design (``[design]``: method, size, replicates, seed) and the parameters to vary
(``[parameters]``: dotted scenario keys with bounds, a SALib distribution, or grid values).
:func:`load_experiment` validates it completely before anything runs — including every
sampled value against the scenario's own ranges — and raises one :class:`BadInput` listing
every problem with the file and the key.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import BadInput, Problem, did_you_mean, near
from ..io import read_toml
from ..outcomes import OUTCOMES
from ..params import SECTIONS, Scenario, integer_keys, parameter_keys
from ..scenario import _problem, load_scenario
from .design import Design, build_design, expected_points, points_per_base
from .match_spec import MatchSpec, experiment_problems

METHODS = ("sobol", "morris", "lhs", "grid", "fast")
DISTS: dict[str, int] = {"unif": 2, "triang": 3, "norm": 2, "truncnorm": 4, "lognorm": 2}
"""SALib distributions and their number of parameters (SALib's own conventions: ``unif``
[low, high]; ``triang`` [lower, upper, peak as a fraction of the width]; ``norm`` [mean,
sd]; ``truncnorm`` [lower, upper, mean, sd]; ``lognorm`` [mean, sd] of the log)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class DesignSpec(_Strict):
    method: Literal["sobol", "morris", "lhs", "grid", "fast"]
    n: int | None = Field(None, ge=1, description="Base sample size (not used by grid).")
    replicates: int = Field(1, ge=1, le=10_000)
    seed: int = Field(0, ge=0)
    save_timeseries: bool = False
    common_seeds: bool = False  # every sample point on the same seeds (see worker.run_seed)
    second_order: bool = False  # sobol
    num_levels: int = Field(4, ge=2)  # morris
    optimal_trajectories: int | None = Field(None, ge=2)  # morris
    M: int = Field(4, ge=1)  # fast (interference factor)

    @model_validator(mode="after")
    def _method_rules(self) -> DesignSpec:
        m, n = self.method, self.n
        if m != "grid" and n is None:
            raise ValueError(f"design.n is required for method {m!r}")
        if m == "sobol" and n is not None and n & (n - 1):
            raise ValueError(
                f"n = {n} is not a power of two: Sobol' sequences keep their balance "
                f"properties only at powers of two (try {1 << (n.bit_length() - 1)} or "
                f"{1 << n.bit_length()})"
            )
        if m == "fast" and n is not None and n <= 4 * self.M**2:
            raise ValueError(f"FAST needs n > 4 M^2 = {4 * self.M**2} (got n = {n}, M = {self.M})")
        if m == "morris" and self.num_levels % 2:
            raise ValueError(f"num_levels must be even for Morris (got {self.num_levels})")
        trajectories = self.optimal_trajectories
        if m == "morris" and trajectories is not None and n is not None and trajectories >= n:
            raise ValueError("optimal_trajectories must be smaller than n")
        if m == "lhs" and n is not None and n < 2:
            raise ValueError("lhs needs n >= 2")
        return self


class ParamSpec(_Strict):
    low: float | None = None
    high: float | None = None
    dist: str | None = None
    params: list[float] | None = None
    values: list[int] | list[float] | list[str] | None = None
    group: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> ParamSpec:
        forms = [
            self.low is not None or self.high is not None,
            self.dist is not None,
            self.values is not None,
        ]
        if sum(forms) != 1:
            raise ValueError("give exactly one of {low, high}, {dist, params} or {values}")
        if forms[0]:
            if self.low is None or self.high is None:
                raise ValueError("bounds need both low and high")
            if not self.low < self.high:
                raise ValueError(f"low ({self.low}) must be below high ({self.high})")
            if not math.isfinite(self.high - self.low):
                raise ValueError("the range high - low is too large to sample (overflows)")
        if forms[1]:
            if self.dist not in DISTS:
                raise ValueError(f"unknown distribution {self.dist!r}; valid: {', '.join(DISTS)}")
            want = DISTS[self.dist]
            if self.params is None or len(self.params) != want:
                raise ValueError(f"{self.dist} takes {want} params (SALib conventions)")
            if self.dist in ("unif", "triang", "truncnorm") and not self.params[0] < self.params[1]:
                raise ValueError(f"{self.dist}: params[0] must be below params[1]")
            if self.dist == "triang" and not 0 <= self.params[2] <= 1:
                raise ValueError("triang: the peak is a fraction of the width, in [0, 1]")
            if self.dist in ("norm", "lognorm") and self.params[1] <= 0:
                raise ValueError(f"{self.dist}: the standard deviation must be > 0")
            if self.dist == "truncnorm" and self.params[3] <= 0:
                raise ValueError("truncnorm: the standard deviation must be > 0")
        if forms[2] and not self.values:
            raise ValueError("values must not be empty")
        return self

    def salib(self) -> tuple[list[float], str]:
        """(bounds-or-params, dist) as SALib's problem dict wants them."""
        if self.dist is not None:
            return list(self.params or []), self.dist
        return [float(self.low), float(self.high)], "unif"  # type: ignore[arg-type]


class ExperimentSpec(_Strict):
    scenario: str | None = None
    model: str | None = None
    rules: list[str] | None = Field(None, min_length=1)
    contrasts: list[str] = Field(default_factory=list)
    outcomes: list[str] | None = Field(None, min_length=1)
    description: str = ""
    design: DesignSpec
    parameters: dict[str, ParamSpec]
    match: MatchSpec | None = None  # equal-outcome matching at every point (match_spec.py)

    @model_validator(mode="after")
    def _needs_one_target(self) -> ExperimentSpec:
        if (self.scenario is None) == (self.model is None):
            raise ValueError('give either scenario = "path.toml" or model = "module:function"')
        if not self.parameters:
            raise ValueError("[parameters] must name at least one parameter")
        return self


ModelFunction = Callable[[dict[str, float], int], dict[str, float]]


@dataclass
class Experiment:
    """A validated experiment, resolved against its file (scenario loaded, model imported)."""

    path: Path
    spec: ExperimentSpec
    scenario: Scenario | None
    rules: list[str]
    outcomes: list[str]  # to analyse
    model_ref: str | None = None
    model: ModelFunction | None = field(default=None, repr=False)

    @property
    def design(self) -> DesignSpec:
        return self.spec.design

    @property
    def names(self) -> list[str]:
        return list(self.spec.parameters)

    @property
    def integer_keys(self) -> set[str]:
        """Scenario keys of integer type: sampled values are rounded to the nearest integer."""
        return set() if self.scenario is None else integer_keys(self.names)

    def problem(self) -> dict[str, Any]:
        """The SALib problem dict (grid designs have no SALib problem: bounds of the values)."""
        bounds, dists, groups = [], [], []
        for spec in self.spec.parameters.values():
            if spec.values is not None:
                numeric = [v for v in spec.values if not isinstance(v, str)]
                bounds.append([min(numeric), max(numeric)] if numeric else [0.0, 1.0])
                dists.append("unif")
            else:
                b, d = spec.salib()
                bounds.append(b)
                dists.append(d)
            groups.append(spec.group)
        problem: dict[str, Any] = {"num_vars": len(bounds), "names": self.names, "bounds": bounds}
        if any(d != "unif" for d in dists):
            problem["dists"] = dists
        if any(g is not None for g in groups):
            problem["groups"] = [
                g if g is not None else n for g, n in zip(groups, self.names, strict=True)
            ]
        return problem

    def build_design(self, n: int | None) -> Design:
        """The design of base size ``n`` (ignored by grids): :func:`design.build_design` on
        this experiment's spec."""
        levels = [p.values or () for p in self.spec.parameters.values()]
        return build_design(self.design, self.problem(), self.names, levels, n)

    def points_per_base(self) -> int:
        return points_per_base(self.design, self.problem())

    def fingerprint(self) -> str:
        """Identifies the experiment and its resolved scenario, but not the design size
        (``--extend`` grows n) — two sweeps with equal fingerprints can share a folder."""
        design = self.spec.design.model_dump()
        design.pop("n")
        if not design["common_seeds"]:  # (absent otherwise: fingerprints of older sweeps hold)
            design.pop("common_seeds")
        payload = {
            "design": design,
            "parameters": {k: v.model_dump() for k, v in self.spec.parameters.items()},
            "rules": self.rules,
            "model": self.model_ref,
            "scenario": self.scenario.model_dump(mode="json") if self.scenario else None,
            "prefectures": (
                self.scenario.prefectures.frame.to_csv(index=False)
                if self.scenario is not None and self.scenario.prefectures is not None
                else None
            ),
            "provinces": (
                self.scenario.provinces.frame.to_csv(index=False)
                if self.scenario is not None and self.scenario.provinces is not None
                else None
            ),
        }
        if self.scenario is not None:
            payload["scenario"].pop("name", None)
            payload["scenario"].pop("description", None)
            payload["scenario"]["population"].pop("source", None)  # path: content is above
            payload["scenario"]["population"].pop("counties", None)  # issue 10: content below
            counties = getattr(self.scenario.prefectures, "counties", None)
            if counties is not None:  # (absent otherwise: fingerprints of older sweeps hold)
                payload["counties"] = counties.frame.to_csv(index=False)
            payload["scenario"]["national"].pop("source", None)
        if self.spec.match is not None:  # (absent otherwise: fingerprints of older sweeps hold)
            payload["match"] = self.spec.match.model_dump()
        blob = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file; every problem is reported together."""
    path = Path(path)
    where = str(path)
    from .whole import load_whole

    tables = {"design": DesignSpec, "match": MatchSpec}
    data = read_toml(path)
    return load_whole(
        data,
        ExperimentSpec,
        lambda: validate_file(where, data, ExperimentSpec, tables),
        lambda spec: _resolve(path, spec),
    )


def validate_file(where: str, data: dict, spec: type, tables: dict[str, type]) -> Any:
    """``data`` validated as ``spec``; every problem reported together, an unknown key with
    the nearest valid one of its table (``tables``: table name -> its class; the entries of
    ``[parameters]`` are :class:`ParamSpec`). Experiment and calibration files share this."""
    try:
        return spec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            p = _problem(where, err)
            if err["type"] == "extra_forbidden":
                loc = [str(x) for x in err["loc"]]
                cls = {1: spec, 2: tables.get(loc[0])}.get(len(loc))
                if len(loc) == 3 and loc[0] == "parameters":
                    cls = ParamSpec
                if cls is not None:
                    p = Problem(
                        where, p.key, "unknown key" + did_you_mean(loc[-1], cls.model_fields)
                    )
            problems.append(p)
        raise BadInput(problems) from None


def _resolve(path: Path, spec: ExperimentSpec) -> Experiment:
    where = str(path)
    problems: list[Problem] = []
    scenario, model = None, None
    if spec.model is not None:
        model = _import_model(spec.model, path.parent, where)
        rules = ["model"]
        if spec.rules not in (None, ["model"]):
            problems.append(Problem(where, "rules", "not used with model = ...; remove it"))
    else:
        scen_path = Path(spec.scenario)  # type: ignore[arg-type]
        if not scen_path.is_absolute():
            scen_path = path.parent / scen_path
        scenario = load_scenario(scen_path)  # its own BadInput names the scenario file
        rules = spec.rules if spec.rules is not None else [scenario.rule]
        valid_rules = scenario.valid_rules
        valid = ", ".join(valid_rules)
        problems += [
            Problem(where, "rules", f"unknown rule {r!r}{near(r, valid_rules)}; valid: {valid}")
            for r in rules
            if r not in valid_rules
        ]
        if len(set(rules)) != len(rules):
            problems.append(Problem(where, "rules", "a rule is listed twice"))
        problems += parameter_name_problems(
            spec.parameters,
            where,
            non_numeric=None
            if spec.design.method == "grid"
            else "not numeric: only a grid design can vary it (values = [...])",
        )
    for c in spec.contrasts:
        a, sep, b = (part.strip() for part in c.partition(" - "))
        if not sep or a not in rules or b not in rules or a == b:
            problems.append(
                Problem(
                    where, "contrasts", f'{c!r}: expected "a - b" with a, b among the rules {rules}'
                )
            )
    _check_forms(spec, where, problems)
    if spec.match is not None:
        national = scenario is not None and scenario.is_national
        problems += experiment_problems(
            spec.match, where, rules=rules, varied=list(spec.parameters),
            model=model is not None, national=national,
        )  # fmt: skip
    if model is None:  # known without running anything: reported with the rest
        problems += [
            Problem(where, "outcomes", f"unknown outcome {o!r}" + did_you_mean(o, OUTCOMES))
            for o in spec.outcomes or []
            if o not in OUTCOMES
        ]
    if problems:
        raise BadInput(problems)
    outcomes = spec.outcomes
    if outcomes is None:
        outcomes = list(OUTCOMES) if model is None else []
    known = set(OUTCOMES) if model is None else None
    if model is not None:
        known = set(_probe_model(model, spec, where))
        outcomes = outcomes or sorted(known)
    bad = [o for o in outcomes if o not in known]  # type: ignore[operator]
    if bad:
        raise BadInput(
            [
                Problem(where, "outcomes", f"unknown outcome {o!r}" + did_you_mean(o, known))
                for o in bad
            ]
        )  # type: ignore[arg-type]
    exp = Experiment(path, spec, scenario, rules, outcomes, spec.model, model)
    design = _checked_design(exp, where)
    if scenario is not None:
        _check_design_values(exp, where, design)
    return exp


def parameter_name_problems(
    names: Iterable[str], where: str, *, non_numeric: str | None
) -> list[Problem]:
    """Each name must be a dotted scenario key, and numeric unless ``non_numeric`` (the
    message for a non-numeric key) is None. Shared by experiment files and calibration files
    (``sim.calibrate``), whose ``[parameters]`` follow the same syntax."""
    problems = []
    valid = parameter_keys()
    for name in names:
        if name not in valid:
            table = name.rpartition(".")[0]
            same = (
                [k for k in valid if k.rpartition(".")[0] == table] if table in SECTIONS else valid
            )
            problems.append(
                Problem(
                    where,
                    f"parameters.{name}",
                    "not a scenario parameter" + did_you_mean(name, same),
                )
            )
        elif non_numeric is not None and not _is_numeric(name):
            problems.append(Problem(where, f"parameters.{name}", non_numeric))
    return problems


def _is_numeric(key: str) -> bool:
    table, _, name = key.rpartition(".")
    cls = SECTIONS.get(table) if table else Scenario
    ann = cls.model_fields[name].annotation if cls else None
    return ann in (int, float)


def _check_forms(spec: ExperimentSpec, where: str, problems: list[Problem]) -> None:
    method = spec.design.method
    for name, p in spec.parameters.items():
        key = f"parameters.{name}"
        if method == "grid" and p.values is None:
            problems.append(
                Problem(where, key, "a grid design needs values = [...] for every parameter")
            )
        if method != "grid" and p.values is not None:
            problems.append(
                Problem(
                    where,
                    key,
                    f"values = [...] is for grid designs; {method} needs bounds or a distribution",
                )
            )
        if method == "morris" and p.dist not in (None, "unif"):
            problems.append(Problem(where, key, "Morris screening samples uniform bounds only"))
    groups = [p.group for p in spec.parameters.values()]
    if any(g is not None for g in groups) and method not in ("sobol", "morris"):
        problems.append(
            Problem(where, "parameters", f"groups are supported for sobol and morris, not {method}")
        )
    named = {g for g in groups if g is not None}
    ungrouped = {name for name, p in spec.parameters.items() if p.group is None}
    for g in sorted(named & ungrouped):
        problems.append(
            Problem(
                where,
                "parameters",
                f"group {g!r} has the name of an ungrouped parameter, which would join it; "
                "rename the group",
            )
        )
    factors = len(named) + len(ungrouped)
    if method == "sobol" and named and factors < 2:
        problems.append(
            Problem(
                where,
                "parameters",
                "a Sobol' design with groups needs at least two groups (SALib samples one "
                "group as if there were none); remove the group or add another",
            )
        )
    if method == "sobol" and spec.design.second_order and any(g is not None for g in groups):
        problems.append(
            Problem(
                where, "design.second_order", "SALib computes no second-order indices for groups"
            )
        )


def _import_model(ref: str, folder: Path, where: str) -> ModelFunction:
    module_name, sep, func = ref.partition(":")
    if not sep or not module_name or not func:
        raise BadInput.one(where, "model", f'expected "module:function" (got {ref!r})')
    add_import_path(folder)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any import-time failure is the user's to fix
        raise BadInput.one(
            where, "model", f"cannot import {module_name!r}: {type(exc).__name__}: {exc}"
        ) from None
    fn = getattr(module, func, None)
    if not callable(fn):
        raise BadInput.one(where, "model", f"{module_name!r} has no function {func!r}")
    return fn


def add_import_path(folder: Path) -> None:
    """Put the experiment's folder on the import path (main process and every worker)."""
    text = str(folder.resolve())
    if text not in sys.path:
        sys.path.insert(0, text)


def _probe_model(model: ModelFunction, spec: ExperimentSpec, where: str) -> list[str]:
    """Call the model once at the centre of the design to learn its outcome names."""
    params = {}
    for name, p in spec.parameters.items():
        if p.values is not None:
            params[name] = p.values[0]
        elif p.dist is not None:
            params[name] = float(p.params[0])  # type: ignore[index]
        else:
            params[name] = (p.low + p.high) / 2  # type: ignore[operator]
    try:
        out = model(params, 0)
    except Exception as exc:
        raise BadInput.one(
            where, "model", f"calling the model failed: {type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(out, dict) or not out:
        raise BadInput.one(where, "model", "must return a non-empty dict of outcome name -> number")
    return list(out)


def _checked_design(exp: Experiment, where: str) -> Design:
    """The design, checked whole: its size against the memory limit before it is built
    (and, for scenarios, the size of the largest run it asks for), then its point count
    against what the analysis expects and every value finite."""
    from .. import limits

    spec = exp.spec
    levels = [p.values or () for p in spec.parameters.values()]
    problem = exp.problem()
    points = expected_points(exp.design, problem, levels, exp.design.n)
    strings = any(isinstance(v, str) for p in spec.parameters.values() for v in p.values or ())
    estimate = limits.design_estimate(points, len(exp.names), strings=strings)
    if exp.scenario is not None:
        columns = [p.values or [p.low, p.high] for p in spec.parameters.values()]
        largest = limits.largest_values(exp.names, columns)
        size = limits.run_size(exp.scenario, **largest)
        runs = exp.design.replicates * len(exp.rules)
        estimate = limits.sweep_estimate(
            size, runs_per_point=runs, workers=1, points=points, dims=len(exp.names)
        )
    limits.check(estimate, where, "design")
    design = exp.build_design(exp.design.n)
    if design.n_points != points:
        raise BadInput.one(
            where,
            "parameters",
            f"SALib built {design.n_points} sample points where the analysis expects "
            f"{points}; check the groups and the design settings",
        )
    if design.values.dtype.kind == "f":
        bad = [
            name for j, name in enumerate(exp.names) if not np.isfinite(design.values[:, j]).all()
        ]
        if bad:
            raise BadInput(
                Problem(
                    where,
                    f"parameters.{name}",
                    "the design samples non-finite values (inf or nan): narrow the "
                    "distribution's parameters",
                )
                for name in bad
            )
    return design


def _check_design_values(exp: Experiment, where: str, design: Design) -> None:
    """Every sampled point must be one the scenario accepts (checked before any run).

    First each parameter's extremes alone (a clear message naming the parameter and the
    value), then every design row as a whole, which catches combinations that break a
    cross-field rule (e.g. capacity_spread against capacity_mean).
    """
    problems: dict[str, Problem] = {}
    base = exp.scenario.model_dump()  # type: ignore[union-attr]
    for j, name in enumerate(exp.names):
        column = design.values[:, j]
        for value in (column.min(), column.max()) if column.dtype.kind == "f" else set(column):
            try:
                scenario_with(base, {name: value}, exp.integer_keys)
            except BadInput as exc:
                msg = exc.problems[0].message  # the value as written: -1, not np.float64(-1.0)
                shown = f"{value:g}" if isinstance(value, float | np.floating) else repr(value)
                problems.setdefault(name, Problem(
                    where, f"parameters.{name}",
                    f"the design samples {shown}, which the scenario rejects: {msg}",
                ))  # fmt: skip
    if problems:
        raise BadInput(problems.values())
    for i in range(design.n_points):
        try:
            scenario_with(base, design.row(i), exp.integer_keys)
        except BadInput as exc:
            p = exc.problems[0]
            raise BadInput.one(
                where,
                "parameters",
                f"sample point {i} ({design.row(i)}) is rejected by the scenario: "
                f"{p.key}: {p.message}",
            ) from None


def scenario_with(base: dict[str, Any], values: dict[str, Any], integer_keys: set[str]) -> Scenario:
    """The base scenario (as a dict) with dotted keys set; integer keys rounded; validated."""
    data = _copy(base)
    for name, value in values.items():
        if name in integer_keys:
            value = math.floor(float(value) + 0.5)
        elif isinstance(value, float | int) and not isinstance(value, bool):
            value = float(value) if _float_key(name) else value
        table, _, key = name.rpartition(".")
        (data[table] if table else data)[key] = value
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise BadInput([_problem("design", err) for err in exc.errors()]) from None


def _copy(base: dict[str, Any]) -> dict[str, Any]:
    return {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}


def _float_key(name: str) -> bool:
    table, _, key = name.rpartition(".")
    cls = SECTIONS.get(table) if table else Scenario
    return cls is not None and cls.model_fields[key].annotation is float
