"""The numbers quoted about the maps in README.md and docs/stylized-facts.md.

Runs the comparisons of the maps (``sim compare scenarios/<province>.toml --replicates 20``,
the demo; ``sim compare scenarios/china.toml --replicates 10``) and prints, per province and
rule, what the text says about the county maps: who is first and last (mean over replicates
of the year each county first offered half of its services, a replicate that never got
there counting as the horizon), the spread of the county means, how services came (shares
of served pairs), seats against the other counties, Moran's I over the border network
(of the county means, raw and with each prefecture's mean removed, and within single
runs), the same with the catalogue off, the synthetic provinces (with the real ones'
parameters) side by side, and for the
national scenario the provinces' mean years.

    python docs/map_numbers.py [--replicates 20] [--only zhejiang guangdong china]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import sim
from sim.experiments.compare import compare
from sim.world.counties import contiguity_path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("own", "peer", "catalogue", "contractor")


def weights(scenario: sim.Scenario, adcodes: np.ndarray) -> np.ndarray:
    """Binary, symmetric border weights (shared border line) in the agents' order."""
    table = pd.read_csv(
        contiguity_path(ROOT / "scenarios" / scenario.population.counties), comment="#"
    )
    index = {int(a): i for i, a in enumerate(adcodes)}
    w = np.zeros((len(adcodes), len(adcodes)))
    for a, b in zip(table["adcode_a"], table["adcode_b"], strict=True):
        if int(a) in index and int(b) in index:
            w[index[int(a)], index[int(b)]] = w[index[int(b)], index[int(a)]] = 1.0
    return w


def moran(x: np.ndarray, w: np.ndarray) -> float:
    z = x - x.mean()
    return float(len(x) / w.sum() * (z @ w @ z) / (z @ z))


def demean(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    s = pd.Series(x)
    return (s - s.groupby(groups).transform("mean")).to_numpy()


def years(cmp, rule: str, horizon: float) -> np.ndarray:
    """replicates x counties: the year each county first offered half of its services."""
    return np.vstack(
        [np.nan_to_num(a["t50_years"].to_numpy(float), nan=horizon) for a in cmp.agents[rule]]
    )


def shares(cmp, rule: str) -> dict[str, float]:
    counts = sum(a[list(SOURCES)].to_numpy().sum(axis=0) for a in cmp.agents[rule])
    return dict(zip(SOURCES, np.round(100 * counts / counts.sum(), 1), strict=True))


def province(name: str, replicates: int) -> None:
    s = sim.load_scenario(ROOT / "scenarios" / f"{name}.toml")
    cmp = compare(s, replicates=replicates)
    horizon = s.n_steps * s.dt
    first = cmp.agents[cmp.rules[0]][0]
    w = weights(s, first["adcode"].to_numpy())
    pref = first["prefecture"].to_numpy()
    print(f"\n## {name}: {replicates} replicates, seeds {cmp.seeds[0]}..{cmp.seeds[-1]}")
    for rule in cmp.rules:
        y = years(cmp, rule, horizon)
        m = y.mean(axis=0)
        frame = first[["name", "prefecture", "population", "capacity", "is_seat"]].assign(year=m)
        order = frame.sort_values("year")
        by_pref = frame.groupby("prefecture")["year"].mean().sort_values()
        print(f"\n### {rule}")
        print(f"county means: {m.min():.2f} .. {m.max():.2f} years; s.d. {m.std(ddof=1):.2f}")
        print(
            "first:",
            ", ".join(
                f"{r.name} ({r.prefecture}) {r.year:.2f}" for r in order.head(5).itertuples()
            ),
        )
        print(
            "last:",
            ", ".join(
                f"{r.name} ({r.prefecture}) {r.year:.2f}" for r in order.tail(6).itertuples()
            ),
        )
        print("prefectures, first:", ", ".join(f"{k} {v:.2f}" for k, v in by_pref.head(4).items()))
        print("prefectures, last:", ", ".join(f"{k} {v:.2f}" for k, v in by_pref.tail(4).items()))
        seats = frame["is_seat"].to_numpy(bool)
        print(f"seats {m[seats].mean():.2f}, others {m[~seats].mean():.2f}")
        print("served pairs by source, %:", shares(cmp, rule))
        print(f"corr(county mean, capacity) {np.corrcoef(m, frame['capacity'])[0, 1]:.2f}")
        within = [moran(demean(row, pref), w) for row in y]
        print(
            f"Moran's I: means {moran(m, w):.2f}; prefecture means removed "
            f"{moran(demean(m, pref), w):.2f}; within runs (prefecture means removed) "
            f"{np.mean(within):.2f}"
        )
    off = sim.load_scenario(
        ROOT / "scenarios" / f"{name}.toml",
        overrides={
            "support.catalog_visibility": 0.0,
            "support.promotion_rate": 0.0,
            "support.consolidation_rate": 0.0,  # migrations to the standard: catalogue too
        },
    )
    cmp_off = compare(off, rules=["grassroots"], replicates=replicates)
    y = years(cmp_off, "grassroots", horizon)
    within = [moran(demean(row, pref), w) for row in y]
    print(
        f"\ncatalogue off, grassroots: served pairs by source, % {shares(cmp_off, 'grassroots')}; "
        f"Moran's I within runs (prefecture means removed) {np.mean(within):.2f}"
    )
    # The synthetic province with the real one's parameters (the *_synthetic.toml files keep
    # the values from before issue 12): only the population and the network differ.
    same = {
        f"{table}.{key}": value
        for table in ("support", "drive", "collaboration", "traction", "costs", "risk")
        for key, value in getattr(s, table).model_dump().items()
    }
    synth = sim.load_scenario(ROOT / "scenarios" / f"{name}_synthetic.toml", overrides=same)
    rows = []
    for label, sc in (("synthetic", synth), ("real", s)):
        summ = compare(sc, rules=["grassroots", "contractor"], replicates=replicates).summary()
        for o in ("t50_years", "duplicate_developments", "lagging_gap", "adoption_gap_years"):
            for rule in ("grassroots", "contractor"):
                v = summ[(summ.outcome == o) & (summ.rule == rule)]["mean"].iloc[0]
                rows.append((label, o, rule, round(float(v), 3)))
    print("\nsynthetic vs real (grassroots / contractor):")
    table = pd.DataFrame(rows, columns=["province", "outcome", "rule", "mean"])
    print(table.pivot_table(index=["outcome", "province"], columns="rule", values="mean"))


def china(replicates: int) -> None:
    s = sim.load_scenario(ROOT / "scenarios" / "china.toml")
    cmp = compare(s, replicates=replicates)
    print(f"\n## china: {replicates} replicates, seeds {cmp.seeds[0]}..{cmp.seeds[-1]}")
    horizon = s.n_steps * s.dt
    for rule in cmp.rules:
        frames = cmp.provinces[rule]
        t50 = np.vstack(
            [np.nan_to_num(f["t50_years"].to_numpy(float), nan=horizon) for f in frames]
        ).mean(axis=0)
        f0 = frames[0].assign(year=t50)
        print(f"\n### {rule}")
        if "rule" in f0:
            for r, g in f0.groupby("rule"):
                print(f"  provinces under {r}: {g['year'].min():.2f} .. {g['year'].max():.2f}")
        name = "name" if "name" in f0 else f0.columns[0]
        order = f0.sort_values("year")
        print(
            "  first:", ", ".join(f"{r[name]} {r['year']:.2f}" for _, r in order.head(4).iterrows())
        )
        print(
            "  last:", ", ".join(f"{r[name]} {r['year']:.2f}" for _, r in order.tail(4).iterrows())
        )
    base = s.seed
    for label, over in (
        ("default", {}),
        ("cross_learning 0.5", {"national.cross_learning": 0.5}),
        ("sharing_lag 0.25", {"national.sharing_lag": 0.25}),
    ):
        sc = sim.load_scenario(ROOT / "scenarios" / "china.toml", overrides=over or None)
        d = [sim.run_outcomes(sc, seed=base + r)["duplicate_developments"] for r in range(3)]
        print(f"duplicates, mixed, seeds {base}..{base + 2}, {label}: {np.mean(d):.0f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--only", nargs="*", default=["zhejiang", "guangdong", "china"])
    args = ap.parse_args(argv)
    for name in args.only:
        if name == "china":
            china(10 if args.replicates == 20 else args.replicates)
        else:
            province(name, args.replicates)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
