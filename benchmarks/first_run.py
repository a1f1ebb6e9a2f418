"""Issue 18's first contact, side by side: the engine before issue 18 and this checkout.

Usage (from the repository root)::

    python benchmarks/first_run.py                 # writes benchmarks/first-run-results.md
    python benchmarks/first_run.py --reps 3 --out /tmp/first.md

For each engine (each a source tree imported by subprocesses with the same interpreter, see
``engines.py``; the earlier one is a temporary git worktree of :data:`BEFORE`):

* the cold compile: the Numba cache of the tree emptied, then one process that runs
  Zhejiang once (``sim.run``) and counts Numba's compile events; wall and CPU seconds;
* ``import sim``: CPU seconds of a process that only imports it, and which of numba,
  pandas and matplotlib that loads;
* a later ``sim run scenarios/zhejiang.toml`` process (cache warm), CPU seconds;
* one Zhejiang run in a warm process: ``sim.run_outcomes`` and ``sim.run`` with its
  DataFrames read, CPU ms per run (median over seeds 1..R after a warm-up); and a sweep's
  work per run: 32 seeds x every rule built (world once per seed), run batched
  (``run_batched``) and their outcomes read, CPU ms per run (median over R sweeps);
* the compiled loop alone (``Batch.run`` of a run built beforehand) for Zhejiang, Guangdong
  and the Bass run of ``benchmarks/run.py``, CPU ms (median over seeds 1..R).

``--before COMMIT`` measures another earlier engine (default: :data:`BEFORE`), e.g. the
commit before a change, side by side with this checkout.

CPU rather than wall time where it can be: on a machine shared with other work the wall
clock mostly measures the others (the table records the load average).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from aims import clear_numba_cache
from common import load_average, table, write_atomic
from engines import THIS, Checkout, previous_checkout

HERE = Path(__file__).resolve().parent
BEFORE = "37548a2"  # main before issue 18
ZHEJIANG = "scenarios/zhejiang.toml"

COLD = """
import json, resource, sys, time
from numba.core import event
events = []
class Count(event.Listener):
    def on_start(self, ev):
        events.append(1)
    def on_end(self, ev):
        pass
event.register("numba:compile", Count())
t0 = time.perf_counter()
import sim
sim.run_outcomes(sim.load_scenario(sys.argv[1]))
r = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"events": len(events), "wall": time.perf_counter() - t0,
                  "cpu": r.ru_utime + r.ru_stime}))
"""

IMPORT = """
import json, sys, time
t0 = time.process_time()
import sim
cpu = time.process_time() - t0
print(json.dumps({"cpu": cpu, "loaded": [m for m in ("numba", "pandas", "matplotlib")
                                           if m in sys.modules]}))
"""

LOOP = """
import json, statistics, sys, time
sys.path.insert(0, "benchmarks")
import sim
from sim.core.batch import Batch
from sim.core.engine import Engine
from workloads import bass_scenario
reps = int(sys.argv[1])
out = {}
for name, s in (("zhejiang", sim.load_scenario("scenarios/zhejiang.toml")),
                ("guangdong", sim.load_scenario("scenarios/guangdong.toml")),
                ("bass", bass_scenario())):
    times = []
    for seed in range(reps + 1):
        batch = Batch([Engine(s, seed=seed).setup])
        t0 = time.process_time()
        batch.run()
        if seed:  # seed 0: the warm-up
            times.append(time.process_time() - t0)
    out[name] = times
print(json.dumps(out))
"""

PER_RUN = """
import json, sys, time
import sim
s = sim.load_scenario(sys.argv[1])
reps = int(sys.argv[2])
out = {}
for name, fn in (("outcomes", lambda seed: sim.run_outcomes(s, seed=seed)),
                 ("run", lambda seed: (lambda r: (r.timeseries, r.agents))(sim.run(s, seed=seed)))):
    fn(0)
    times = []
    for seed in range(1, reps + 1):
        t0 = time.process_time()
        fn(seed)
        times.append(time.process_time() - t0)
    out[name] = times
from sim.core.engine import Engine, run_batched
from sim.world.build import build_world, spawn_streams
def sweep(seeds):
    engines = []
    for seed in seeds:
        world = build_world(s, spawn_streams(seed))
        engines += [Engine(s, rule, seed, world=world) for rule in sim.RULES]
    return [e.outcomes() for e in run_batched(engines)]
sweep(range(2))
times = []
for rep in range(1, reps + 1):
    t0 = time.process_time()
    n = len(sweep(range(32 * rep, 32 * rep + 32)))
    times.append((time.process_time() - t0) / n)
out["sweep"] = times
print(json.dumps(out))
"""


def _python(tree: Checkout, code: str, *args: str) -> dict:
    done = subprocess.run(
        ["nice", *tree.python("-c", code, *args)],
        cwd=tree.path,
        env=tree.env(),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _sim_run(tree: Checkout, out: Path) -> float:
    """CPU seconds (user + system) of one whole ``sim run`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        ["nice", *tree.sim("run", ZHEJIANG, "--out", str(out))],
        cwd=tree.path,
        env=tree.env(),
        check=True,
        capture_output=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def measure(tree: Checkout, reps: int) -> dict:
    clear_numba_cache(tree.path)
    found: dict = {"cold": _python(tree, COLD, ZHEJIANG)}
    imports = [_python(tree, IMPORT) for _ in range(reps)]
    found["import"] = statistics.median(i["cpu"] for i in imports)
    found["loaded"] = imports[0]["loaded"]
    with tempfile.TemporaryDirectory(prefix="first-run-") as tmp:
        found["later"] = statistics.median(_sim_run(tree, Path(tmp) / f"r{i}") for i in range(reps))
    per_run = _python(tree, PER_RUN, ZHEJIANG, str(max(reps, 5) * 4))
    found["outcomes_ms"] = 1e3 * statistics.median(per_run["outcomes"])
    found["run_ms"] = 1e3 * statistics.median(per_run["run"])
    found["sweep_ms"] = 1e3 * statistics.median(per_run["sweep"])
    loop = _python(tree, LOOP, str(max(reps, 5) * 4))
    found["loop_ms"] = {name: 1e3 * statistics.median(t) for name, t in loop.items()}
    return found


def report(results: dict[str, dict], reps: int) -> str:
    labels = list(results)

    def row(name: str, cell) -> tuple[str, ...]:
        return (name, *(cell(results[k]) for k in labels))

    def loop_cell(key: str):
        return lambda r: f"{r['loop_ms'][key]:.2f}"

    rows = [
        row("cold compile: Numba compile events", lambda r: str(r["cold"]["events"])),
        row("cold compile: CPU s (first run, one process)", lambda r: f"{r['cold']['cpu']:.1f}"),
        row("cold compile: wall s", lambda r: f"{r['cold']['wall']:.1f}"),
        row("`import sim`: CPU s (median)", lambda r: f"{r['import']:.2f}"),
        row("`import sim` loads", lambda r: ", ".join(r["loaded"]) or "none"),
        row("later `sim run` Zhejiang process: CPU s (median)", lambda r: f"{r['later']:.2f}"),
        row("Zhejiang run, `sim.run_outcomes`: CPU ms", lambda r: f"{r['outcomes_ms']:.2f}"),
        row("Zhejiang run, `sim.run` + DataFrames: CPU ms", lambda r: f"{r['run_ms']:.2f}"),
        row(
            "Zhejiang sweep, batched (32 seeds x 3 rules, outcomes): CPU ms per run",
            lambda r: f"{r['sweep_ms']:.2f}",
        ),
        *(
            row(f"compiled loop alone (`Batch.run`), {name}: CPU ms", loop_cell(key))
            for key, name in (
                ("zhejiang", "Zhejiang"),
                ("guangdong", "Guangdong"),
                ("bass", "Bass run (1,000, small world, 100 steps)"),
            )
        ),
    ]
    return (
        f"# First contact (issue 18): before and after\n\n"
        f"Written by `benchmarks/first_run.py` (repetitions: {reps}; every process `nice`d); "
        f"load average {load_average()}, {os.cpu_count()} cores.\n\n"
        + table(("measure", *labels), rows)
        + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "first-run-results.md")
    parser.add_argument(
        "--before", default=BEFORE, help=f"the earlier engine's commit (default {BEFORE})"
    )
    args = parser.parse_args(argv)
    results: dict[str, dict] = {}
    with previous_checkout(args.before) as before:
        if before is not None:
            print(f"measuring {before.label} ...", file=sys.stderr)
            label = "before issue 18" if args.before == BEFORE else "before"
            results[f"{label} ({args.before})"] = measure(before, args.reps)
    print("measuring this checkout ...", file=sys.stderr)
    results["this checkout"] = measure(THIS, args.reps)
    text = report(results, args.reps)
    write_atomic(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
