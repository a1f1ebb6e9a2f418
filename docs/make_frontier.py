"""Each rule's cost-effectiveness frontier over its own lever (issue 19), on Zhejiang.

    python docs/make_frontier.py   # ~250 runs: about a minute on one core

The contractor buys speed with capacity (``drive.contractor_capacity``, priced by the crew
and the deployments); grassroots buys it with promotion (``support.promotion_rate``),
priced here at ``costs.promotion`` = 1 cost unit per year per unit of rate (the shipped
scenario leaves it free; the priors range it over 0-2). Each point is the mean over 10
paired replicates of ``lifecycle_cost`` and ``t50_years`` (and ``value_for_money``) at one
level of the lever. Writes ``docs/frontier-zhejiang.csv`` and
``docs/figures/frontier-zhejiang.png``; the doc quotes no number from it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
LEVERS = {
    "contractor": ("drive.contractor_capacity", [125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0]),
    "grassroots": ("support.promotion_rate", [0.15, 0.3, 0.6, 1.2, 2.4, 4.8]),
}
PRICE = {"costs.promotion": 1.0}
REPLICATES = 10


def frontier() -> pd.DataFrame:
    from sim.experiments.compare import compare
    from sim.scenario import load_scenario

    rows = []
    for rule, (lever, levels) in LEVERS.items():
        for value in levels:
            s = load_scenario(ROOT / "scenarios" / "zhejiang.toml", {lever: value, **PRICE})
            runs = compare(s, rules=[rule], replicates=REPLICATES).outcomes
            mean = runs[["lifecycle_cost", "t50_years", "value_for_money"]].mean()
            rows.append({"rule": rule, "lever": lever, "value": value, **mean.to_dict()})
    return pd.DataFrame(rows)


def draw(table: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.rules import COLOURS

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for rule, group in table.groupby("rule", sort=False):
        for ax, y in zip(axes, ("t50_years", "value_for_money"), strict=True):
            ax.plot(group.lifecycle_cost, group[y], "o-", color=COLOURS.get(rule), label=rule)
            for r in group.itertuples():
                ax.annotate(f"{r.value:g}", (r.lifecycle_cost, getattr(r, y)), fontsize=7,
                            xytext=(3, 3), textcoords="offset points")  # fmt: skip
    axes[0].set_ylabel("t50_years (lower is faster)")
    axes[1].set_ylabel("value_for_money (higher is better)")
    for ax in axes:
        ax.set_xlabel("lifecycle_cost")
        ax.legend(fontsize=8)
    fig.suptitle("Zhejiang: each rule over its lever (contractor: capacity; grassroots: "
                 "promotion rate, priced at 1 per unit)", fontsize=9)  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    table = frontier()
    table.to_csv(ROOT / "docs" / "frontier-zhejiang.csv", index=False)
    draw(table, ROOT / "docs" / "figures" / "frontier-zhejiang.png")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
