"""Benchmarks: the aims of issue 9 side by side, and per-run time of the engine.

Usage (from the repository root)::

    python benchmarks/run.py           # the full measurement: writes benchmarks/results.md
                                       # and benchmarks/scaling.png (``make bench``)
    python benchmarks/run.py --quick   # smoke run: few repetitions, a small sweep; written
                                       # to a temporary folder unless --out is given

Sections: issue 9's aims (``aims.py``: the previous engine, this engine, the limit of a
bare compiled kernel and the aim, for the Bass run against idiomatic Mesa, a Zhejiang run,
a national run, a Sobol' sweep and start-up), where the time of a run goes, the shipped
province scenarios, the Bass run against Mesa in detail, scaling with N, batched runs, and
the national scenario (``scenarios/china.toml``: 31 provinces in one coupled batch, 2,845
governments) under "mixed" and each uniform rule.

Every timing is one whole run, measured with ``time.perf_counter``: model construction
(population, network, world), every step, and the results. Each timed cell is warmed up
once (seed 0, not counted), then run once per seed 1..R, so every repetition uses a
different seed; implementations compared in one table are interleaved seed by seed.
Garbage is collected between runs, outside the timed region. Speed is measured here and
never asserted in tests.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from aims import NATIONAL_AIM_MS, STARTUP_REPS, aims_section
from common import (
    fmt_ms,
    forget_mesa_models,
    load_average,
    machine_info,
    measure,
    summary,
    table,
    write_atomic,
    write_plot,
)
from mesa_reference import BassNetworkModel
from workloads import BASS_STEPS, NATIONAL_FILE, ROOT, Timed, bass_params, bass_scenario

import sim

HERE = Path(__file__).resolve().parent
SCENARIOS = ("zhejiang", "guangdong", "teaching")
SCALING_N = (100, 300, 1000, 3000)
NATIONAL_RULES = ("mixed", "grassroots", "contractor", "hybrid")
BATCH_SIZE = 32  # runs stepped together in the batched timings
SCALING_BATCH = 32  # runs per batch in the scaling section (each repetition is one batch)
BATCH_HEADER = (
    "case",
    "single ms/run",
    "batched ms/run",
    "single / batched",
    "same, CPU time",
    "Mesa ms/run",
    "Mesa / batched",
)
BATCH_REPS = 5  # batches (of BATCH_SIZE seeds each) per timed cell at most
NATIONAL_REPS = 10  # seeds per rule at most (a national run is 31 province runs)
QUICK_SWEEP_N = 16  # --quick: a Sobol' design of 16 x 14 points x 2 rules x 2 replicates


def engine_curve(s: sim.Scenario) -> Timed:
    """The engine's whole run with its DataFrames (``sim.run``); returns the coverage curve."""
    return lambda seed: sim.run(s, seed=seed).timeseries["coverage"].to_numpy()


def engine_outcomes(s: sim.Scenario) -> Timed:
    return lambda seed: sim.run_outcomes(s, seed=seed)


def mesa_curve(s: sim.Scenario) -> Timed:
    """The Mesa reference's whole run, ending with its DataFrame; returns the coverage curve."""
    params = bass_params(s)

    def run(seed: int) -> np.ndarray:
        model = BassNetworkModel(**params, seed=seed)
        model.run_model()
        return model.datacollector.get_model_vars_dataframe()["coverage"].to_numpy()

    return run


def bass_mean_field(p: float, q: float, t: float) -> float:
    """The Bass curve F(t) of a complete network (continuous time), for scale only."""
    e = math.exp(-(p + q) * t)
    return (1 - e) / (1 + (q / p) * e)


# ---- sections ----------------------------------------------------------------------------
def scenario_section(reps: int) -> str:
    rows = []
    for name in SCENARIOS:
        s = sim.load_scenario(ROOT / "scenarios" / f"{name}.toml")
        for rule in sim.RULES:
            fns: dict[str, Timed] = {
                "outcomes": lambda seed, s=s, rule=rule: sim.run_outcomes(s, rule=rule, seed=seed),
                "run": lambda seed, s=s, rule=rule: sim.run(s, rule=rule, seed=seed),
            }
            times, _, results = measure(fns, reps)
            n = len(results["run"][0].agents)
            rows.append(
                (
                    name,
                    rule,
                    n,
                    s.services.count,
                    s.n_steps,
                    *fmt_ms(times["outcomes"]),
                    *fmt_ms(times["run"]),
                )
            )
            print(f"  {name} / {rule}: done", file=sys.stderr)
    header = (
        "scenario",
        "rule",
        "N",
        "K",
        "steps",
        "run_outcomes median ms",
        "IQR ms",
        "run median ms",
        "IQR ms",
    )
    return table(header, rows, align="llrrrrrrr")


def bass_section(reps: int) -> str:
    s = bass_scenario()
    fns = {
        "engine_run": engine_curve(s),
        "engine_outcomes": engine_outcomes(s),
        "mesa": mesa_curve(s),
    }
    times, cpu, results = measure(fns, reps)
    med = {k: summary(v)[0] for k, v in times.items()}
    med_cpu = {k: summary(v)[0] for k, v in cpu.items()}
    labels = {
        "engine_run": "engine, `sim.run` (with DataFrames)",
        "engine_outcomes": "engine, `sim.run_outcomes`",
        "mesa": "Mesa reference (`benchmarks/mesa_reference.py`)",
    }
    timing = table(
        ("implementation", "median ms", "IQR ms", "Mesa / this", "median CPU ms", "Mesa / this"),
        [
            (
                label,
                *fmt_ms(times[key]),
                f"{med['mesa'] / med[key]:.1f}x",
                f"{med_cpu[key]:.1f}",
                f"{med_cpu['mesa'] / med_cpu[key]:.1f}x",
            )
            for key, label in labels.items()
        ],
    )

    # Like for like: the same dynamics should give the same mean curve (up to the two
    # Watts-Strogatz generators and sampling noise).
    curves = {k: np.array(results[k]) for k in ("engine_run", "mesa")}
    half = BASS_STEPS // 2

    def mean_se(x: np.ndarray) -> str:
        se = x.std(ddof=1) / math.sqrt(len(x)) if len(x) > 1 else float("nan")
        return f"{x.mean():.3f} ± {se:.3f}"

    def z(col: int) -> str:
        a, b = curves["engine_run"][:, col], curves["mesa"][:, col]
        se = math.hypot(a.std(ddof=1) / math.sqrt(len(a)), b.std(ddof=1) / math.sqrt(len(b)))
        return f"{(a.mean() - b.mean()) / se:+.1f}" if se > 0 else "n/a"

    engine_degree = np.mean(
        [sim.run(s, seed=seed).agents["degree"].mean() for seed in range(1, reps + 1)]
    )
    p = bass_params(s)
    mesa_degree = np.mean(
        [
            2 * BassNetworkModel(**p, seed=seed).grid.G.number_of_edges() / p["n"]
            for seed in range(1, reps + 1)
        ]
    )
    forget_mesa_models()
    check = table(
        ("", "engine", "Mesa", "difference / s.e.", "mean-field Bass (complete graph)"),
        [
            (
                f"coverage at step {half} (mean ± s.e.)",
                mean_se(curves["engine_run"][:, half]),
                mean_se(curves["mesa"][:, half]),
                z(half),
                f"{bass_mean_field(p['p'], p['q'], half * p['dt']):.3f}",
            ),
            (
                f"coverage at step {BASS_STEPS} (final)",
                mean_se(curves["engine_run"][:, -1]),
                mean_se(curves["mesa"][:, -1]),
                z(-1),
                f"{bass_mean_field(p['p'], p['q'], BASS_STEPS * p['dt']):.3f}",
            ),
            ("mean degree of the network", f"{engine_degree:.2f}", f"{mesa_degree:.2f}", "", "-"),
        ],
    )
    return (
        f"{timing}\n\nLike-for-like check on the timed runs themselves (seeds 1..{reps} of "
        "each; the two implementations draw unrelated random numbers, so only the means should "
        f"agree):\n\n{check}"
    )


def batched_outcomes(s: sim.Scenario, size: int) -> Timed:
    """``size`` runs (seeds r * size ..) as one batch; the time is divided by ``size`` later."""
    from sim.core.engine import Engine, run_batched

    def run(r: int) -> None:
        engines = [Engine(s, seed=seed) for seed in range(r * size, r * size + size)]
        for e in run_batched(engines, size=size):
            e.outcomes()

    return run


def scaling_section(reps: int, sizes: Sequence[int], out_dir: Path) -> tuple[str, Path]:
    rows, med = [], {"run_outcomes": [], "run": [], "mesa": [], "batched": []}
    for n in sizes:
        s = bass_scenario(n)
        fns = {
            "run_outcomes": engine_outcomes(s),
            "run": engine_curve(s),
            "mesa": mesa_curve(s),
            "batched": batched_outcomes(s, SCALING_BATCH),
        }
        times, _, _ = measure(fns, reps)
        times["batched"] = [t / SCALING_BATCH for t in times["batched"]]
        for k in med:
            med[k].append(summary(times[k])[0])
        rows.append(
            (
                n,
                *fmt_ms(times["run_outcomes"]),
                *fmt_ms(times["run"]),
                *fmt_ms(times["batched"]),
                *fmt_ms(times["mesa"]),
                f"{med['mesa'][-1] / med['run'][-1]:.1f}x",
                f"{med['mesa'][-1] / med['batched'][-1]:.1f}x",
            )
        )
        print(f"  N = {n}: done", file=sys.stderr)
    header = (
        "N",
        "engine run_outcomes median ms",
        "IQR ms",
        "engine run median ms",
        "IQR ms",
        f"batched ({SCALING_BATCH}) ms/run",
        "IQR ms",
        "Mesa median ms",
        "IQR ms",
        "Mesa / engine run",
        "Mesa / batched",
    )
    plot = write_plot(sizes, med, out_dir / "scaling.png", batch=SCALING_BATCH)
    return table(header, rows), plot


def batch_cases() -> list[tuple[str, list[tuple[sim.Scenario, str]]]]:
    """(label, the (scenario, rule) of run j, cycled over the runs of a batch)."""
    load = {name: sim.load_scenario(ROOT / "scenarios" / f"{name}.toml") for name in SCENARIOS}
    cases = [(f"zhejiang, {rule}", [(load["zhejiang"], rule)]) for rule in sim.RULES]
    cases.append(
        (
            "zhejiang, guangdong, teaching x every rule, mixed in one batch",
            [(load[name], rule) for name in SCENARIOS for rule in sim.RULES],
        )
    )
    cases.append(("Bass small world, N = 1,000, one service", [(bass_scenario(), "grassroots")]))
    return cases


def batch_section(reps: int) -> str:
    """Time per run, single runs against batches of BATCH_SIZE (and Mesa, for the Bass run).

    Repetition r runs seeds r * B .. r * B + B - 1 one after the other, and the same runs as
    one batch (``sim.core.engine.run_batched``, construction included); Mesa runs one model
    per repetition. Each time is divided by the runs it covers."""
    from sim.core.engine import Engine, run_batched

    b = BATCH_SIZE
    rows = []
    for label, mix in batch_cases():

        def engines(r: int, mix: list = mix) -> list[Engine]:
            seeds = range(r * b, r * b + b)
            return [Engine(*mix[j % len(mix)], seed) for j, seed in enumerate(seeds)]

        def single(r: int, engines=engines) -> None:
            for e in engines(r):
                e.run().outcomes()

        def batched(r: int, engines=engines) -> None:
            for e in run_batched(engines(r), size=b):
                e.outcomes()

        fns: dict[str, Timed] = {"single": single, "batched": batched}
        per = {"single": b, "batched": b}
        if label.startswith("Bass"):
            fns["mesa"] = mesa_curve(mix[0][0])
            per["mesa"] = 1
        times, cpu, _ = measure(fns, reps)
        med = {k: summary([t / per[k] for t in v])[0] for k, v in times.items()}
        med_cpu = {k: summary([t / per[k] for t in v])[0] for k, v in cpu.items()}
        rows.append(
            (
                label,
                f"{med['single']:.2f}",
                f"{med['batched']:.2f}",
                f"{med['single'] / med['batched']:.1f}x",
                f"{med_cpu['single'] / med_cpu['batched']:.1f}x",
                f"{med['mesa']:.1f}" if "mesa" in med else "-",
                f"{med['mesa'] / med['batched']:.1f}x" if "mesa" in med else "-",
            )
        )
    return (
        f"Median time per run over {reps} repetitions of {b} runs (whole runs: construction, "
        "steps, scalar outcomes). A batch steps its runs together in the compiled step loop "
        "(`sim.core.engine.run_batched`; any rules and sizes mixed, padded to the largest "
        "run) and gives the numbers of running each alone (tested). In the mixed case run j "
        "of a batch is scenario x rule number j mod 9. Ratios are of medians measured in this "
        "run (wall clock, and CPU time of this process); Mesa runs the reference model of "
        "the Bass section.\n\n" + table(BATCH_HEADER, rows)
    )


def breakdown_section(reps: int) -> str:
    """Where the time of one run alone goes, stage by stage (this engine's internals)."""
    import time as clock

    from sim.core.engine import Engine
    from sim.world.build import build_world, spawn_streams

    stages = ("world", "draws and constants", "batch of one", "steps (compiled)", "outcomes")
    cases = {
        "zhejiang (grassroots)": sim.load_scenario(ROOT / "scenarios" / "zhejiang.toml"),
        "Bass small world, N = 1,000": bass_scenario(),
    }
    rows = []
    for label, s in cases.items():
        spent: dict[str, list[float]] = {k: [] for k in stages}
        for seed in range(reps + 1):  # seed 0: warm-up, not counted
            marks = [clock.perf_counter()]
            world = build_world(s, spawn_streams(seed))
            marks.append(clock.perf_counter())
            e = Engine(s, seed=seed, world=world)
            marks.append(clock.perf_counter())
            e.batch  # noqa: B018 (builds the batch of one)
            marks.append(clock.perf_counter())
            e.run()
            marks.append(clock.perf_counter())
            e.outcomes()
            marks.append(clock.perf_counter())
            if seed:
                for k, t0, t1 in zip(stages, marks, marks[1:], strict=False):
                    spent[k].append(t1 - t0)
        med = [summary(spent[k])[0] for k in stages]
        rows.append((label, *(f"{m:.3f}" for m in med), f"{sum(med):.3f}"))
    return (
        f"Median ms per stage of a run alone over {reps} seeds (this engine only; it reads "
        "internals: `sim.world.build.build_world`, `sim.core.engine.Engine`). World: "
        "population, network, demand. Draws and constants: every random number of the run "
        "and the arrays its kernels read (`run_constants`). Steps: the compiled step loop. "
        "The sum is about `sim.run_outcomes`.\n\n"
        + table(("run", *(f"{k} ms" for k in stages), "sum ms"), rows)
    )


def national_section(reps: int) -> str:
    """The national scenario: one whole run (every province engine built, stepped in lockstep,
    coupled, national outcomes) per rule and seed, the rules interleaved seed by seed."""
    s = sim.load_scenario(NATIONAL_FILE)
    n = int(s.provinces.sizes.sum())
    n_prov = len(s.provinces.names)
    fns: dict[str, Timed] = {
        rule: lambda seed, rule=rule: sim.run_outcomes(s, rule=rule, seed=seed)
        for rule in NATIONAL_RULES
    }
    times, cpu, _ = measure(fns, reps)
    rows, medians = [], {}
    for rule in NATIONAL_RULES:
        medians[rule] = summary(times[rule])[0]
        rows.append(
            (
                rule,
                n,
                s.services.count,
                s.n_steps,
                *fmt_ms(times[rule]),
                f"{summary(cpu[rule])[0]:.1f}",
                f"{1e3 * medians[rule] / (n_prov * s.n_steps):.0f}",
            )
        )
    header = (
        "rule",
        "N",
        "K",
        "steps",
        "median ms",
        "IQR ms",
        "median CPU ms",
        "µs per province-step",
    )
    slowest = max(medians, key=lambda rule: medians[rule])
    met = medians[slowest] <= NATIONAL_AIM_MS
    intro = (
        f"`{NATIONAL_FILE.relative_to(ROOT).as_posix()}`: {n_prov} province engines "
        f"({n:,} local governments, {s.services.count} services, {s.n_steps} steps) advanced "
        "in lockstep (one coupled batch, `sim/core/national.py`) with "
        "cross-province learning and the national catalogue, under `mixed` "
        "(each province its own rule) and under each rule everywhere. Each time is one whole "
        "`sim.run_outcomes` call: building every province's population and network, every "
        "step with its coupling, and the national outcomes. Median and IQR over "
        f"{reps} seeds per rule (at most {NATIONAL_REPS}, to keep the benchmark short), the "
        "rules interleaved seed by seed; CPU time is this process's. µs per province-step = "
        f"median / ({n_prov} provinces x {s.n_steps} steps), for comparison with the steps "
        "of a single province."
    )
    verdict = (
        f"Aim (issue 9): <= {NATIONAL_AIM_MS:.0f} ms per run under every rule — "
        + ("**met**" if met else "**not met**")
        + f" (slowest: {slowest}, median {medians[slowest]:.1f} ms)."
    )
    return f"{intro}\n\n{table(header, rows)}\n\n{verdict}"


# ---- main --------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 3 repetitions, N up to 1000, a Sobol' design of n = "
        f"{QUICK_SWEEP_N}; output to a temporary folder unless --out is given",
    )
    ap.add_argument(
        "--sweep-n",
        type=int,
        default=None,
        help="design size n of the Sobol' sweep in the aims table (default: the file's, "
        f"1024 = 57,344 runs; {QUICK_SWEEP_N} with --quick)",
    )
    ap.add_argument(
        "--no-aims",
        action="store_true",
        help="skip the side-by-side table of issue 9's aims (previous engine, sweeps, "
        "start-up): minutes on a quiet machine",
    )
    ap.add_argument(
        "--reps",
        type=int,
        default=None,
        help="repetitions (seeds) per timed cell (default 30, or 3 with --quick; the "
        f"national section uses at most {NATIONAL_REPS})",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for results.md and scaling.png (default: benchmarks/)",
    )
    args = ap.parse_args(argv)
    reps = args.reps if args.reps is not None else (3 if args.quick else 30)
    if reps < 1:
        ap.error("--reps must be >= 1")
    sweep_n = args.sweep_n if args.sweep_n is not None else (QUICK_SWEEP_N if args.quick else None)
    if sweep_n is not None and sweep_n < 1:
        ap.error("--sweep-n must be >= 1")
    sizes = SCALING_N[:3] if args.quick else SCALING_N
    if args.out is not None:
        out_dir = args.out
    elif args.quick:
        out_dir = Path(tempfile.mkdtemp(prefix="bench-quick-"))
    else:
        out_dir = HERE
    out_dir.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    sections: list[str] = []

    def emit(title: str, body: str) -> None:
        sections.append(f"## {title}\n\n{body}\n")
        print(f"\n## {title}\n\n{body}\n", flush=True)

    emit("Machine", machine_info())
    if not args.no_aims:
        print("timing issue 9's aims, side by side ...", file=sys.stderr)
        emit(
            "Issue 9's aims: previous engine, this engine, limit",
            aims_section(
                reps,
                sweep_n=sweep_n,
                startup_reps=2 if args.quick else STARTUP_REPS,
                analyze=not args.quick,
            ),
        )
    print("timing the stages of a run ...", file=sys.stderr)
    emit("Where the time of a run goes", breakdown_section(reps))
    print("timing the shipped scenarios ...", file=sys.stderr)
    emit(
        "Shipped scenarios",
        f"Median and interquartile range of the time per run over {reps} seeds. "
        "`run_outcomes` is the cheap path used by sweeps (scalar outcomes only); `run` also "
        "builds the time-series and per-government DataFrames.\n\n" + scenario_section(reps),
    )
    print("timing the Bass run, engine vs Mesa ...", file=sys.stderr)
    emit(
        f"Bass limit, 1,000 governments, one service, {BASS_STEPS} steps: engine vs Mesa",
        "`scenarios/validation/bass.toml` with a Watts-Strogatz small world (mean degree 6, "
        f"rewiring 0.1) and {BASS_STEPS} monthly steps, against the same dynamics written as "
        "idiomatic Mesa agents (`benchmarks/mesa_reference.py`: one agent per government on a "
        "`mesa.discrete_space.Network` built from `networkx.watts_strogatz_graph`, synchronous "
        "`do('step')` / `do('advance')`, coverage in a `DataCollector`). Both timings include "
        "model construction (network building) and end with the coverage series as a "
        "DataFrame. Ratios are of medians measured in this run, of wall-clock time and of this "
        "process's CPU time (the latter is less sensitive to other load on the machine).\n\n"
        + bass_section(reps),
    )
    print("timing the scaling runs ...", file=sys.stderr)
    scaling, plot = scaling_section(reps, sizes, out_dir)
    emit(
        "Scaling with N",
        f"The Bass small-world run above at N = {', '.join(map(str, sizes))}; median and "
        f"IQR over {reps} seeds (batched: {reps} batches of {SCALING_BATCH} runs, time per "
        f"run).\n\n{scaling}\n\n![time per run against N]({plot.name})",
    )

    print("timing batched runs ...", file=sys.stderr)
    emit(f"Batched runs ({BATCH_SIZE} at a time)", batch_section(min(reps, BATCH_REPS)))

    print("timing the national scenario ...", file=sys.stderr)
    emit("National scenario: provinces in lockstep", national_section(min(reps, NATIONAL_REPS)))

    kind = "QUICK SMOKE RUN (not a measurement)" if args.quick else "full run"
    header = (
        "# Benchmarks\n\n"
        f"Written by `benchmarks/run.py` ({kind}, {reps} seeds per timed cell, "
        f"{time.perf_counter() - started:.0f} s in total; load average at the end: "
        f"{load_average()}). How to reproduce: `make bench` "
        "(or `python benchmarks/run.py`; `--quick` for a smoke run).\n\n"
        "Each time is one whole run: construction of the model (population, network), every "
        "step, and the results. Every cell is warmed up once (seed 0, not counted) and then run "
        "once per seed 1..R; implementations in one table are interleaved seed by seed; "
        "garbage is collected between runs, outside the timed region. Medians and "
        "interquartile ranges (IQR = q75 - q25) are in milliseconds.\n"
    )
    path = out_dir / "results.md"
    write_atomic(path, header + "\n" + "\n".join(sections))
    print(f"wrote {path} and {plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
