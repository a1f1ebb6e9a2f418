"""The fair-comparison table of docs/stylized-facts.md (issue 12).

For each shipped province scenario (Zhejiang, Guangdong): the grassroots and contractor
rules on 20 paired replicates at the scenario's own parameters, then again with the
contractor's capacity set so that its mean lifecycle cost equals the grassroots rule's
(:func:`sim.experiments.match.match`). Prints a Markdown table of the paired difference
``grassroots - contractor`` [95% CI] per contrast, and the matched capacity.

    python docs/make_fair.py [--replicates 20] > /tmp/fair.md
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
    args = ap.parse_args()
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


if __name__ == "__main__":
    main()
