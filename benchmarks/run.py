"""Benchmarks: per-run time of the engine, and of a plain Mesa model of the same dynamics.

Usage (from the repository root)::

    python benchmarks/run.py           # the full measurement: writes benchmarks/results.md
                                       # and benchmarks/scaling.png (``make bench``)
    python benchmarks/run.py --quick   # smoke run: few repetitions, written to a temporary
                                       # folder unless --out is given

Sections: the shipped province scenarios, the Bass limit against an idiomatic Mesa
implementation, scaling with N, and the national scenario (``scenarios/china.toml``: 31
province engines in lockstep, 2,845 governments) under "mixed" and each uniform rule.

Every timing is one whole run, measured with ``time.perf_counter``: model construction
(population, network, world), every step, and the results. Each timed cell is warmed up
once (seed 0, not counted), then run once per seed 1..R, so every repetition uses a
different seed; implementations compared in one table are interleaved seed by seed.
Garbage is collected between runs, outside the timed region. Speed is measured here and
never asserted in tests.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mesa
import networkx as nx
import numpy as np
import scipy
from mesa.discrete_space import Cell
from mesa_reference import BassNetworkModel

import sim

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCENARIOS = ("zhejiang", "guangdong", "teaching")
BASS_FILE = ROOT / "scenarios" / "validation" / "bass.toml"
BASS_STEPS = 100
SCALING_N = (100, 300, 1000, 3000)
WARMUP_SEED = 0
NATIONAL_FILE = ROOT / "scenarios" / "china.toml"
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
NATIONAL_AIM_MS = 500.0

Timed = Callable[[int], Any]  # seed -> result; one call is one whole run


# ---- measuring ---------------------------------------------------------------------------
Series = dict[str, list[float]]


def measure(fns: dict[str, Timed], reps: int) -> tuple[Series, Series, dict[str, list[Any]]]:
    """Run each function once per seed 1..reps, interleaved.

    Returns wall-clock seconds (``perf_counter``), CPU seconds of this process
    (``process_time``, less sensitive to other load on the machine) and the results.
    """
    for fn in fns.values():
        fn(WARMUP_SEED)
    times: Series = {name: [] for name in fns}
    cpu: Series = {name: [] for name in fns}
    results: dict[str, list[Any]] = {name: [] for name in fns}
    names = list(fns)
    for seed in range(1, reps + 1):
        order = names if seed % 2 else names[::-1]  # alternate who goes first
        for name in order:
            forget_mesa_models()
            gc.collect()
            c0, t0 = time.process_time(), time.perf_counter()
            out = fns[name](seed)
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            results[name].append(out)
    return times, cpu, results


def forget_mesa_models() -> None:
    """Let finished Mesa models be freed (called between runs, outside the timed region).

    Two module-level caches in Mesa 3.3.1 keep every model alive: ``Agent._ids`` (agent-id
    counters keyed by model) and the ``functools.cache`` on ``Cell.get_neighborhood`` and
    ``Cell._neighborhood`` (keyed by cell; cells hold agents, agents hold their model).
    Without this, each 1,000-agent reference model stays in memory and the heap that
    every garbage collection inside a timed run walks keeps growing, which would slow the
    Mesa runs for reasons that have nothing to do with the model.
    """
    ids = getattr(mesa.Agent, "_ids", None)
    if ids is not None:
        ids.clear()
    for method in (Cell.get_neighborhood, getattr(Cell, "_neighborhood", None)):
        clear = getattr(method, "cache_clear", None)
        if clear is not None:
            clear()


def summary(seconds: Sequence[float]) -> tuple[float, float]:
    """Median and interquartile range, in milliseconds."""
    ms = [1e3 * s for s in seconds]
    if len(ms) < 2:
        return ms[0], 0.0
    q1, _, q3 = statistics.quantiles(ms, n=4, method="inclusive")
    return statistics.median(ms), q3 - q1


def fmt_ms(seconds: Sequence[float]) -> tuple[str, str]:
    med, iqr = summary(seconds)
    return f"{med:.1f}", f"{iqr:.1f}"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], align: str = "") -> str:
    """A markdown table; ``align`` is one of l/r per column (default: first l, rest r)."""
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = [header, rule, *rows]
    return "\n".join("| " + " | ".join(str(c) for c in line) + " |" for line in lines)


# ---- the runs ----------------------------------------------------------------------------
def bass_scenario(n: int = 1000) -> sim.Scenario:
    """The Bass limit on a small-world network: one service, ``n`` governments, 100 steps."""
    s = sim.load_scenario(
        BASS_FILE,
        overrides={
            "population.n_agents": n,
            "population.network": "small_world",
            "population.mean_degree": 6,
            "population.rewiring": 0.1,
            "time.steps_per_year": 12,
            "time.years": BASS_STEPS / 12,
        },
    )
    assert s.n_steps == BASS_STEPS, f"expected {BASS_STEPS} steps, got {s.n_steps}"
    assert s.services.count == 1 and s.rule == "grassroots"
    return s


def bass_params(s: sim.Scenario) -> dict[str, Any]:
    """The reference model's keyword arguments for a Bass scenario (one source of truth)."""
    return {
        "n": s.population.n_agents,
        "p": s.collaboration.innovation_rate,
        "q": s.collaboration.peer_learning,
        "mean_degree": s.population.mean_degree,
        "rewiring": s.population.rewiring,
        "dt": s.dt,
        "n_steps": s.n_steps,
    }


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
def load_average() -> str:
    """The system load (other processes on the machine distort every timing here)."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def source_digest() -> str:
    """A digest of the engine's sources as measured (the working tree may differ from HEAD)."""
    h = hashlib.sha256()
    for path in sorted((ROOT / "sim").rglob("*.py")):
        h.update(path.relative_to(ROOT).as_posix().encode())
        h.update(path.read_bytes())
    return f"sha256 {h.hexdigest()[:12]}"


def machine_info() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    rows = [
        ("date (UTC)", datetime.now(UTC).strftime("%Y-%m-%d %H:%M")),
        ("CPU", cpu),
        ("cores", f"{os.cpu_count()} ({usable} usable by this process)"),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("numpy", np.__version__),
        ("scipy", scipy.__version__),
        ("networkx", nx.__version__),
        ("mesa", mesa.__version__),
        ("reform-diffusion-sim", f"{sim.__version__} (git HEAD {commit}, sim/ {source_digest()})"),
        ("load average at start (1, 5, 15 min)", load_average()),
    ]
    return table(("", ""), rows, align="ll")


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
    from sim.batch import Batch
    from sim.engine import Engine

    def run(r: int) -> None:
        engines = [Engine(s, seed=seed) for seed in range(r * size, r * size + size)]
        for e in Batch(engines).run():
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
    plot = write_plot(sizes, med, out_dir / "scaling.png")
    return table(header, rows), plot


def batch_section(reps: int) -> str:
    """Time per run, single runs against batches of BATCH_SIZE (and Mesa, for the Bass run).

    Repetition r runs seeds r * B .. r * B + B - 1 one after the other, and the same seeds as
    one batch (``sim.batch.Batch``, construction included); Mesa runs one model per
    repetition. Each time is divided by the runs it covers."""
    from sim.batch import Batch
    from sim.engine import Engine

    b = BATCH_SIZE
    cases = [(f"zhejiang, {rule}", sim.load_scenario(ROOT / "scenarios" / "zhejiang.toml"), rule)
             for rule in sim.RULES]  # fmt: skip
    cases.append(("Bass small world, N = 1,000, one service", bass_scenario(), "grassroots"))
    rows = []
    for label, s, rule in cases:

        def single(r: int, s: sim.Scenario = s, rule: str = rule) -> None:
            for seed in range(r * b, r * b + b):
                Engine(s, rule, seed).run().outcomes()

        def batched(r: int, s: sim.Scenario = s, rule: str = rule) -> None:
            engines = [Engine(s, rule, seed) for seed in range(r * b, r * b + b)]
            for e in Batch(engines).run():
                e.outcomes()

        fns: dict[str, Timed] = {"single": single, "batched": batched}
        per = {"single": b, "batched": b}
        if label.startswith("Bass"):
            fns["mesa"] = mesa_curve(s)
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
        f"Median time per run over {reps} repetitions of {b} seeds (whole runs: construction, "
        "steps, scalar outcomes). A batch steps the runs together as one array computation "
        "(`sim/batch.py`) and gives bit-identical results (tested). Ratios are of medians "
        "measured in this run (wall clock, and CPU time of this process); Mesa runs the "
        "reference model of the Bass section.\n\n"
        + table(
            BATCH_HEADER,
            rows,
        )
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
    met = medians[slowest] < NATIONAL_AIM_MS
    intro = (
        f"`{NATIONAL_FILE.relative_to(ROOT).as_posix()}`: {n_prov} province engines "
        f"({n:,} local governments, {s.services.count} services, {s.n_steps} steps) advanced "
        "in lockstep (the provinces of one rule stepped as one batch, `sim/batch.py`) with "
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
        f"Aim: < {NATIONAL_AIM_MS / 1e3:.1f} s per run under every rule — "
        + ("**met**" if met else "**not met**")
        + f" (slowest: {slowest}, median {medians[slowest]:.1f} ms)."
    )
    return f"{intro}\n\n{table(header, rows)}\n\n{verdict}"


def write_plot(sizes: Sequence[int], med: dict[str, list[float]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2))
    labels = {
        "run_outcomes": "engine, sim.run_outcomes",
        "run": "engine, sim.run",
        "mesa": "Mesa reference",
        "batched": f"engine, batched ({SCALING_BATCH} runs at once), per run",
    }
    for key, label in labels.items():
        ax.plot(sizes, med[key], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(list(sizes), [f"{n:,}" for n in sizes])
    ax.minorticks_off()
    ax.set_xlabel("local governments N")
    ax.set_ylabel("median time per run (ms)")
    ax.set_title(f"Bass limit, small world (degree 6), {BASS_STEPS} steps")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".scaling-", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=120)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---- main --------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 3 repetitions, N up to 1000; output to a temporary folder "
        "unless --out is given",
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
