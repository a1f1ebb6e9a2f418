"""Generate the parameter reference (docs/parameters.md) from :mod:`sim.params` alone.

Run ``python -m sim.reference > docs/parameters.md`` (or ``make docs``); a test checks that
the committed file is current.
"""

from __future__ import annotations

from typing import Any

from pydantic.fields import FieldInfo

from .outcomes import COLUMNS, REGISTRY
from .params import SECTIONS, Scenario

INTRO = """# Parameter reference

Generated from `sim/params.py` and `sim/params_costs.py` by `python -m sim.reference` — do
not edit by hand.
Every key can be set in a scenario file (`[table]` then `key = value`), with
`--set table.key=VALUE` on the command line, or with `overrides={"table.key": value}` in
`sim.load_scenario`. Types are strict: a number where a string is expected (or the reverse)
is an error. Integer keys reject fractions. Every number must be finite (`inf` and `nan`
are errors); quantities without a natural upper bound have one where a larger value would
break the arithmetic and mean nothing more (see docs/bad-input.md).
"""


def _num(x: float) -> str:
    """Bounds as written in a file: 1e9 rather than 1000000000.0."""
    return f"{x:g}" if isinstance(x, float) else str(x)


def _range(info: FieldInfo) -> str:
    lo = hi = ""
    for m in info.metadata:
        if getattr(m, "ge", None) is not None:
            lo = f"≥ {_num(m.ge)}"
        if getattr(m, "gt", None) is not None:
            lo = f"> {_num(m.gt)}"
        if getattr(m, "le", None) is not None:
            hi = f"≤ {_num(m.le)}"
        if getattr(m, "lt", None) is not None:
            hi = f"< {_num(m.lt)}"
    args = getattr(info.annotation, "__args__", None)
    if args and all(isinstance(a, str) for a in args):
        return " \\| ".join(f'`"{a}"`' for a in args)
    return ", ".join(x for x in (lo, hi) if x) or "any"


def _default(value: Any) -> str:
    if isinstance(value, str):
        return f'`"{value}"`' if value else '`""`'
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1000:
        return f"`{value:,.0f}`"
    return f"`{value}`"


def _table(fields: dict[str, FieldInfo], prefix: str) -> list[str]:
    lines = ["| key | default | unit | range | meaning |", "|---|---|---|---|---|"]
    for name, info in fields.items():
        unit = (info.json_schema_extra or {}).get("unit", "-")  # type: ignore[union-attr]
        desc = (info.description or "").replace("|", "\\|")
        lines.append(
            f"| `{prefix}{name}` | {_default(info.default)} | {unit} | {_range(info)} | {desc} |"
        )
    return lines


def markdown() -> str:
    top = {k: v for k, v in Scenario.model_fields.items() if k not in SECTIONS}
    parts = [
        INTRO,
        "## Top level",
        "",
        *_table(top, ""),
        "",
        "`extends`: optional path of a parent "
        "scenario (relative to this file); this file's values override the parent's.",
        "",
    ]
    for table, cls in SECTIONS.items():
        parts += [f"## [{table}]", ""]
        if cls.__doc__ and not cls.__doc__.startswith("Base"):
            parts += [cls.__doc__.strip().splitlines()[0], ""]
        parts += [*_table(cls.model_fields, f"{table}."), ""]
    parts += [
        "## Outcomes of every run",
        "",
        "From the outcome registry (`sim/core/outcomes.py`). Direction: `max` = higher is "
        "better, `min` = lower is better (used by comparisons, win shares and selection maps).",
        "",
        "| outcome | meaning | unit | direction | count | national run |",
        "|---|---|---|---|---|---|",
    ]
    parts += [
        f"| `{o.name}` | {o.meaning} | {o.unit} | {o.direction} | "
        f"{'yes' if o.integer else 'no'} | {o.national} |"
        for o in REGISTRY
    ]
    parts += ["", "## Time-series columns", "", ", ".join(f"`{c}`" for c in COLUMNS), ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(markdown(), end="")
