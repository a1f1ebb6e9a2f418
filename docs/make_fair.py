"""The fair-comparison table of docs/stylized-facts.md (issue 12).

For each shipped province scenario (Zhejiang, Guangdong): the grassroots and contractor
rules on 20 paired replicates at the scenario's own parameters, then again with the
contractor's capacity set so that its mean lifecycle cost equals the grassroots rule's
(:func:`sim.experiments.match.match`). Prints a Markdown table of the paired difference
``grassroots - contractor`` [95% CI] per contrast, and the matched capacity.

    python docs/make_fair.py [--replicates 20] > /tmp/fair.md
    python docs/make_fair.py --sweep --replicates 10 > /tmp/sweep.md   # where they reverse
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sim
from sim.experiments.compare import compare
from sim.experiments.match import compare_matched, match

ROOT = Path(__file__).resolve().parents[1]
CONTRASTS = {
    "speed": ["t50_years", "coverage_mean"],
    "duplicates": ["duplicate_developments", "duplicate_local"],
    "quality": ["best_solution_quality", "service_quality"],
    "equality": ["adoption_gap_years", "lagging_gap"],
    "risk": ["service_loss", "worst_year_loss"],
    "cost": ["lifecycle_cost", "total_cost"],
}
RULES = ("grassroots", "contractor")


def contrast(summary, name: str) -> str:
    row = summary[(summary["outcome"] == name) & (summary["rule"] == "grassroots - contractor")]
    m, lo, hi = (float(row[c].iloc[0]) for c in ("mean", "ci_low", "ci_high"))
    star = "*" if lo > 0 or hi < 0 else ""
    return f"{m:.3g} [{lo:.3g}, {hi:.3g}]{star}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--sweep", action="store_true", help="only the reversal sweep")
    args = ap.parse_args()
    if args.sweep:
        sweep(args.replicates)
        return
    lines = []
    matched_notes = []
    cols = {}
    for name in ("zhejiang", "guangdong"):
        s = sim.load_scenario(ROOT / "scenarios" / f"{name}.toml")
        shipped = compare(s, rules=RULES, replicates=args.replicates).summary()
        m = match(
            s,
            outcome="lifecycle_cost",
            param="drive.contractor_capacity",
            rules=RULES,
            replicates=args.replicates,
        )
        equal = compare_matched(s, m, rules=RULES, replicates=args.replicates).summary()
        cols[name] = (shipped, equal)
        lo, hi = m.interval
        matched_notes.append(
            f"- {name}: contractor capacity {m.value:.4g} (95% bootstrap interval {lo:.4g} .. "
            f"{hi:.4g}; shipped {m.original:.4g}); lifecycle cost {m.achieved:.4g} against "
            f"grassroots {m.target:.4g}{'' if m.converged else ' (NOT converged)'}"
        )
    lines.append(
        "| contrast | outcome | Zhejiang shipped | Zhejiang equal cost | Guangdong shipped "
        "| Guangdong equal cost |"
    )
    lines.append("|---|---|---|---|---|---|")
    for what, names in CONTRASTS.items():
        for n in names:
            z, g = cols["zhejiang"], cols["guangdong"]
            lines.append(
                f"| {what} | `{n}` | {contrast(z[0], n)} | {contrast(z[1], n)} | "
                f"{contrast(g[0], n)} | {contrast(g[1], n)} |"
            )
    print("\n".join(lines))
    print()
    print("\n".join(matched_notes))


SWEEPS = {
    "drive.contractor_capacity": (0.5, 1.0, 2.0, 4.0, 8.0),  # x the scenario's value
    "risk.local_failure_rate": (0.0, 1.0, 3.0),
    "costs.operation_local": (0.5, 1.0, 2.0),
}
SWEPT = ("t50_years", "adoption_gap_years", "worst_year_loss", "service_loss", "lifecycle_cost")


def sweep(replicates: int) -> None:
    """Where the contrasts reverse: grassroots - contractor along one parameter at a time
    (x the scenario's value; the others at the scenario's)."""
    from sim.experiments.experiment import scenario_with

    print("| scenario | parameter | value | " + " | ".join(f"`{n}`" for n in SWEPT) + " |")
    print("|---|---|---|" + "---|" * len(SWEPT))
    for name in ("zhejiang", "guangdong"):
        s = sim.load_scenario(ROOT / "scenarios" / f"{name}.toml")
        for param, factors in SWEEPS.items():
            table, _, key = param.rpartition(".")
            base = float(getattr(getattr(s, table), key))
            for f in factors:
                v = base * f
                t = scenario_with(s.model_dump(), {param: v}, set())
                t._prefectures, t._path = s.prefectures, s.path
                summary = compare(t, rules=RULES, replicates=replicates).summary()
                cells = " | ".join(contrast(summary, n) for n in SWEPT)
                print(f"| {name} | `{param}` | {v:.4g} | {cells} |")


if __name__ == "__main__":
    main()
