"""Sizes estimated before allocating: the estimate follows the memory really used, and what
would not fit is refused with exit status 2, the estimate, and how to raise the limit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim
from sim import limits
from sim.cli import app
from sim.run import engine_for

ROOT = Path(__file__).resolve().parent.parent
TEACHING = str(ROOT / "scenarios" / "teaching.toml")
runner = CliRunner()

MEASURE = r"""
import gc, json, sys, threading, time
import psutil
import sim
from sim import limits
from sim.experiments.compare import BLOCK, compare

path, run_set, compare_set, replicates = json.loads(sys.argv[1])
me = psutil.Process()


def peak_growth(work):
    # The peak of the resident set while work() runs, over the resident set before it
    # (sampled every millisecond: the engine's arrays live for the whole run).
    gc.collect()
    before = me.memory_info().rss
    peak, done = [before], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], me.memory_info().rss)
            time.sleep(0.001)

    watcher = threading.Thread(target=sample)
    watcher.start()
    try:
        work()
    finally:
        done.set()
        watcher.join()
    return max(peak[0], me.memory_info().rss) - before


tiny = sim.load_scenario(path, {"time.years": 0.5})
compare(tiny, replicates=2)  # compiled kernels, imports and caches loaded before measuring
s = sim.load_scenario(path, run_set)
out = {"run": {"estimate": limits.run_estimate(s).bytes,
               "used": peak_growth(lambda: sim.run(s, rule="hybrid", seed=1))}}
c = sim.load_scenario(path, compare_set)
estimate = limits.compare_estimate(c, rules=3, replicates=replicates, block=BLOCK).bytes
out["compare"] = {"estimate": estimate,
                  "used": peak_growth(lambda: compare(c, replicates=replicates))}
print(json.dumps(out))
"""


@pytest.mark.slow
def test_estimate_follows_the_memory_really_used() -> None:
    """The estimate must not be below the peak (else a refused size would have fitted and,
    worse, an accepted one not), nor far above it (else sizes that fit are refused). The
    peak is the growth of the resident set of a warmed-up process while the work runs;
    allocator slack and the interpreter's own growth make it noisy by some MB, which is why
    the sizes are large enough for that to be small, and why the upper margin is 3x. Sizes:
    one run of 3,000 governments in 10 prefectures (900,000 links) x 100 services (~70 MB);
    a comparison of 12 replicates x 3 rules of 500 governments x 100 services, batched
    (~400 MB)."""
    run_set = {"population.n_agents": 3000, "population.n_regions": 10, "services.count": 100}
    compare_set = {"population.n_agents": 500, "services.count": 100}
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, json.dumps([TEACHING, run_set, compare_set, 12])],
        capture_output=True,
        text=True,
        check=True,
    )
    for what, m in json.loads(result.stdout).items():
        assert m["used"] <= m["estimate"] <= 3 * m["used"], (what, m)


def test_run_size_counts_governments_services_steps_and_links() -> None:
    s = sim.load_scenario(TEACHING)
    size = limits.run_size(s)
    engine = engine_for(s, seed=1)  # the size above is computed without building anything
    assert size.governments == engine.world.n
    assert size.services == engine.world.k
    assert size.steps == s.n_steps
    assert size.links == engine.world.network.adjacency.nnz


def test_national_run_size() -> None:
    s = sim.load_scenario(ROOT / "scenarios" / "china.toml")
    size = limits.run_size(s)
    assert size.provinces == len(s.provinces.names)
    assert size.total_governments == int(s.provinces.sizes.sum())
    assert size.governments == int(s.provinces.sizes.max())


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["run", TEACHING, "--set", "population.n_agents=100000", "--set",
             "population.n_regions=1"],
            "9,999,900,000 network links",
        ),
        (["compare", TEACHING, "--replicates", "1000000000"], "1,000,000,000 replicates"),
        (["animate", TEACHING, "--dpi", "100000"], "lower --dpi to at most 5119"),
        (["animate", TEACHING, "--dpi", "4000"], "frames of 51,200 x 28,800 pixels"),
        (["run", TEACHING, "--max-memory", "lots"], "not a size"),
    ],
)  # fmt: skip
def test_too_large_is_refused_with_the_estimate(tmp_path: Path, args, words) -> None:
    out = tmp_path / ("a.gif" if args[0] == "animate" else "out")
    result = runner.invoke(app, [*args, "--out", str(out)], env={"SIM_MAX_MEMORY": "2G"})
    assert result.exit_code == 2, result.output
    text = result.stderr + result.output
    assert words in text and "Traceback" not in text
    assert not out.exists()


def test_max_memory_raises_the_limit(tmp_path: Path) -> None:
    args = ["run", TEACHING, "--set", "time.years=1", "--out", str(tmp_path / "o")]
    refused = runner.invoke(app, [*args, "--max-memory", "1K"])
    assert refused.exit_code == 2 and "--max-memory" in refused.stderr
    assert runner.invoke(app, [*args, "--max-memory", "0"]).exit_code == 0  # 0: no check


def test_sweep_workers_that_do_not_fit_are_refused(tmp_path: Path) -> None:
    exp = tmp_path / "e.toml"
    exp.write_text(
        f'scenario = "{TEACHING}"\nrules = ["grassroots"]\n[design]\nmethod = "lhs"\nn = 8\n'
        '[parameters]\n"population.n_agents" = { low = 1000, high = 2000 }\n'
    )
    # one worker's chunk of 8 runs of 2,000 x 8 pairs fits in 600 MB, 64 workers do not
    result = runner.invoke(
        app, ["sweep", str(exp), "--out", str(tmp_path / "o"), "--workers", "64",
              "--max-memory", "600M"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "--workers" in result.stderr and "fit in" in result.stderr


def test_parse_size() -> None:
    assert limits.parse_size("8G") == 8 * 2**30
    assert limits.parse_size("512M") == 512 * 2**20
    assert limits.parse_size("2.5GB") == int(2.5 * 2**30)
    assert limits.parse_size("1e9") == 10**9
    for bad in ("", "G", "-1G", "1Q", "inf"):
        with pytest.raises(ValueError):
            limits.parse_size(bad)
