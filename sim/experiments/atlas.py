"""``sim atlas``: an experiment over a province's plausible parameter space (a prior file),
run by the sweep machinery, analysed into a sign atlas (:mod:`sim.analysis.atlas`).

An atlas file is an experiment file (:mod:`sim.experiments.experiment`) with three more
keys::

    priors = "../scenarios/priors/zhejiang.toml"  # the plausible space, with reasons
    vary = ["drive.contractor_capacity", ...]      # optional: only these of the priors
    [atlas]                                        # optional analysis settings
    level = 0.95      # interval level of a point's sign and of the shares
    max_depth = 2     # depth of the rule tree

Its ``[parameters]`` may add parameters or override a prior's bounds. The design must be
``sobol`` or ``lhs`` (a sample of the whole space, each point equally weighted) with at
least two paired replicates (a point's sign is an interval over replicates) and at least
one contrast.

A prior file (``scenarios/priors/*.toml``) lists every parameter that acts on any rule
with its plausible range and the reason for it::

    description = "..."
    [parameters]
    "drive.contractor_capacity" = { low = 125, high = 1000, reason = "..." }
    "traction.feedback_rate" = { low = 0, high = 1, reason = "...", family = "traction" }

``family`` (optional) groups parameters for the atlas's summary by family (issue 22: how
each contrast responds to each family of mechanisms); it is one of :data:`FAMILIES` and
defaults to the key's table (``drive.build_rate`` is in family ``drive``).

The runs are a sweep like any other (same seeds, progress, ``--resume``, Dask, shards;
:func:`sim.experiments.sweep.sweep`); ``DIR/atlas.json`` records the atlas settings, the
prior's path, bounds and reasons for the analysis and its report.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import BadInput, Problem, did_you_mean
from ..io import read_toml, write_json
from .experiment import (
    DesignSpec,
    Experiment,
    ExperimentSpec,
    _resolve,
    parameter_name_problems,
    validate_file,
)
from .match_spec import MatchSpec

SETTINGS = "atlas.json"
OUTPUTS = (
    "signs.csv", "importance.csv", "rules.csv", "facts.csv", "families.csv", "maps", SETTINGS,
)  # fmt: skip
"""What an atlas writes into a sweep folder besides the sweep's own files."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


FAMILIES = (
    "support", "drive", "traction", "collaboration", "diffusion", "services", "population",
    "costs", "risk",
)  # fmt: skip
"""The families a prior's parameter may belong to: the scenario tables that hold the rules'
levers, the study's four dimensions (support, drive, traction, collaboration) first."""


def default_family(name: str) -> str:
    """A parameter's family when its prior names none: the table of its key."""
    return name.partition(".")[0]


class Prior(_Strict):
    low: float
    high: float
    reason: str = Field(min_length=1)
    family: str | None = None


class PriorFile(_Strict):
    description: str = ""
    parameters: dict[str, Prior] = Field(min_length=1)


class AtlasSettings(_Strict):
    level: float = Field(0.95, gt=0.5, lt=1.0)
    max_depth: int = Field(2, ge=1, le=4)


@dataclass
class Atlas:
    """A validated atlas file: its experiment, analysis settings and prior."""

    experiment: Experiment
    settings: AtlasSettings
    priors_path: Path | None
    priors: dict[str, Prior]  # the ones varied

    def family(self, name: str) -> str:
        """The family of a varied parameter: its prior's, else its table's."""
        p = self.priors.get(name)
        return p.family if p is not None and p.family is not None else default_family(name)

    def record(self) -> dict[str, Any]:
        """What ``DIR/atlas.json`` holds."""
        params = self.experiment.spec.parameters
        return {
            **self.settings.model_dump(),
            "priors": os.path.normpath(self.priors_path) if self.priors_path else None,
            "reasons": {k: p.reason for k, p in self.priors.items() if k in params},
            "families": {k: self.family(k) for k in params},
            "bounds": {k: [p.low, p.high] for k, p in params.items() if p.low is not None},
        }


def _problems(where: str, exc: ValidationError, prefix: str = "") -> list[Problem]:
    out = []
    for err in exc.errors():
        key = prefix + ".".join(str(x) for x in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        out.append(Problem(where, key, msg))
    return out


def load_priors(path: Path) -> PriorFile:
    """A prior file, validated: every key a numeric scenario parameter, low < high, a
    reason for each; problems name the prior file and key."""
    where = str(path)
    if not path.is_file():
        raise BadInput.one(where, "", "no such prior file")
    try:
        priors = PriorFile.model_validate(read_toml(path))
    except ValidationError as exc:
        raise BadInput(_problems(where, exc)) from None
    problems = parameter_name_problems(
        priors.parameters, where, non_numeric="not numeric: a prior needs a numeric parameter"
    )
    for name, p in priors.parameters.items():
        family = p.family if p.family is not None else default_family(name)
        if family not in FAMILIES:
            problems.append(Problem(where, f"parameters.{name}.family", f"unknown family "
                                    f"{family!r}; one of {', '.join(FAMILIES)}"))  # fmt: skip
        if not p.low < p.high:
            problems.append(Problem(where, f"parameters.{name}", f"low ({p.low}) must be below "
                                    f"high ({p.high})"))  # fmt: skip
    if problems:
        raise BadInput(problems)
    return priors


def load_atlas(path: str | Path) -> Atlas:
    """Read and validate an atlas file (see the module docstring)."""
    path = Path(path)
    where = str(path)
    data = read_toml(path)
    priors_ref = data.pop("priors", None)
    vary = data.pop("vary", None)
    try:
        settings = AtlasSettings.model_validate(data.pop("atlas", {}))
    except ValidationError as exc:
        raise BadInput(_problems(where, exc, "atlas.")) from None
    problems: list[Problem] = []
    priors: dict[str, Prior] = {}
    priors_path = None
    if priors_ref is not None:
        if not isinstance(priors_ref, str):
            raise BadInput.one(where, "priors", "expected the path of a prior file")
        priors_path = Path(priors_ref)
        if not priors_path.is_absolute():
            priors_path = path.parent / priors_path
        priors = load_priors(priors_path).parameters  # its problems name the prior file
    if vary is not None:
        if not isinstance(vary, list) or not all(isinstance(v, str) for v in vary) or not vary:
            raise BadInput.one(where, "vary", "expected a non-empty list of parameter names")
        for v in vary:
            if v not in priors:
                problems.append(Problem(where, "vary", f"{v!r} is not in the prior file"
                                        + did_you_mean(v, priors)))  # fmt: skip
        priors = {k: p for k, p in priors.items() if k in vary}
    if problems:
        raise BadInput(problems)
    own = data.get("parameters", {})
    data["parameters"] = {
        **{k: {"low": p.low, "high": p.high} for k, p in priors.items()},
        **(own if isinstance(own, dict) else {}),
    }
    tables = {"design": DesignSpec, "match": MatchSpec}
    spec = validate_file(where, data, ExperimentSpec, tables)
    if spec.design.method not in ("sobol", "lhs"):
        problems.append(Problem(where, "design.method", "an atlas samples the whole space: "
                                f"sobol or lhs (got {spec.design.method})"))  # fmt: skip
    if spec.design.replicates < 2:
        problems.append(Problem(where, "design.replicates", "a point's sign needs at least 2 "
                                "paired replicates"))  # fmt: skip
    if not spec.contrasts:
        problems.append(Problem(where, "contrasts", 'name at least one, e.g. '
                                '["grassroots - contractor"]'))  # fmt: skip
    if spec.match is not None:
        problems.append(Problem(where, "match", "an atlas does not match; use sim sweep"))
    if problems:
        raise BadInput(problems)
    try:
        exp = _resolve(path, spec)
    except BadInput as exc:  # a prior's bounds the scenario rejects: name the prior file
        raise BadInput(_blame_priors(exc.problems, priors, own, priors_path)) from None
    return Atlas(exp, settings, priors_path, priors)


def _blame_priors(
    problems: list[Problem], priors: dict[str, Prior], own: Any, priors_path: Path | None
) -> list[Problem]:
    out = []
    for p in problems:
        name = p.key.removeprefix("parameters.")
        if priors_path is not None and name in priors and name not in (own or {}):
            out.append(Problem(str(priors_path), p.key, p.message))
        else:
            out.append(p)
    return out


def prepare_folder(atlas: Atlas, out: Path, *, force: bool) -> None:
    """Before the sweep: with ``force`` over a folder of another experiment, remove the old
    atlas's outputs too (the sweep removes its own)."""
    import json

    manifest = out / "manifest.json"
    if not force or not manifest.is_file():
        return
    try:
        old = json.loads(manifest.read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError):
        old = None
    if old == atlas.experiment.fingerprint():
        return
    for name in OUTPUTS:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def write_settings(atlas: Atlas, out: Path) -> None:
    """``DIR/atlas.json``: what the analysis needs besides the sweep."""
    write_json(out / SETTINGS, atlas.record())
