"""What an equal-outcome match asks for, and the checks it must pass.

One set of checks serves both ways of asking: ``sim compare --match OUTCOME --by PARAM
[--rule RULE]`` (:func:`sim.experiments.match.check_match`, which names the CLI options)
and the optional ``[match]`` table of experiment files (:func:`experiment_problems`, which
names the file and ``match.outcome``, ``match.by``, ``match.rule``)::

    [match]
    outcome = "lifecycle_cost"
    by = "drive.contractor_capacity"
    rule = "contractor"      # optional, default "contractor"

In a sweep, every design point is matched on its own replicates' seeds (see
:mod:`sim.experiments.worker`); the runs table then gains :data:`COLUMNS`.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from ..errors import Problem, did_you_mean
from ..outcomes import OUTCOMES
from ..params import SECTIONS

COLUMNS = (
    "match_value",
    "match_converged",
    "match_target",
    "match_achieved",
    "match_evaluations",
)
"""Columns a matched sweep adds to every run of a design point (every rule's rows): the
matched value of ``by`` for ``rule``; whether ``rule``'s mean outcome came within 1% of the
reference's (False: the closest value found, used anyway); the reference rule's mean outcome
over the point's replicates (the target) and ``rule``'s at the matched value (achieved);
and how many values of ``by`` the search evaluated, each on every replicate."""

TYPICAL_EVALUATIONS = 12
"""Values of ``by`` a match evaluates, typically (bracketing, then bisection to 1%: 6 to 16
on the shipped scenarios; at most 40, and about 30 when no value matches), for planning:
a matched design point costs about (1 + this) x replicates runs on top of its own."""


class MatchSpec(BaseModel):
    """The ``[match]`` table of an experiment file."""

    model_config = ConfigDict(extra="forbid", strict=True)

    outcome: str
    by: str
    rule: str = "contractor"


def match_problems(
    outcome: str, param: str, rule: str, rules: Sequence[str]
) -> list[tuple[str, str]]:
    """(field, message) for each reason the match cannot be made; the fields are
    ``outcome``, ``by``, ``rule`` and ``rules``."""
    problems = []
    if outcome not in OUTCOMES:
        hint = did_you_mean(outcome, OUTCOMES)
        problems.append(("outcome", f"unknown outcome {outcome!r}{hint}"))
    table, _, key = param.rpartition(".")
    floats = [
        f"{t}.{k}"
        for t, cls in SECTIONS.items()
        for k, f in cls.model_fields.items()
        if f.annotation is float
    ]
    cls = SECTIONS.get(table)
    if cls is None or key not in cls.model_fields:
        same = [k for k in floats if k.rpartition(".")[0] == table] or floats
        hint = did_you_mean(param, same)
        problems.append(("by", f"{param!r} is not a scenario parameter{hint}"))
    elif cls.model_fields[key].annotation is not float:
        problems.append(
            ("by", f"{param!r} is not a continuous (float) parameter, which bisection needs")
        )
    if rule not in rules:
        problems.append(("rule", f"{rule!r} is not among the compared rules {list(rules)}"))
    elif len(rules) < 2:
        problems.append(("rules", f"matching needs a second rule to match {rule!r} against"))
    return problems


def experiment_problems(
    spec: MatchSpec,
    where: str,
    *,
    rules: Sequence[str],
    varied: Sequence[str],
    model: bool,
    national: bool,
) -> list[Problem]:
    """Every problem with an experiment's ``[match]`` table, naming the file and the key."""
    if model:
        return [
            Problem(
                where, "match", 'matching runs scenarios: model = "module:function" '
                "experiments cannot use [match]; remove it",
            )
        ]  # fmt: skip
    if national:
        return [Problem(where, "match", "matching runs on province scenarios only")]
    keys = {"outcome": "match.outcome", "by": "match.by", "rule": "match.rule", "rules": "rules"}
    problems = [
        Problem(where, keys[field], message)
        for field, message in match_problems(spec.outcome, spec.by, spec.rule, rules)
    ]
    if spec.by in varied:
        problems.append(
            Problem(
                where,
                "match.by",
                f"{spec.by!r} is also varied by the design ([parameters]); the match sets it "
                "at every point, so vary another parameter or match by another",
            )
        )
    return problems
