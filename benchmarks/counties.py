"""Benchmark: a province run on its real counties versus on the synthetic version.

Usage (from the repository root)::

    python benchmarks/counties.py            # 50 seeds per cell
    python benchmarks/counties.py --runs 10  # quicker

Each cell is one whole ``sim.run_outcomes`` (world, steps, outcomes), warmed up once on seed
0, then timed once per seed 1..R; the real and the synthetic scenario are interleaved seed by
seed so that load from other processes hits both alike. Prints the median per run (ms) and
the ratio real / synthetic. Speed is measured here and never asserted in tests.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

import sim

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=50, help="timed runs per cell (default 50)")
    args = ap.parse_args()
    print("| province | rule | real counties (ms) | synthetic (ms) | real / synthetic |")
    print("| --- | --- | ---: | ---: | ---: |")
    for province in ("zhejiang", "guangdong"):
        real = sim.load_scenario(ROOT / "scenarios" / f"{province}.toml")
        synthetic = sim.load_scenario(ROOT / "scenarios" / f"{province}_synthetic.toml")
        for rule in sim.RULES:
            times: dict[str, list[float]] = {"real": [], "synthetic": []}
            for s in (real, synthetic):
                sim.run_outcomes(s, rule=rule, seed=0)  # warm-up
            for seed in range(1, args.runs + 1):
                for label, s in (("real", real), ("synthetic", synthetic)):
                    gc.collect()
                    start = time.perf_counter()
                    sim.run_outcomes(s, rule=rule, seed=seed)
                    times[label].append(time.perf_counter() - start)
            a, b = (1000 * statistics.median(times[k]) for k in ("real", "synthetic"))
            print(f"| {province} | {rule} | {a:.1f} | {b:.1f} | {a / b:.2f} |")


if __name__ == "__main__":
    main()
