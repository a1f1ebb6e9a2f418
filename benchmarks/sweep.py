"""Sweep throughput and memory: runs per second, and peak memory of the whole process tree.

Runs an experiment (default: experiments/sobol_zhejiang.toml, 57,344 runs) with ``sim
sweep --no-analyze`` in a subprocess on N workers, then ``sim analyze``, and samples the
proportional set size (PSS, from /proc/PID/smaps_rollup) of the process and all its
descendants every 0.2 s. PSS counts shared pages once across the tree, so the sum is the
tree's real memory. Runs per second are the sweep's own (the ``N runs in S s`` line that
``sim sweep`` prints: the run phase, without interpreter start-up and imports); the
process's wall time is reported too.

    python benchmarks/sweep.py                                  # the full Sobol' experiment
    python benchmarks/sweep.py --previous                       # ... and the previous engine
    python benchmarks/sweep.py --n 256 --timeseries             # smaller, with time series
    python benchmarks/sweep.py --n 256 --n 1024                 # memory flat in the run count?
    python benchmarks/sweep.py --n 128 --batch both             # batched vs unbatched

``--batch both`` runs every size unbatched (``--no-batch``) and then batched (the default of
``sim sweep``) and reports the throughput ratio measured in this run. ``--previous`` runs
every case with the previous engine too (a temporary git worktree of its commit, see
``engines.py``), right before this engine's.

Writes benchmarks/sweep-results.md (rewritten each time; ``--out`` elsewhere) and prints it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engines import PREVIOUS_COMMIT, THIS, Checkout, previous_checkout

ROOT = Path(__file__).resolve().parent.parent
SOBOL_ZHEJIANG = ROOT / "experiments" / "sobol_zhejiang.toml"
RATE_LINE = re.compile(r"([\d,]+) runs in ([\d.]+) s")


def tree_pss_kib(pid: int) -> int:
    """Sum of PSS over ``pid`` and its descendants (KiB); 0 for processes that vanished."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                m = re.search(r"^Pss:\s+(\d+) kB", fh.read(), re.M)
            total += int(m.group(1)) if m else 0
        except OSError:
            pass
    return total


def measure(cmd: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[float, int, int, str]:
    """Run ``cmd``; return (wall seconds, peak tree PSS in KiB, exit code, its stdout)."""
    env = {**env, "COLUMNS": "200"}  # keep rich from wrapping the line we parse
    with tempfile.TemporaryFile("w+") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.DEVNULL)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_pss_kib(proc.pid))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = proc.wait()
        secs = time.perf_counter() - start
        done.set()
        sampler.join()
        log.seek(0)
        return secs, peak, code, log.read()


SHARED_OUTCOMES = (
    "coverage_mean",
    "t50_years",
    "duplicate_developments",
    "total_cost",
    "cost_per_service",
    "service_quality",
    "lagging_gap",
    "service_loss",
)
"""Outcomes the previous engine (e737add) knows too: both engines sweep the same work."""


def experiment_copy(src: Path, n: int | None, timeseries: bool, folder: Path) -> Path:
    """The experiment with another n and/or save_timeseries, next to its scenario path, and
    only the outcomes both engines know (outcomes added later are left out of the copy)."""
    text = src.read_text()
    text = text.replace('scenario = "../', f'scenario = "{src.parent.parent}/')
    listed = ", ".join(f'"{o}"' for o in SHARED_OUTCOMES)
    text = re.sub(r"^outcomes = \[[^\]]*\]", f"outcomes = [{listed}]", text, flags=re.M)
    if n is not None:
        text = re.sub(r"^n = \d+", f"n = {n}", text, flags=re.M)
    if timeseries:
        text = text.replace("[design]\n", "[design]\nsave_timeseries = true\n")
    path = folder / f"{src.stem}-n{n}{'-ts' if timeseries else ''}.toml"
    path.write_text(text)
    return path


@dataclass(frozen=True)
class SweepRow:
    engine: str
    experiment: str
    n: int
    batched: bool
    runs: int
    timeseries: bool
    process_s: float  # the whole `sim sweep --no-analyze` process
    runs_s: float  # the sweep's own clock (run phase)
    peak_mib: float
    analysis_s: float
    analysis_peak_mib: float
    disk_mib: float

    @property
    def rate(self) -> float:
        return self.runs / self.runs_s


def sweep_once(
    checkout: Checkout,
    experiment: Path,
    *,
    n: int | None = None,
    workers: int = 2,
    batch: bool = True,
    timeseries: bool = False,
    analyze: bool = True,
) -> SweepRow:
    """One sweep of ``experiment`` (a copy with design size ``n``) with ``checkout``'s
    ``sim`` into a temporary folder, then (if ``analyze``) its analysis."""
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        exp = experiment_copy(experiment, n, timeseries, Path(tmp))
        out = Path(tmp) / "out"
        cmd = [sys.executable, "-m", "sim", "sweep", str(exp), "--out", str(out)]
        cmd += ["--workers", str(workers), "--no-analyze", "--batch" if batch else "--no-batch"]
        env = checkout.env()
        secs, peak, code, stdout = measure(cmd, cwd=checkout.path, env=env)
        if code:
            raise RuntimeError(f"{checkout.label}: sweep failed ({code}): {' '.join(cmd)}")
        manifest = json.loads((out / "manifest.json").read_text())
        found = RATE_LINE.search(stdout)
        if found is None or int(found.group(1).replace(",", "")) != manifest["n_runs"]:
            raise RuntimeError(f"{checkout.label}: no '<runs> runs in <s> s' line: {stdout!r}")
        a_secs = a_peak = float("nan")
        if analyze:
            a_cmd = [sys.executable, "-m", "sim", "analyze", str(out)]
            a_secs, a_peak_kib, code, _ = measure(a_cmd, cwd=checkout.path, env=env)
            if code:
                raise RuntimeError(f"{checkout.label}: analysis failed ({code})")
            a_peak = a_peak_kib / 1024
        disk = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        return SweepRow(
            engine=checkout.label,
            experiment=experiment.stem,
            n=manifest["n"],
            batched=batch,
            runs=manifest["n_runs"],
            timeseries=timeseries,
            process_s=secs,
            runs_s=float(found.group(2)),
            peak_mib=peak / 1024,
            analysis_s=a_secs,
            analysis_peak_mib=a_peak,
            disk_mib=disk / 2**20,
        )


def report(rows: Sequence[SweepRow], workers: int) -> str:
    lines = [
        "# Sweep throughput and memory",
        "",
        f"`python benchmarks/sweep.py` on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, {workers} workers, "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, load average at the end "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}. Runs/s are the sweep's own (run "
        "phase); 'process s' is the whole `sim sweep --no-analyze` process (start-up, "
        "imports, runs, writing). Peak memory is the proportional set size (PSS) of the whole "
        "process tree (main process + workers), sampled every 0.2 s.",
        "",
        "| engine | experiment | n | batched | runs | time series | process s | runs/s "
        "| run peak PSS MiB | analysis s | analysis peak PSS MiB | on disk MiB |",
        "|---|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.engine} | {r.experiment} | {r.n} | {'yes' if r.batched else 'no'} "
            f"| {r.runs:,} | {'yes' if r.timeseries else 'no'} | {r.process_s:.1f} "
            f"| {r.rate:,.0f} | {r.peak_mib:.0f} | {r.analysis_s:.1f} "
            f"| {r.analysis_peak_mib:.0f} | {r.disk_mib:.1f} |".replace("| nan ", "| - ")
        )
    by = {(r.engine, r.n, r.batched): r.rate for r in rows}
    ratios = [
        (e, n, by[e, n, True] / by[e, n, False]) for e, n, b in by if b and (e, n, False) in by
    ]
    if ratios:
        lines += ["", "Throughput of batched over unbatched sweeps, measured in this run:"]
        lines += [f"- {e}, n = {n}: {ratio:.2f}x" for e, n, ratio in ratios]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiment", type=Path, default=SOBOL_ZHEJIANG)
    ap.add_argument("--n", type=int, action="append", help="design size(s); default: the file's")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeseries", action="store_true", help="save the time series too")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "sweep-results.md")
    ap.add_argument(
        "--batch", choices=("yes", "no", "both"), default="yes", help="batched sweeps or not"
    )
    ap.add_argument(
        "--no-analyze", action="store_true", help="time the runs only, not `sim analyze`"
    )
    ap.add_argument(
        "--previous",
        action="store_true",
        help=f"also measure the previous engine (commit {PREVIOUS_COMMIT})",
    )
    args = ap.parse_args()
    modes = {"yes": [True], "no": [False], "both": [False, True]}[args.batch]
    rows = []
    with previous_checkout() if args.previous else contextlib.nullcontext() as prev:
        engines = [c for c in (prev, THIS) if c is not None]
        for n in args.n or [None]:
            for batch in modes:
                for checkout in engines:
                    print(f"{checkout.label}: n = {n}, batch = {batch} ...", file=sys.stderr)
                    rows.append(
                        sweep_once(
                            checkout,
                            args.experiment,
                            n=n,
                            workers=args.workers,
                            batch=batch,
                            timeseries=args.timeseries,
                            analyze=not args.no_analyze,
                        )
                    )
    text = report(rows, args.workers)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
