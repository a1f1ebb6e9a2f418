"""How long does a Zhejiang calibration take? Three rules, four parameters.

The issue's yardstick: 1,000 particles, 8 generations, 2 cores, aim under 2 minutes. The
targets are synthetic (one grassroots run of ``scenarios/zhejiang.toml`` with its own
values, seed 2014: coverage at years 1-10 and duplicate developments at 2, 4, 6, 10).

    python benchmarks/calibration_speed.py --quick    # 100 particles, 2 generations (minutes)
    python benchmarks/calibration_speed.py            # 1,000 particles, 8 generations (long)
    python benchmarks/calibration_speed.py --free-model --workers 1   # the overhead alone

``--free-model`` replaces the runs by a function that costs nothing (the observed values
plus noise that depends on the parameters and the seed), so the time measured is the
sampler's, pyabc's and the history's own: the floor under any engine.

Reports the wall time, the runs (kept in the history and all made, including those
discarded past a generation's end), each generation's time, and how much of the time the
model runs themselves take: the mean time of one ``sim.run`` on Zhejiang, measured
in-process on 60 runs at prior draws, times the runs made, over the worker count. The rest
is the sampler's and pyabc's own overhead (proposals, distances, the SQLite history).
Writes benchmarks/calibration-speed-results.md (or --out) and prints it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "zhejiang.toml"
PRIORS = {
    "collaboration.innovation_rate": (0.02, 0.2),
    "collaboration.peer_learning": (0.2, 1.2),
    "drive.contractor_capacity": (50.0, 1000.0),
    "support.catalog_visibility": (0.1, 1.0),
}
RULES = ("grassroots", "contractor", "hybrid")


def _script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "make_synthetic_targets", ROOT / "experiments" / "make_synthetic_targets.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def run_cost(n: int = 60) -> float:
    """Mean seconds of one sim.run on Zhejiang at prior draws, rules in turn."""
    import sim

    rng = np.random.default_rng(0)
    total = 0.0
    for i in range(n):
        values = {k: float(rng.uniform(lo, hi)) for k, (lo, hi) in PRIORS.items()}
        scenario = sim.load_scenario(SCENARIO, overrides=values)
        start = time.perf_counter()
        sim.run(scenario, rule=RULES[i % 3], seed=i)
        total += time.perf_counter() - start
    return total / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 particles, 2 generations")
    parser.add_argument("--population", type=int, default=1000)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scheduler", default=None, help='as sim calibrate (e.g. "local")')
    parser.add_argument("--free-model", action="store_true", help="runs that cost nothing")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "calibration-speed-results.md"
    )
    args = parser.parse_args(argv)  # fmt: skip
    if args.quick:
        args.population, args.generations = 100, 2
    if args.out == parser.get_default("out") and (args.quick or args.free_model):
        suffix = "-".join(n for n, on in (("quick", args.quick), ("free", args.free_model)) if on)
        args.out = args.out.with_name(f"calibration-speed-{suffix}.md")
    import pyabc

    from sim.calibrate import calibrate

    if args.free_model:
        if args.workers != 1 or args.scheduler:
            parser.error("--free-model runs in this process: use --workers 1")
        _free_model()

    script = _script()
    with tempfile.TemporaryDirectory(prefix="calibration-speed-") as tmp:
        d = Path(tmp)
        truth = _own_values()
        rows, info = script.make_targets(
            SCENARIO, rule="grassroots", values=truth, seed=2014,
            statistics={"coverage": list(range(1, 11)),
                        "duplicate_developments": [2, 4, 6, 10]},
        )  # fmt: skip
        script.write(d / "targets.csv", rows, info, "synthetic")
        params = "\n".join(
            f'"{k}" = {{ low = {lo}, high = {hi} }}' for k, (lo, hi) in PRIORS.items()
        )
        (d / "calib.toml").write_text(
            f'scenario = "{SCENARIO}"\nrules = {json.dumps(list(RULES))}\n'
            'targets = "targets.csv"\n'
            f"[abc]\npopulation = {args.population}\ngenerations = {args.generations}\n"
            f"seed = 1\npredictive = 0\n[parameters]\n{params}\n"
        )  # fmt: skip
        started = time.perf_counter()
        result = calibrate(
            d / "calib.toml", d / "out", workers=args.workers, scheduler=args.scheduler,
            figures=False,
        )  # fmt: skip
        wall = time.perf_counter() - started
        history = pyabc.History(f"sqlite:///{d / 'out' / 'abc.db'}", _id=1)
        pops = history.get_all_populations()
    per_run = 0.0 if args.free_model else run_cost()
    sim_seconds = result.runs * per_run / args.workers
    p = result.probabilities
    gens = [
        f"| {int(r.t)} | {int(r.samples):,} | {r.wall_time:.1f} | {r.epsilon:.3g} |"
        for r in pops.itertuples()
    ]
    command = "python benchmarks/calibration_speed.py " + " ".join(argv or sys.argv[1:])
    lines = [
        "# Calibration speed: Zhejiang, three rules, four parameters",
        "",
        f"`{command.strip()}` on {args.workers} worker(s)"
        + (f" (scheduler {args.scheduler})" if args.scheduler else "")
        + f", {os.cpu_count()} cores ({platform.machine()}, Python "
        f"{platform.python_version()}, pyabc {pyabc.__version__}).",
        "",
        f"- {args.population:,} particles, {result.generations} generations: "
        f"**{wall:.1f} s** wall ({result.seconds:.1f} s inside `calibrate`, tables and "
        "report included, figures off).",
        f"- Runs: {result.evaluations:,} kept in the history, {result.runs:,} made "
        f"({result.runs / wall:.0f} runs/s).",
        (
            f"- Free model (runs cost nothing): {1000 * wall / result.runs:.2f} ms of "
            "overhead per run made, start-up (importing pyabc) and history included."
            if args.free_model
            else f"- One `sim.run` on Zhejiang: {per_run * 1000:.1f} ms (mean of 60 "
            f"in-process runs at prior draws). The runs account for about {sim_seconds:.0f} s "
            f"of the wall time ({100 * sim_seconds / wall:.0f}%) on {args.workers} "
            "worker(s); the rest is the sampler, pyabc and the history."
        ),
        "- P(rule | data): " + ", ".join(f"{r} {p[r]:.3f}" for r in RULES)
        + " (the data were made under grassroots).",
        "",
        "| generation | runs kept | wall time (s) | epsilon |",
        "| ---: | ---: | ---: | ---: |",
        *gens,
        "",
        "Generation -1 is pyabc's calibration sample from the prior (for the adaptive "
        "distance).",
        "",
    ]  # fmt: skip
    text = "\n".join(lines)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


def _free_model() -> None:
    """Replace the runs by the observed values plus parameter- and seed-dependent noise."""
    from sim.calibrate import smc

    def summaries(self: Any, jobs: Any) -> list[dict[str, float]]:
        observed = self.targets.observed
        out = []
        for job in jobs:
            rng = np.random.default_rng(job.seed)
            shift = 0.5 * job.params["collaboration.innovation_rate"]
            out.append({k: v + 0.1 * rng.standard_normal() + shift for k, v in observed.items()})
        return out

    smc.Simulator.summaries = summaries


def _own_values() -> dict[str, float]:
    import sim

    s = sim.load_scenario(SCENARIO)
    return {
        "collaboration.innovation_rate": s.collaboration.innovation_rate,
        "collaboration.peer_learning": s.collaboration.peer_learning,
        "drive.contractor_capacity": s.drive.contractor_capacity,
        "support.catalog_visibility": s.support.catalog_visibility,
    }


if __name__ == "__main__":
    sys.exit(main())
