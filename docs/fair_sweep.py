"""Where the fair comparison's contrasts reverse: a one-at-a-time sweep (issue 12).

Every parameter that issue 12 added or made matter is swept alone around the shipped
values of ``scenarios/zhejiang.toml`` and ``scenarios/guangdong.toml`` (every other
parameter at the scenario's value). At each value the grassroots and the contractor rule
run on the same seeds ``scenario.seed + r`` (common random numbers), so each contrast is a
paired difference ``grassroots - contractor`` per replicate, with a two-sided 95%
Student-t interval (:func:`sim.experiments.compare.interval`). The contrast *holds* when the
interval lies on the side the study's claim predicts (:data:`FACTS`), *reverses* when it
lies on the other side, and is *n.s.* when it covers 0.

Runs are built per (province, parameter) task and run as one batch
(:func:`sim.core.engine.run_batched`, the numbers of running each alone); tasks go to a
process pool (``workers``). Used by ``docs/make_fair.py`` (which writes the doc blocks).
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PROVINCES = ("zhejiang", "guangdong")
RULES = ("grassroots", "contractor")


@dataclass(frozen=True)
class Fact:
    """A contrast of the study: the sign ``grassroots - contractor`` has when it holds."""

    contrast: str
    sign: int
    claim: str


FACTS: dict[str, Fact] = {
    "t50_years": Fact("speed", +1, "the contractor reaches half coverage first"),
    "coverage_mean": Fact("speed", -1, "the contractor covers more on average"),
    "duplicate_developments": Fact("duplicates", +1, "grassroots duplicates more"),
    "service_quality": Fact("quality", +1, "grassroots users get better service"),
    "best_solution_quality": Fact("quality", +1, "grassroots has a better best solution in use"),
    "adoption_gap_years": Fact("equality", +1, "the contractor is more equal"),
    "worst_year_loss": Fact("risk", -1, "the contractor's worst year is worse"),
    "service_loss": Fact("risk", -1, "the contractor loses more service"),
    "lifecycle_cost": Fact("cost", +1, "grassroots costs more"),
}

# The sweep grids: absolute values (the same in both provinces, which ship the same values
# of these parameters), each with 0 or the neutral default and multiples of the shipped
# value; the contractor's capacity as multiples of each province's own (250 and 320).
CAPACITY_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
GRIDS: dict[str, tuple[Any, ...]] = {
    "collaboration.development_time": (0.0, 0.25, 0.5, 1.0, 2.0),
    "collaboration.local_budget": (0.0, 1.0, 3.0, 6.0, 12.0),
    "drive.absorption": (0.0, 0.15, 0.3, 0.6, 1.0),
    "drive.deployment_time": (0.0, 0.05, 0.1, 0.2, 0.4, 0.8),
    "drive.contractor_capacity": CAPACITY_FACTORS,  # x the province's value
    "drive.rollout_order": ("population", "capacity", "lagging", "random"),
    "costs.crew": (0.0, 0.025, 0.05, 0.1, 0.2, 0.4),
    "costs.operation_local": (0.0, 0.06, 0.12, 0.24, 0.48),
    "costs.operation_shared": (0.0, 0.03, 0.06, 0.12, 0.24),
    "costs.discount_rate": (0.0, 0.04, 0.08, 0.16),
    "costs.recognition": (0.0, 0.5, 2.0, 8.0),
    "costs.catalogue": (0.0, 1.0, 2.0, 4.0, 8.0, 16.0),
    "costs.migration": (0.0, 0.15, 0.3, 0.6, 1.2),
    "risk.local_failure_rate": (0.0, 0.15, 0.3, 0.6, 1.2),
    "risk.local_outage_duration": (0.05, 0.1, 0.2, 0.4),  # one step (0.083 y) at least
    "risk.standard_protection": (0.0, 0.25, 0.5, 0.75, 1.0),
    "support.consolidation_rate": (0.0, 0.1, 0.2, 0.4, 0.8),
    "support.recognition_noise": (0.0, 0.05, 0.1, 0.2, 0.4),
    "support.recognition_min_users": (1, 2, 4, 8),
}

MARK = {"holds": "✓", "reverses": "✗", "n.s.": "·"}


def path_of(province: str) -> Path:
    return ROOT / "scenarios" / f"{province}.toml"


def shipped_value(scenario: Any, param: str) -> Any:
    table, _, key = param.rpartition(".")
    return getattr(getattr(scenario, table), key)


def grid(province: str, param: str) -> list[Any]:
    """The values swept for ``param`` in ``province`` (capacity: x the shipped value)."""
    if param != "drive.contractor_capacity":
        return list(GRIDS[param])
    import sim

    base = float(shipped_value(sim.load_scenario(path_of(province)), param))
    return [base * f for f in CAPACITY_FACTORS]


def run_task(province: str, param: str, replicates: int, seed: int | None = None) -> dict:
    """Every value of one parameter, both rules, ``replicates`` paired seeds; one batch.

    Returns ``{"values": [...], "shipped": value, "data": {outcome: array (values, rules,
    replicates)}}``."""
    import sim
    from sim.core.engine import run_batched
    from sim.run import engine_for

    base = sim.load_scenario(path_of(province))
    first = base.seed if seed is None else seed
    values = grid(province, param)
    engines = []
    for v in values:
        s = sim.load_scenario(path_of(province), overrides={param: v})
        engines += [
            engine_for(s, rule=rule, seed=first + r) for rule in RULES for r in range(replicates)
        ]
    run_batched(engines)
    out = {o: np.zeros((len(values), len(RULES), replicates)) for o in FACTS}
    it = iter(engines)
    for i in range(len(values)):
        for j in range(len(RULES)):
            for r in range(replicates):
                res = next(it).outcomes()
                for o in FACTS:
                    out[o][i, j, r] = res[o]
    return {"values": values, "shipped": shipped_value(base, param), "data": out}


def verdict(sign: int, lo: float, hi: float) -> str:
    if sign * lo > 0 and sign * hi > 0:
        return "holds"
    if sign * lo < 0 and sign * hi < 0:
        return "reverses"
    return "n.s."  # also a zero-variance difference of 0 (the interval is [0, 0])


def sweep(
    replicates: int,
    *,
    workers: int = 2,
    params: list[str] | None = None,
    provinces: tuple[str, ...] = PROVINCES,
    seed: int | None = None,
) -> pd.DataFrame:
    """The whole sweep as a tidy frame: one row per (province, parameter, value, outcome)."""
    from sim.experiments.compare import interval

    params = list(GRIDS) if params is None else params
    tasks = [(p, q) for p in provinces for q in params]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(run_task, p, q, replicates, seed) for p, q in tasks]
            results = [f.result() for f in futures]
    else:
        results = [run_task(p, q, replicates, seed) for p, q in tasks]
    rows = []
    for (province, param), res in zip(tasks, results, strict=True):
        for i, v in enumerate(res["values"]):
            for o, fact in FACTS.items():
                g, c = res["data"][o][i]
                mean, _, lo, hi = interval(g - c)
                rows.append(
                    {
                        "province": province,
                        "parameter": param,
                        "value": v,
                        "shipped": _same(v, res["shipped"]),
                        "contrast": fact.contrast,
                        "outcome": o,
                        "grassroots": float(g.mean()),
                        "contractor": float(c.mean()),
                        "difference": mean,
                        "ci_low": lo,
                        "ci_high": hi,
                        "verdict": verdict(fact.sign, lo, hi),
                        "replicates": replicates,
                    }
                )
    return pd.DataFrame(rows)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return bool(np.isclose(float(a), float(b)))


# ---- tables ---------------------------------------------------------------------------------
def _num(v: Any) -> str:
    if isinstance(v, str):
        return v
    return f"{float(v):.4g}"


def _fmt(v: float) -> str:
    if abs(v) < 1e-12:
        return "0"
    return f"{v:.3g}" if abs(v) >= 0.001 else f"{v:.1e}"


def summary_table(frame: pd.DataFrame, province: str) -> str:
    """Parameter x outcome: one mark per grid value (✓ holds, ✗ reverses, · n.s.)."""
    f = frame[frame["province"] == province]
    head = ["parameter", "values (**shipped**)"] + [f"{FACTS[o].contrast}: `{o}`" for o in FACTS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for param in dict.fromkeys(f["parameter"]):
        p = f[f["parameter"] == param]
        first = p[p["outcome"] == next(iter(FACTS))]
        values = ", ".join(
            f"**{_num(v)}**" if s else _num(v)
            for v, s in zip(first["value"], first["shipped"], strict=True)
        )
        cells = []
        for o in FACTS:
            marks = "".join(MARK[v] for v in p[p["outcome"] == o]["verdict"])
            cells.append(marks)
        lines.append(f"| `{param}` | {values} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def long_table(frame: pd.DataFrame, province: str) -> str:
    """Every point: the paired difference grassroots - contractor, mean [95% CI] and mark."""
    f = frame[frame["province"] == province]
    head = ["parameter", "value"] + [f"`{o}`" for o in FACTS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (param, value), p in f.groupby(["parameter", "value"], sort=False):
        cells = []
        for o in FACTS:
            r = p[p["outcome"] == o].iloc[0]
            cells.append(
                f"{_fmt(r['difference'])} [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}] "
                f"{MARK[r['verdict']]}"
            )
        shipped = bool(p["shipped"].iloc[0])
        v = f"**{_num(value)}**" if shipped else _num(value)
        lines.append(f"| `{param}` | {v} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def flips(frame: pd.DataFrame) -> list[str]:
    """One line per (province, outcome, parameter) whose verdict is not the same everywhere."""
    out = []
    for (province, o, param), p in frame.groupby(["province", "outcome", "parameter"], sort=False):
        verdicts = list(p["verdict"])
        if len(set(verdicts)) == 1:
            continue
        runs: list[tuple[str, list[str]]] = []
        for v, vd in zip(p["value"], verdicts, strict=True):
            if runs and runs[-1][0] == vd:
                runs[-1][1].append(_num(v))
            else:
                runs.append((vd, [_num(v)]))
        categorical = any(isinstance(v, str) for v in p["value"])
        text = "; ".join(
            f"{vd} at " + (", ".join(vs) if categorical or len(vs) == 1 else f"{vs[0]}–{vs[-1]}")
            for vd, vs in runs
        )
        out.append(f"- {province}, `{o}` along `{param}`: {text}")
    return out


def block(frame: pd.DataFrame, csv_name: str) -> str:
    """The generated Markdown of the doc: summary tables, then the long tables folded."""
    r = int(frame["replicates"].iloc[0])
    n_points = frame.groupby(["province", "parameter", "value"], sort=False).ngroups
    parts = [
        f"One parameter at a time, every other at the shipped value; {n_points} points, "
        f"{r} paired replicates each (seeds `scenario.seed + r`), both rules. Each mark is one "
        "grid value, in the order listed: ✓ the study's contrast holds (95% CI of the paired "
        "difference on its side of 0), ✗ it reverses, · n.s. The claims: "
        + "; ".join(f"`{o}`: {f.claim}" for o, f in FACTS.items())
        + f". All numbers: [`docs/{csv_name}`]({csv_name}).",
    ]
    for province in dict.fromkeys(frame["province"]):
        parts += [f"**{province.capitalize()}**", summary_table(frame, province)]
    parts.append(
        "<details><summary>Where a verdict changes along a parameter</summary>\n\n"
        + "\n".join(flips(frame))
        + "\n\n</details>"
    )
    for province in dict.fromkeys(frame["province"]):
        parts.append(
            f"<details><summary>{province.capitalize()}: every point, grassroots − contractor, "
            "mean [95% CI]</summary>\n\n" + long_table(frame, province) + "\n\n</details>"
        )
    return "\n\n".join(parts)
