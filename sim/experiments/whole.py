"""One round of checks for a whole file: the schema's problems and, with them, those of the
later checks (rules, outcomes, parameter names, targets).

A schema error used to stop the checks: a file with a misspelt key, a bad bound, an unknown
rule and an unknown parameter needed three rounds of ``sim validate``. Here the keys that
failed the schema are set aside (their table's default takes their place), the rest is
validated again, and the later checks run on that; their problems are added, except those
that only follow from a key set aside (an empty ``[parameters]`` once its one bad entry is
gone). Experiment and calibration files share this.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from ..errors import BadInput, Problem


def load_whole(
    data: dict[str, Any],
    spec: type,
    validate: Callable[[], Any],
    resolve: Callable[[Any], Any],
) -> Any:
    """``resolve(validate())``; when ``validate`` (the schema) fails, its problems together
    with those ``resolve`` finds in the rest of ``data`` (validated as ``spec``)."""
    try:
        parsed = validate()
    except BadInput as first:
        raise BadInput(_more(first.problems, data, spec, resolve)) from None
    return resolve(parsed)


def _more(
    problems: list[Problem], data: dict[str, Any], spec: type, resolve: Callable[[Any], Any]
) -> list[Problem]:
    try:
        spec.model_validate(data)  # type: ignore[attr-defined]
    except ValidationError as exc:
        removed = [tuple(str(x) for x in err["loc"]) for err in exc.errors()]
    else:
        return problems
    rest = _without(data, removed)
    found = list(problems)
    try:
        resolve(spec.model_validate(rest))  # type: ignore[attr-defined]
    except BadInput as later:
        gone = {".".join(loc) for loc in removed}
        for p in later.problems:
            follows = any(g == p.key or g.startswith(p.key + ".") for g in gone)
            if p not in found and not follows:
                found.append(p)
    except (ValidationError, ValueError, TypeError, KeyError):
        pass  # the rest is not a file the later checks can read: the schema's problems only
    return found


def _without(data: dict[str, Any], locs: list[tuple[str, ...]]) -> dict[str, Any]:
    """``data`` without the keys at ``locs`` (a key of ``[parameters]`` may contain dots, so
    each loc is followed as far as it names dict keys, and the deepest one is removed)."""
    rest = copy.deepcopy(data)
    for loc in locs:
        node: Any = rest
        parent, last = None, None
        for part in loc:
            if not isinstance(node, dict) or part not in node:
                break
            parent, last, node = node, part, node[part]
        if parent is not None:
            parent.pop(last, None)
    return rest
