"""First contact (issue 18) and Ctrl-C during a long compiled run (issue 24, item 2).

* :func:`sim.core.prepare.is_cached` reads Numba's cache index: a kernel not yet compiled is
  not cached, and is once it has run (this guards the private Numba API it relies on);
* :func:`~sim.core.prepare.prepare` says what it does, once, before and after;
* :meth:`sim.core.batch.Batch.advance` steps in chunks: any chunking gives the same numbers
  bit for bit, and Ctrl-C stops ``sim run`` within seconds with exit status 130 and a
  message, writing nothing.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.core import batch as batch_module
from sim.core import prepare as prepare_module
from sim.core.batch import Batch
from sim.core.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "scenarios" / "teaching.toml"


def test_is_cached_reads_the_kernel_cache(tmp_path: Path) -> None:
    source = tmp_path / "kernel_for_cache_test.py"
    source.write_text(
        "from numba import njit\n\n\n@njit(cache=True)\ndef twice(x):\n    return 2 * x\n"
    )
    spec = importlib.util.spec_from_file_location("kernel_for_cache_test", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert not prepare_module.is_cached(module.twice)
    assert module.twice(3) == 6  # compiles and writes the cache
    assert prepare_module.is_cached(module.twice)


def test_prepare_says_what_it_does_once(monkeypatch: pytest.MonkeyPatch) -> None:
    prepare_module.prepare()  # the kernels (compiled by now, or compiled here, silently)
    assert prepare_module.is_prepared()
    lines: list[str] = []
    assert prepare_module.prepare(echo=lines.append) == 0.0
    assert lines == []  # prepared: nothing to say
    monkeypatch.setattr(prepare_module, "is_prepared", lambda national=False, intent=False: False)
    prepare_module.prepare(echo=lines.append)
    assert len(lines) == 2
    assert lines[0].startswith("preparing the compiled model (one time, about")
    assert lines[1].startswith("compiled model ready (")
    # the README quotes the first line as it is printed
    assert f"`{lines[0]}`" in (ROOT / "README.md").read_text().replace("\n", " ")


@pytest.mark.parametrize(
    ("name", "doc"),
    [
        ("first-run-results.md", "docs/benchmarks.md"),
        ("kernels-results.md", "docs/benchmarks.md"),
        ("around-loop-results.md", "docs/benchmarks.md"),
        ("refs-results.md", "README.md"),
    ],
)
def test_the_docs_quote_the_first_run_benchmark(name: str, doc: str) -> None:
    """Issue 18's tables are the ones benchmarks/first_run.py wrote, each side by side with
    the commit before a change: the README shows the latest (``--before`` the commit before
    the kernels took references to the batch's arrays), docs/benchmarks.md the earlier
    steps."""
    written = (ROOT / "benchmarks" / name).read_text().splitlines()
    rows = [line for line in written if line.startswith("| ")]
    assert len(rows) >= 9
    text = (ROOT / doc).read_text()
    for row in rows:
        assert row in text, row


def test_the_readme_quotes_make_bench() -> None:
    """The README's speed table is the side-by-side table `make bench` wrote."""
    written = (ROOT / "benchmarks" / "results.md").read_text()
    table = written.split("## Issue 9's aims")[1].split("\n## ")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) >= 10
    readme = (ROOT / "README.md").read_text()
    for row in rows:
        assert row in readme, row


def test_prepared_kernel_is_the_one_real_runs_use() -> None:
    """The tiny run compiles the one signature every run uses (any rule, size, network,
    mechanism switched on, batched or alone): a later real run never compiles silently."""
    from sim.core import step

    prepare_module.prepare()
    over = {
        "drive.deployment_time": 0.5,
        "risk.local_failure_rate": 0.2,
        "support.consolidation_rate": 0.3,
        "population.network": "complete",
    }
    for s in (sim.load_scenario(TEACHING), sim.load_scenario(TEACHING, over)):
        for rule in ("grassroots", "contractor", "hybrid"):
            sim.run_outcomes(s, rule=rule)
        Batch([Engine(s, rule="hybrid", seed=i).setup for i in range(3)]).run()
    assert len(step.advance.signatures) == 1


def _batch() -> Batch:
    """Every rule, with outages and local failures (never settled) and without (settling
    part-way: a settled run repeats its last row)."""
    risky = sim.load_scenario(TEACHING, {"drive.failure_rate": 1.0, "risk.local_failure_rate": 0.3})
    plain = sim.load_scenario(TEACHING, {"drive.failure_rate": 0.0})  # contractor settles
    return Batch(
        [
            Engine(s, rule=r, seed=3 + i).setup
            for i, (s, r) in enumerate(
                (s, r) for s in (risky, plain) for r in ("grassroots", "contractor", "hybrid")
            )
        ]
    )


def test_any_chunking_gives_the_same_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _batch()
    assert whole._chunk >= whole.n_steps  # a small batch: one compiled call
    whole.run()
    assert whole.state.settled.any() and not whole.state.settled.all()
    monkeypatch.setattr(batch_module, "CHUNK_SECONDS", 0.0)  # then chunks of 1 step
    chunked = _batch()
    chunked._chunk = 5
    chunked.run()
    assert chunked.t == whole.t == whole.n_steps
    np.testing.assert_array_equal(chunked.series.values, whole.series.values)
    for name in whole.state._fields:
        np.testing.assert_array_equal(getattr(chunked.state, name), getattr(whole.state, name))


HOOK = textwrap.dedent(
    """
    import sys
    from sim.core import batch

    original = batch.Batch._advance

    def announce(self, *args):  # tell the test that the compiled loop has started
        if not getattr(batch, "_announced", False):
            batch._announced = True
            print("stepping", file=sys.stderr, flush=True)
        original(self, *args)

    batch.Batch._advance = announce
    from sim.cli import main

    sys.argv = ["sim", *sys.argv[1:]]
    main()
    """
)


def test_ctrl_c_stops_a_long_run_within_seconds(tmp_path: Path) -> None:
    prepare_module.prepare()  # so that the subprocess loads the kernels, not compiles them
    # consolidation never lets a run settle: every one of the 12,000 steps does work
    # (about a minute on one core), so a run that ignored Ctrl-C would take that long
    overrides = [
        "population.n_agents=3000",
        "services.count=50",
        "time.years=200",
        "time.steps_per_year=60",
        "support.consolidation_rate=0.5",
    ]
    args = [sys.executable, "-c", HOOK, "run", str(TEACHING), "--out", str(tmp_path / "o")]
    for o in overrides:
        args += ["--set", o]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline().decode()
        assert line.strip() == "stepping", line
        time.sleep(0.5)  # well inside the first chunks
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        waited = time.monotonic() - sent
    finally:
        proc.kill()
    assert proc.returncode == 130, err.decode()
    assert "interrupted" in err.decode() and "Traceback" not in err.decode()
    # chunks of about 0.2 s: a second or two at most, 5 s on a loaded 2-core machine
    assert waited < 5.0, waited
    assert not (tmp_path / "o").exists()
    assert list(tmp_path.iterdir()) == []  # no temporary folder left either


def test_class_mode_prepares_the_students_kernel_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """``sim viz --class`` prepares class mode's kernel before serving, so the teacher's
    first round never waits on a compile (a cold cache compiled it inside the round)."""
    from sim.core.mechanisms import intent

    act = intent.act
    assert act in prepare_module._entry_points(False, intent=True)
    assert act not in prepare_module._entry_points(False)
    # as with a cold cache: the tiny run must step class mode's kernel (compiled here, or
    # loaded from the disk cache: either way this process then holds its signature)
    monkeypatch.setattr(prepare_module, "is_prepared", lambda national=False, intent=False: False)
    stepped: list[int] = []
    step = intent.step
    monkeypatch.setattr(intent, "step", lambda *a: stepped.append(step(*a)) or stepped[-1])
    prepare_module.prepare(intent=True)
    assert stepped, "prepare(intent=True) did not step class mode's kernel"
    assert act.signatures
    stepped.clear()
    prepare_module.prepare()
    assert not stepped  # other commands do not pay for it
