"""Scenario files: TOML in, a validated :class:`~sim.params.Scenario` out.

Resolution order, lowest to highest precedence: parameter defaults, the ``extends`` chain
(parent first), the file itself, then ``overrides`` (``--set`` on the command line).
Relative paths (``extends``, ``population.source``, ``population.counties``,
``national.source``) are resolved
against the file that names them, before files are merged, so a child may extend a parent
in another folder.

Every problem in a file is collected and raised together as one :class:`BadInput`.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import BadInput, Problem, did_you_mean
from .params import SECTIONS, Scenario, parameter_keys


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read, merge, override and validate a scenario file.

    ``overrides`` maps dotted keys to values, e.g. ``{"drive.contractor_capacity": 40}``;
    they are checked exactly like values in the file.
    """
    path = Path(path)
    data = _read_chain(path, chain=())
    source = str(path)
    problems: list[Problem] = []
    file_data = copy.deepcopy(data) if overrides else None
    if overrides:
        problems += _apply_overrides(data, overrides)
    try:
        scenario = _validate(data, source, problems, set(overrides or ()))
    except BadInput as exc:
        raise _blame_overrides(exc, file_data, source, overrides) from None
    scenario._path = str(path)
    pop = scenario.population
    if pop.source != "synthetic":
        try:
            from .world.population import read_prefectures  # pandas: only for CSV sources

            table = read_prefectures(pop.source, scenario_file=source)
        except BadInput as exc:  # say which scenario (or --set) named the CSV
            raise _named_by(exc, "population.source", source, overrides) from None
        n = int(table.frame["local_governments"].sum())
        if pop.network == "small_world" and pop.mean_degree >= n:
            raise BadInput.one(
                source,
                "population.mean_degree",
                f"must be below the {n} local governments of {pop.source}",
            )
        if pop.counties:  # real county-level governments (sim.world.counties)
            from dataclasses import replace

            from .world.counties import CONTIGUITY_NETWORKS, read_counties

            try:
                counties = read_counties(
                    pop.counties,
                    scenario_file=source,
                    prefectures=table,
                    need_borders=pop.network in CONTIGUITY_NETWORKS,
                )
            except BadInput as exc:
                raise _named_by(exc, "population.counties", source, overrides) from None
            table = replace(table, counties=counties)
        scenario._prefectures = table
    if scenario.is_national:
        from .world.provinces import read_provinces

        try:
            scenario._provinces = read_provinces(scenario, scenario_file=source)
        except BadInput as exc:
            raise _named_by(exc, "national.source", source, overrides, say=False) from None
    return scenario


def _named_by(
    exc: BadInput, key: str, source: str, overrides: Mapping[str, Any] | None, *, say: bool = True
) -> BadInput:
    """Problems of a data file named by ``key``: blamed on ``--set`` when the override gave
    the file (not on the scenario, which may name a good one), and saying who named it."""
    given = overrides is not None and key in overrides
    named = f"the {key} given with --set" if given else f"the {key} of {source}"

    def blamed(p: Problem) -> Problem:
        if p.source == source:
            return Problem("--set", p.key, p.message) if given and p.key == key else p
        return Problem(p.source, p.key, f"{p.message} ({named})") if say else p

    return BadInput(blamed(p) for p in exc.problems)


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse a ``--set KEY=VALUE`` argument; VALUE is a TOML literal (bare words as strings)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise BadInput.one("--set", text, "expected KEY=VALUE, e.g. drive.contractor_capacity=40")
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word such as small_world: a string, validated like file values
    return key, value


def _read_toml(path: Path, named_by: str | None) -> dict[str, Any]:
    where = str(path)
    if not path.is_file():
        what = f"extends file not found (named by {named_by})" if named_by else "file not found"
        raise BadInput.one(where, "extends" if named_by else "", what)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        if named_by:  # the mistake is in the extending file: name it first
            hint = (
                "; a data CSV goes in population.source, population.counties or national.source"
                if path.suffix.lower() in (".csv", ".tsv", ".txt", ".json", ".geojson")
                else ""
            )
            raise BadInput.one(
                named_by, "extends", f"names {where}, which is not a scenario file "
                f"(not valid TOML: {exc}){hint}"
            ) from None  # fmt: skip
        raise BadInput.one(where, "", f"not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput.one(where, "", f"cannot read: {exc}") from None


def _read_chain(path: Path, chain: tuple[Path, ...], named_by: str | None = None) -> dict[str, Any]:
    """Read ``path`` and everything it extends, merged parent-first."""
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        raise BadInput.one(str(path), "extends", f"cycle: {cycle}")
    data = _read_toml(path, named_by)
    _resolve_paths(data, path.parent)
    parent_ref = data.pop("extends", None)
    if parent_ref is None:
        return data
    if not isinstance(parent_ref, str):
        raise BadInput.one(str(path), "extends", "must be a path string")
    parent = _read_chain(Path(parent_ref), (*chain, resolved), named_by=str(path))
    return _deep_merge(parent, data)


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Make relative paths absolute against the folder of the file that names them."""
    ext = data.get("extends")
    if isinstance(ext, str) and not Path(ext).is_absolute():
        data["extends"] = str(base / ext)
    for table, default in (("population", "synthetic"), ("national", "")):
        section = data.get(table)
        if isinstance(section, dict):
            src = section.get("source")
            if isinstance(src, str) and src != default and not Path(src).is_absolute():
                section["source"] = str((base / src).resolve())
    population = data.get("population")
    counties = population.get("counties") if isinstance(population, dict) else None
    if isinstance(counties, str) and counties and not Path(counties).is_absolute():
        population["counties"] = str((base / counties).resolve())


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def _apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any]) -> list[Problem]:
    valid = parameter_keys()
    problems = []
    for key, value in overrides.items():
        if key not in valid:
            table = key.rpartition(".")[0]
            same_table = (
                [k for k in valid if k.rpartition(".")[0] == table] if table in SECTIONS else []
            )
            hint = did_you_mean(key, same_table or valid)
            if not same_table:  # list tables, not all ~50 keys
                hint = hint.split("; valid keys:")[0] + "; valid tables: " + ", ".join(SECTIONS)
            problems.append(Problem("--set", key, "unknown parameter" + hint))
            continue
        table, _, name = key.rpartition(".")
        target = data.setdefault(table, {}) if table else data
        if not isinstance(target, dict):
            continue  # the file's own type error for this table is reported by validation
        target[name] = value
    return problems


def _validate(
    data: dict[str, Any], source: str, problems: list[Problem], overridden: set[str]
) -> Scenario:
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            problem = _problem(source, err)
            if problem.key in overridden:  # the bad value came from --set, not the file
                problem = Problem("--set", problem.key, problem.message)
            problems.append(problem)
        raise BadInput(problems) from None
    if problems:
        raise BadInput(problems)
    return scenario


def _blame_overrides(
    exc: BadInput,
    file_data: dict[str, Any] | None,
    source: str,
    overrides: Mapping[str, Any] | None,
) -> BadInput:
    """Attribute to ``--set`` the problems that the file alone does not have.

    A cross-field check reports the field it checks (``population.capacity_spread``), which
    may be the file's value even when an override (``--set population.capacity_mean=1``)
    made it fail; such a problem names the overrides instead of the file."""
    if file_data is None or not overrides:
        return exc
    try:
        Scenario.model_validate(file_data)
        in_file: set[str] = set()
    except ValidationError as alone:
        in_file = {".".join(str(part) for part in err["loc"]) for err in alone.errors()}

    def blamed(p: Problem) -> Problem:
        if p.source != source or p.key in in_file:
            return p
        table = p.key.rpartition(".")[0]
        near = [k for k in overrides if k.rpartition(".")[0] == table] or list(overrides)
        given = ", ".join(f"--set {k}={overrides[k]!r}" for k in near)
        return Problem("--set", p.key, f"{p.message} (with {given})")

    return BadInput(blamed(p) for p in exc.problems)


def _problem(source: str, err: Any) -> Problem:
    loc = [str(part) for part in err["loc"]]
    key = ".".join(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        table = loc[0] if len(loc) > 1 else None
        cls = SECTIONS.get(table) if table else Scenario
        valid = [k for k in (cls.model_fields if cls else {})]
        if table is None:
            valid = [*valid, "extends"]
        return Problem(source, key, "unknown key" + did_you_mean(loc[-1], valid))
    got = err.get("input")
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if kind not in {"missing"} and not isinstance(got, dict):
        message += f" (got {got!r})"
    return Problem(source, key, message)
