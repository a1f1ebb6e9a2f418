"""The generated block of docs/mechanisms.md: how each mechanism of issues 19 and 22 moves
the main contrasts (grassroots - contractor) on the shipped provinces.

For Zhejiang and Guangdong, both rules on 20 paired replicates (seeds ``scenario.seed +
r``, common random numbers) under each variant: the shipped scenario with every new
mechanism at its neutral value ("before"), the shipped scenario as it is ("shipped"), and
"before" with one mechanism switched on at an illustrative value. Per outcome, the mean
paired difference and its 95% Student-t interval (``*``: the interval excludes 0). Every
number is also in ``docs/mechanisms.csv``; ``tests/test_mechanisms_doc.py`` checks the
block against the CSV and re-runs one row.

    python docs/make_mechanisms.py            # ~2 minutes on 2 busy cores
    python docs/make_mechanisms.py --no-doc   # print only
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "mechanisms.md"
CSV = ROOT / "docs" / "mechanisms.csv"
PROVINCES = ("zhejiang", "guangdong")
RULES = ("grassroots", "contractor")
REPLICATES = 20
OUTCOMES = (
    "t50_years",
    "duplicate_developments",
    "service_quality",
    "adoption_gap_years",
    "lifecycle_cost",
)
OFF: dict[str, object] = {
    "drive.crowding_timing": "start",
    "drive.absorption_scope": "contractor",
}
"""The new parameters that the shipped scenarios switch on, at their neutral values."""
VARIANTS: dict[str, dict[str, object]] = {
    "before (new mechanisms off)": OFF,
    "shipped": {},
    "crowding follows the plan (1 year ahead)": {**OFF, "drive.crowding_timing": "plan"},
    "absorption of every outside solution": {**OFF, "drive.absorption_scope": "all"},
    "module quality s.d. 0.15": {**OFF, "drive.module_quality_sd": 0.15},
    "upgrades and feedback 0.5/year": {
        **OFF,
        "drive.upgrade_rate": 0.5,
        "traction.feedback_rate": 0.5,
    },
    "hazard elasticity 0.5": {**OFF, "collaboration.hazard_elasticity": 0.5},
    "rankings, pressure 1": {**OFF, "diffusion.ranking_pressure": 1.0},
    "mandate 1/year from year 2, deadline 2 years": {
        **OFF,
        "diffusion.mandate_rate": 1.0,
        "diffusion.mandate_year": 2.0,
        "diffusion.mandate_deadline": 2.0,
    },
    "5 pilots": {**OFF, "diffusion.pilot_count": 5},
    "learning from outcomes 0.5": {**OFF, "diffusion.learning_weight": 0.5},
    "de-adoption 0.5/year below 0.4": {**OFF, "diffusion.deadoption_rate": 0.5},
    "ministries on 5 services": {**OFF, "diffusion.ministry_services": 5},
    "demand heterogeneity 0.5": {**OFF, "traction.demand_heterogeneity": 0.5},
    "reinvention s.d. 0.1": {**OFF, "collaboration.reinvention_sd": 0.1},
    "tenders every 3 years, 3 bidders": {
        **OFF,
        "drive.contract_period": 3.0,
        "drive.bidders": 3,
    },
    "demand growth 2, priority feedback 1": {
        **OFF,
        "traction.demand_growth": 2.0,
        "traction.priority_feedback": 1.0,
    },
    "4 shared data resources, 0.5/year": {
        **OFF,
        "support.data_resources": 4,
        "support.data_rate": 0.5,
    },
    "legacy systems on 30% of pairs, risk 0.3": {
        **OFF,
        "support.legacy_share": 0.3,
        "support.legacy_risk": 0.3,
    },
    "operator carries outages (cost 1/pair-year)": {
        **OFF,
        "drive.operator_share": 1.0,
        "costs.outage": 1.0,
    },
}


def paired(province: str, overrides: dict[str, object]) -> dict[str, np.ndarray]:
    """outcome -> grassroots - contractor per replicate (one batch)."""
    import sim
    from sim.core.engine import run_batched
    from sim.run import engine_for

    s = sim.load_scenario(ROOT / "scenarios" / f"{province}.toml", overrides or None)
    engines = [
        engine_for(s, rule=rule, seed=s.seed + r) for rule in RULES for r in range(REPLICATES)
    ]
    run_batched(engines)
    rows = [e.outcomes() for e in engines]
    out = {}
    for o in OUTCOMES:
        x = np.array([row[o] for row in rows]).reshape(len(RULES), REPLICATES)
        out[o] = x[0] - x[1]
    return out


def rows() -> list[dict[str, object]]:
    from sim.experiments.compare import interval

    out = []
    for province in PROVINCES:
        for name, over in VARIANTS.items():
            diffs = paired(province, over)
            for o in OUTCOMES:
                mean, _, lo, hi = interval(diffs[o])
                out.append(
                    {
                        "province": province,
                        "variant": name,
                        "outcome": o,
                        "mean": mean,
                        "ci_low": lo,
                        "ci_high": hi,
                    }
                )
    return out


def read_csv(path: Path = CSV) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as f:
        return [
            {**r, **{k: float(r[k]) for k in ("mean", "ci_low", "ci_high")}}
            for r in csv.DictReader(f)
        ]


def write_csv(data: list[dict[str, object]], path: Path = CSV) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(data[0]))
        w.writeheader()
        for r in data:
            w.writerow({k: (repr(float(v)) if isinstance(v, float) else v) for k, v in r.items()})


def _cell(r: dict[str, object]) -> str:
    m, lo, hi = (float(r[k]) for k in ("mean", "ci_low", "ci_high"))  # type: ignore[arg-type]
    star = "*" if lo > 0 or hi < 0 else ""
    return f"{m:.3g} [{lo:.3g}, {hi:.3g}]{star}"


def render(data: list[dict[str, object]]) -> str:
    """The generated block: one table per province, a row per variant."""
    lines = []
    for province in PROVINCES:
        lines += [
            f"**{province.capitalize()}** (grassroots - contractor, {REPLICATES} paired seeds):",
            "",
            "| variant | " + " | ".join(f"`{o}`" for o in OUTCOMES) + " |",
            "|---" * (len(OUTCOMES) + 1) + "|",
        ]
        for name in VARIANTS:
            cells = {
                r["outcome"]: _cell(r)
                for r in data
                if r["province"] == province and r["variant"] == name
            }
            lines.append(f"| {name} | " + " | ".join(cells[o] for o in OUTCOMES) + " |")
        lines.append("")
    return "\n".join(lines)


def update_doc(block: str, path: Path = DOC) -> None:
    text = path.read_text(encoding="utf-8")
    begin, end = "<!-- BEGIN GENERATED mechanisms -->", "<!-- END GENERATED mechanisms -->"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{block}{end}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-doc", action="store_true", help="print, write nothing")
    args = ap.parse_args(argv)
    data = rows()
    block = render(data)
    if args.no_doc:
        print(block)
        return 0
    write_csv(data)
    update_doc(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
