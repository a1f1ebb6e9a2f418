"""Sweep throughput and memory: runs per second, and peak memory of the whole process tree.

Runs an experiment (default: experiments/sobol_zhejiang.toml, 57,344 runs) with ``sim
sweep`` in a subprocess on N workers, then ``sim analyze``, and samples the proportional
set size (PSS, from /proc/PID/smaps_rollup) of the process and all its descendants every
0.2 s. PSS counts shared pages once across the tree, so the sum is the tree's real memory.

    python benchmarks/sweep.py                                  # the full Sobol experiment
    python benchmarks/sweep.py --n 256 --timeseries             # smaller, with time series
    python benchmarks/sweep.py --n 256 --n 1024                 # memory flat in the run count?
    python benchmarks/sweep.py --n 128 --batch both             # batched vs unbatched

``--batch both`` runs every size unbatched (``--no-batch``) and then batched (the default of
``sim sweep``) and reports the throughput ratio measured in this run.

Writes benchmarks/sweep-results.md (append-free: rewritten each time) and prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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


def measure(cmd: list[str]) -> tuple[float, int, int]:
    """Run ``cmd``; return (seconds, peak tree PSS in KiB, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    done.set()
    sampler.join()
    return time.perf_counter() - start, peak, code


def experiment_copy(src: Path, n: int | None, timeseries: bool, folder: Path) -> Path:
    """The experiment with another n and/or save_timeseries, next to its scenario path."""
    text = src.read_text()
    text = text.replace('scenario = "../', f'scenario = "{src.parent.parent}/')
    if n is not None:
        text = re.sub(r"^n = \d+", f"n = {n}", text, flags=re.M)
    if timeseries:
        text = text.replace("[design]\n", "[design]\nsave_timeseries = true\n")
    path = folder / f"{src.stem}-n{n}{'-ts' if timeseries else ''}.toml"
    path.write_text(text)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiment", default=str(ROOT / "experiments" / "sobol_zhejiang.toml"))
    ap.add_argument("--n", type=int, action="append", help="design size(s); default: the file's")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeseries", action="store_true", help="save the time series too")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "sweep-results.md"))
    ap.add_argument(
        "--batch", choices=("yes", "no", "both"), default="yes", help="batched sweeps or not"
    )
    args = ap.parse_args()
    modes = {"yes": [True], "no": [False], "both": [False, True]}[args.batch]
    sim = [sys.executable, "-m", "sim"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, batch in ((n, b) for n in args.n or [None] for b in modes):
            exp = experiment_copy(Path(args.experiment), n, args.timeseries, Path(tmp))
            out = Path(tmp) / f"out-{n}-{batch}"
            sweep_cmd = [
                *sim,
                "sweep",
                str(exp),
                "--out",
                str(out),
                "--workers",
                str(args.workers),
                "--no-analyze",
                "--batch" if batch else "--no-batch",
            ]
            secs, peak, code = measure(sweep_cmd)
            if code:
                sys.exit(f"sweep failed ({code}): {' '.join(sweep_cmd)}")
            manifest = json.loads((out / "manifest.json").read_text())
            runs = manifest["n_runs"]
            a_secs, a_peak, code = measure([*sim, "analyze", str(out)])
            if code:
                sys.exit(f"analysis failed ({code})")
            disk = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
            rows.append(
                (
                    Path(args.experiment).stem,
                    manifest["n"],
                    batch,
                    runs,
                    args.timeseries,
                    secs,
                    runs / secs,
                    peak / 1024,
                    a_secs,
                    a_peak / 1024,
                    disk / 2**20,
                )
            )
    lines = [
        "# Sweep throughput and memory",
        "",
        f"`python benchmarks/sweep.py` on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, {args.workers} workers, "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC. Peak memory is the proportional "
        "set size (PSS) of the whole process tree (main process + workers), sampled every "
        "0.2 s.",
        "",
        "| experiment | n | batched | runs | time series | run phase s | runs/s "
        "| run peak PSS MiB | analysis s | analysis peak PSS MiB | on disk MiB |",
        "|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r[0]} | {r[1]} | {'yes' if r[2] else 'no'} | {r[3]:,} "
            f"| {'yes' if r[4] else 'no'} | {r[5]:.1f} "
            f"| {r[6]:.0f} | {r[7]:.0f} | {r[8]:.1f} | {r[9]:.0f} | {r[10]:.1f} |"
        )
    by = {(r[1], r[2]): r[6] for r in rows}
    ratios = [(n, by[n, True] / by[n, False]) for n, b in by if b and (n, False) in by]
    if ratios:
        lines += ["", "Throughput of batched over unbatched sweeps, measured in this run:"]
        lines += [f"- n = {n}: {ratio:.2f}x" for n, ratio in ratios]
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
