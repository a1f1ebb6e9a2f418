"""The fair-comparison section of docs/stylized-facts.md (issue 12).

Two generated blocks of the doc:

* ``fair``: for each shipped province scenario (Zhejiang, Guangdong), the grassroots and
  contractor rules on 40 paired replicates at the scenario's own parameters, then again
  with the contractor's capacity set so that its mean lifecycle cost equals the grassroots
  rule's (:func:`sim.experiments.match.match`): the paired difference
  ``grassroots - contractor`` [95% CI] per contrast, and the matched capacity.
* ``fair-sweep``: where each contrast holds, reverses or is n.s. along every parameter of
  issue 12, one at a time (:mod:`fair_sweep`); every number also in ``docs/fair-sweep.csv``.

    python docs/make_fair.py                      # both blocks, ~5 minutes on 2 cores
    python docs/make_fair.py --only sweep --sweep-replicates 40 --workers 2
    python docs/make_fair.py --no-doc             # print only
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fair_sweep, make_facts

import fair_sweep

ROOT = fair_sweep.ROOT
DOC = ROOT / "docs" / "stylized-facts.md"
CSV = "fair-sweep.csv"
CONTRASTS = {
    "speed": ["t50_years", "coverage_mean"],
    "duplicates": ["duplicate_developments", "duplicate_local"],
    "quality": ["best_solution_quality", "service_quality"],
    "equality": ["adoption_gap_years", "lagging_gap"],
    "risk": ["service_loss", "worst_year_loss"],
    "cost": ["lifecycle_cost", "total_cost"],
}
RULES = fair_sweep.RULES


def contrast(summary, name: str) -> str:
    row = summary[(summary["outcome"] == name) & (summary["rule"] == "grassroots - contractor")]
    m, lo, hi = (float(row[c].iloc[0]) for c in ("mean", "ci_low", "ci_high"))
    star = "*" if lo > 0 or hi < 0 else ""
    return f"{m:.3g} [{lo:.3g}, {hi:.3g}]{star}"


def province_columns(name: str, replicates: int) -> tuple:
    """(shipped summary, equal-cost summary, note on the matched capacity) of a province."""
    import sim
    from sim.experiments.compare import compare
    from sim.experiments.match import compare_matched, match

    s = sim.load_scenario(fair_sweep.path_of(name))
    shipped = compare(s, rules=RULES, replicates=replicates).summary()
    m = match(
        s,
        outcome="lifecycle_cost",
        param="drive.contractor_capacity",
        rules=RULES,
        replicates=replicates,
    )
    equal = compare_matched(s, m, rules=RULES, replicates=replicates).summary()
    lo, hi = m.interval
    note = (
        f"- {name}: contractor capacity {m.value:.4g} (95% bootstrap interval {lo:.4g} .. "
        f"{hi:.4g}; shipped {m.original:.4g}); lifecycle cost {m.achieved:.4g} against "
        f"grassroots {m.target:.4g}{'' if m.converged else ' (NOT converged)'}"
    )
    return shipped, equal, note


def fair_block(replicates: int, workers: int) -> str:
    names = fair_sweep.PROVINCES
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(names)))) as pool:
        cols = dict(zip(names, pool.map(province_columns, names, [replicates] * 2), strict=True))
    lines = [
        "| contrast | outcome | Zhejiang shipped | Zhejiang equal cost | Guangdong shipped "
        "| Guangdong equal cost |",
        "|---|---|---|---|---|---|",
    ]
    for what, outcomes in CONTRASTS.items():
        for n in outcomes:
            z, g = cols["zhejiang"], cols["guangdong"]
            lines.append(
                f"| {what} | `{n}` | {contrast(z[0], n)} | {contrast(z[1], n)} | "
                f"{contrast(g[0], n)} | {contrast(g[1], n)} |"
            )
    return "\n".join(lines) + "\n\n" + "\n".join(c[2] for c in cols.values())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replicates", type=int, default=40, help="fair table: paired replicates")
    ap.add_argument("--sweep-replicates", type=int, default=40, help="sweep: paired replicates")
    ap.add_argument("--workers", type=int, default=2, help="processes")
    ap.add_argument("--only", choices=("fair", "sweep"), default=None)
    ap.add_argument("--no-doc", action="store_true", help="print; do not rewrite the doc or CSV")
    args = ap.parse_args(argv)
    if min(args.replicates, args.sweep_replicates) < 2:
        ap.error("replicates must be at least 2 (intervals need two)")
    from make_facts import update_doc

    from sim.io import atomic_write

    blocks = {}
    if args.only in (None, "fair"):
        t0 = time.perf_counter()
        blocks["fair"] = fair_block(args.replicates, args.workers)
        print(f"## fair ({time.perf_counter() - t0:.0f} s)\n\n{blocks['fair']}\n", flush=True)
    if args.only in (None, "sweep"):
        t0 = time.perf_counter()
        frame = fair_sweep.sweep(args.sweep_replicates, workers=args.workers)
        blocks["fair-sweep"] = fair_sweep.block(frame, CSV)
        print(f"## fair-sweep ({time.perf_counter() - t0:.0f} s)\n", flush=True)
        for province in fair_sweep.PROVINCES:
            print(fair_sweep.summary_table(frame, province) + "\n")
        print("\n".join(fair_sweep.flips(frame)))
        if not args.no_doc:
            path = ROOT / "docs" / CSV
            atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.6g"))
    if not args.no_doc:
        missing = update_doc(blocks, DOC)
        if missing:
            print(f"note: no generated block for {', '.join(missing)} in {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
