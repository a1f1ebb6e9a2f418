"""The hostile cases of issue 24, kept: every surface tried as a careless or hostile user
would, each case run as the installed command (``python -m sim``) in a sandbox folder.

A case is *handled* when the exit status is the one promised (0, or 2 with a message; 130
after Ctrl-C), there is no traceback, the message names what it should, nothing outside
the sandbox changed, nothing a user made was replaced, and no process is left behind.

    python benchmarks/hostile.py                  # every case; prints handled/total
    python benchmarks/hostile.py -k county        # the cases whose name contains "county"
    python benchmarks/hostile.py --write-doc      # and write the count into docs/bad-input.md

The fast ones are tests too (tests/test_hostile_cases.py, test_nothing_lost.py,
test_signals.py, test_file_checks.py, test_validation_round.py); this runs the wider set,
one process each (about 5 s a case, a few minutes in all).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "scenarios" / "teaching.toml"
ZHEJIANG = ROOT / "scenarios" / "zhejiang.toml"
DATA = ROOT / "scenarios" / "data"
DOC = ROOT / "docs" / "bad-input.md"
BEGIN, END = "<!-- hostile:begin -->", "<!-- hostile:end -->"


@dataclass
class Case:
    """One hostile command: ``args`` (``{d}`` is the sandbox), files made first by
    ``setup(d)``, the promised exit statuses, words the output must hold, and ``check(d)``
    for what must hold afterwards (nothing lost)."""

    name: str
    surface: str
    args: list[str]
    setup: Callable[[Path], None] | None = None
    expect: tuple[int, ...] = (2,)
    words: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    check: Callable[[Path], bool] | None = None
    stdout_to: str | None = None
    file_limit: int | None = None
    # (ready(d): when to send, the signals, seconds to wait after ready)
    signal_after: tuple[Callable[[Path], bool], tuple[int, ...], float] | None = None


# ---- setups ---------------------------------------------------------------------------------


def short(d: Path, name: str = "short") -> None:
    (d / "s.toml").write_text(f'extends = "{TEACHING}"\nname = "{name}"\n[time]\nyears = 1\n')


def fake(kind: str) -> Callable[[Path], None]:
    names = {
        "sweep": ["manifest.json", "runs.parquet", "report.md"],
        "calibration": ["calibration.json", "abc.db", "posterior.csv"],
        "run": ["outcomes.json", "timeseries.csv"],
    }[kind]

    def make(d: Path) -> None:
        short(d)
        (d / "o").mkdir()
        for n in [*names, "provenance.json"]:
            (d / "o" / n).write_text("{}")

    return make


def intact(d: Path) -> bool:
    return all((d / "o" / n).read_text() == "{}" for n in os.listdir(d / "o"))


def county_table(column: str, value: str) -> Callable[[Path], None]:
    def make(d: Path) -> None:
        import pandas as pd

        table = pd.read_csv(DATA / "zhejiang_counties.csv", dtype=str, comment="#",
                            keep_default_na=False)  # fmt: skip
        table.loc[3, column] = value
        table.to_csv(d / "zj_counties.csv", index=False)
        shutil.copy(DATA / "zhejiang_contiguity.csv", d / "zj_contiguity.csv")

    return make


def geojson(text: str) -> Callable[[Path], None]:
    def make(d: Path) -> None:
        county_table("name", "Shangcheng")(d)
        (d / "zj_counties.geojson").write_text(text)

    return make


def calibration(
    targets: str, params: str | None = None, *, generations: int = 2
) -> Callable[[Path], None]:
    params = params or '"collaboration.innovation_rate" = { low = 0.02, high = 0.2 }'

    def make(d: Path) -> None:
        (d / "t.csv").write_text(targets)
        (d / "short.toml").write_text(
            f'extends = "{TEACHING}"\n[time]\nyears = 3\nsteps_per_year = 2\n'
        )
        (d / "c.toml").write_text(
            'scenario = "short.toml"\nrules = ["grassroots", "contractor"]\ntargets = "t.csv"\n'
            f"[abc]\npopulation = 10\ngenerations = {generations}\npredictive = 0\nseed = 1\n"
            f"[parameters]\n{params}\n"
        )

    return make


GOOD_TARGETS = "statistic,year,value\ncoverage,2,0.3\n"


def damaged_history(d: Path) -> None:
    calibration(GOOD_TARGETS)(d)
    args = ["calibrate", "c.toml", "--out", "o", "--workers", "1"]
    subprocess.run([sys.executable, "-m", "sim", *args], cwd=d, env=_env(), check=True,
                   capture_output=True)  # fmt: skip
    (d / "o" / "abc.db").write_bytes(b"SQLite format 3\x00" + b"\x07" * 5000)


def experiment(text: str) -> Callable[[Path], None]:
    def make(d: Path) -> None:
        (d / "e.toml").write_text(f'scenario = "{TEACHING}"\n' + text)

    return make


def slow_model(d: Path) -> None:
    (d / "slowmodel.py").write_text(
        "import time\n\n\ndef slow(params, seed):\n    time.sleep(30)\n"
        "    return {'y': params['x']}\n"
    )
    (d / "slow.toml").write_text(
        'model = "slowmodel:slow"\n[design]\nmethod = "lhs"\nn = 8\n'
        "[parameters]\nx = { low = 0, high = 1 }\n"
    )


def locked(d: Path) -> bool:
    return (d / "o" / "sweep.lock").exists()


def a_generation(d: Path) -> bool:
    """A calibration's temporary history holds a finished generation."""
    import sqlite3

    for db in d.glob(".o.tmp-*/abc.db"):
        try:
            with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
                n = con.execute("SELECT COUNT(*) FROM populations WHERE t >= 0").fetchone()[0]
        except sqlite3.Error:
            continue
        if n >= 1:
            return True
    return False


def no_lock(d: Path) -> bool:
    return not (d / "o" / "sweep.lock").exists()


def kept_generations(d: Path) -> bool:
    manifest = d / "o" / "calibration.json"
    return (d / "o" / "abc.db").is_file() and json.loads(manifest.read_text())["status"] in (
        "interrupted",
        "complete",
    )


FIVE_MISTAKES = (
    'rules = ["grasroots", "contractor"]\noutcomes = ["coverge"]\n[design]\nmethod = "lhs"\n'
    'n = 4\nreplicate = 2\n[parameters]\n"drive.contractor_capacity" = { low = 200, high = 20 }\n'
    '"drive.capcity" = { low = 1, high = 2 }\n'
)
LONG = "x" * 300

SMALL_DESIGN = (
    '[design]\nmethod = "lhs"\nn = 2\n[parameters]\n'
    '"drive.contractor_capacity" = { low = 20, high = 200 }\n'
)

# fmt: off
CASES: list[Case] = [
    # nothing lost: an --out of another kind
    Case("run-into-a-sweep", "outputs", ["run", "s.toml", "--out", "o"], fake("sweep"),
         words=("holds a sweep", "--force"), check=intact),
    Case("compare-into-a-calibration", "outputs",
         ["compare", "s.toml", "--replicates", "2", "--out", "o"], fake("calibration"),
         words=("holds a calibration",), check=intact),
    Case("run-into-a-calibration", "outputs", ["run", "s.toml", "--out", "o"],
         fake("calibration"), words=("holds a calibration",), check=intact),
    Case("compare-into-a-run", "outputs", ["compare", "s.toml", "--replicates", "2", "--out",
         "o"], fake("run"), words=("holds a single run",), check=intact),
    Case("calibrate-into-a-sweep", "outputs", ["calibrate", "c.toml", "--out", "o"],
         lambda d: (calibration(GOOD_TARGETS)(d), fake("sweep")(d)), check=intact),
    Case("sweep-into-a-run", "outputs", ["sweep", "e.toml", "--out", "o", "--workers", "1"],
         lambda d: (experiment(SMALL_DESIGN)(d), fake("run")(d)), check=intact),
    Case("out-is-dev-null", "outputs", ["run", "s.toml", "--out", "/dev/null"],
         short, words=("not a folder",)),
    Case("out-in-proc", "outputs", ["run", "s.toml", "--out", "/proc/sim-out"], short,
         words=("cannot write",)),
    # every file checked
    Case("county-population-inf", "county table", ["validate", "z.toml"],
         lambda d: (county_table("population_2020", "inf")(d), _zj(d)),
         words=("population_2020", "non-finite")),
    Case("county-latitude-999", "county table", ["validate", "z.toml"],
         lambda d: (county_table("lat", "999")(d), _zj(d)), words=("lat", "<= 90")),
    Case("county-latitude-inf", "county table", ["validate", "z.toml"],
         lambda d: (county_table("lat", "inf")(d), _zj(d)), words=("lat", "non-finite")),
    Case("geojson-not-json", "county table", ["validate", "z.toml"],
         lambda d: (geojson('{"features": [')(d), _zj(d)), words=("GeoJSON",)),
    Case("geojson-no-features", "county table", ["validate", "z.toml"],
         lambda d: (geojson('{"type": "FeatureCollection"}')(d), _zj(d)), words=("features",)),
    Case("targets-extra-field", "calibration", ["validate", "c.toml"],
         calibration("statistic,year,value\ncoverage,2,0.3,9\n"), words=("t.csv", "fields")),
    Case("targets-sd-1e-300", "calibration", ["validate", "c.toml"],
         calibration("statistic,year,value,sd\ncoverage,2,0.3,1e-300\n"), words=("sd",)),
    Case("lognorm-mean-1000", "calibration", ["validate", "c.toml"],
         calibration(GOOD_TARGETS, '"drive.contractor_capacity" = { dist = "lognorm", '
                     "params = [1000, 1] }"), words=("finite range",)),
    Case("abc-db-damaged-on-resume", "calibration",
         ["calibrate", "c.toml", "--out", "o", "--resume", "--workers", "1"],
         damaged_history, words=("abc.db",)),
    Case("infinite-distances", "calibration", ["calibrate", "c.toml", "--out", "o",
         "--workers", "1"], calibration("statistic,year,value\ncoverage,2,1e300\n"),
         words=("failed calibration",), check=lambda d: not (d / "o").exists()),
    Case("one-parameter-report", "calibration", ["calibrate", "c.toml", "--out", "o",
         "--workers", "1"], calibration(GOOD_TARGETS), expect=(0,),
         check=lambda d: (d / "o" / "report.md").is_file()),
    Case("merge-shard-without-n-points", "sweep", ["merge", "sw"],
         lambda d: _shard(d), words=("n_points",)),
    # the machine and the environment
    Case("path-too-long", "environment", ["run", "s.toml", "--out", LONG], short,
         words=("too long",)),
    Case("stdout-dev-full", "environment", ["validate", "s.toml"], short,
         words=("standard output",), stdout_to="/dev/full"),
    Case("file-size-limit", "environment", ["run", "s.toml", "--out", "o"], short,
         words=("EFBIG",), file_limit=2048),
    Case("ascii-terminal", "environment", ["run", "s.toml", "--out", "o"],
         lambda d: short(d, "t·浙江"), expect=(0,), env={"PYTHONIOENCODING": "ascii"}),
    Case("ascii-file-system", "environment", ["run", "s.toml", "--out", "浙江"], short,
         expect=(0,), env={"LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"},
         check=lambda d: (d / "浙江" / "outcomes.json").is_file()),
    Case("viz-bad-host", "environment", ["viz", "s.toml", "--host", "no.such.host.invalid"],
         short, words=("error",)),
    # one round, clear messages
    Case("experiment-five-mistakes", "validation", ["validate", "e.toml"],
         experiment(FIVE_MISTAKES),
         words=("design.replicate", "rules", "drive.capcity", "outcomes", "low (200")),
    Case("rule-typo", "validation", ["run", "s.toml", "--rule", "grasroots"], short,
         words=('did you mean "grassroots"',)),
    Case("validate-help", "validation", ["validate", "--help"], None, expect=(0,),
         words=("[design]", "[match]", "[abc]")),
    Case("extends-a-csv", "validation", ["validate", "x.toml"],
         lambda d: (d / "x.toml").write_text(f'extends = "{DATA / "zhejiang_counties.csv"}"\n'),
         words=("x.toml: extends", "not a scenario file")),
    Case("set-source-missing", "validation",
         ["run", "s.toml", "--set", "population.source=nope.csv"], short,
         words=("--set: population.source",)),
    Case("set-inf", "validation", ["run", "s.toml", "--set", "drive.contractor_capacity=inf"],
         short, words=("--set",)),
    Case("not-toml", "validation", ["validate", "b.toml"],
         lambda d: (d / "b.toml").write_text("this is [not toml\n"), words=("TOML",)),
    Case("missing-file", "validation", ["run", "nowhere.toml"], None, words=("not found",)),
    # Ctrl-C, SIGTERM, kill -9
    Case("sweep-ctrl-c-twice", "signals", ["sweep", "slow.toml", "--out", "o", "--workers",
         "2"], slow_model, expect=(130, -2), check=no_lock,
         signal_after=(locked, (signal.SIGINT, signal.SIGINT), 2.0)),
    Case("sweep-kill-9", "signals", ["sweep", "slow.toml", "--out", "o", "--workers", "2"],
         slow_model, expect=(-9,), signal_after=(locked, (signal.SIGKILL,), 2.0)),
    Case("calibrate-sigterm", "signals", ["calibrate", "c.toml", "--out", "o", "--workers",
         "1"], calibration(GOOD_TARGETS, generations=8), expect=(130, 0),
         check=kept_generations, signal_after=(a_generation, (signal.SIGTERM,), 0.0)),
]
# fmt: on


def _zj(d: Path) -> None:
    (d / "z.toml").write_text(
        f'extends = "{ZHEJIANG}"\n[population]\ncounties = "zj_counties.csv"\n'
    )


def _shard(d: Path) -> None:
    shard = d / "sw" / "shards" / "1-of-1"
    shard.mkdir(parents=True)
    (shard / "manifest.json").write_text(
        '{"status": "complete", "fingerprint": "x", "n_runs": 4, "replicates": 1, '
        '"rules": ["model"]}'
    )


# ---- running --------------------------------------------------------------------------------


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", **(extra or {})}


def run_case(case: Case) -> tuple[bool, str]:
    """(handled, why not)."""
    import psutil

    top = Path(tempfile.mkdtemp(prefix="hostile-"))
    d = top / "sandbox"
    d.mkdir()
    try:
        if case.setup is not None:
            case.setup(d)
        before = sorted(os.listdir(top))
        limit = case.file_limit

        def limited() -> None:
            if limit is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        stdout = open(case.stdout_to, "w") if case.stdout_to else subprocess.PIPE  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", *case.args], cwd=d, env=_env(case.env),
            stdout=stdout, stderr=subprocess.PIPE, preexec_fn=limited,
        )  # fmt: skip
        children: list[int] = []
        if case.signal_after is not None:
            ready, signals, delay = case.signal_after
            deadline = time.monotonic() + 300
            while not ready(d) and proc.poll() is None:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            time.sleep(delay)
            children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
            for sig in signals:
                if proc.poll() is None:
                    proc.send_signal(sig)
                    time.sleep(0.2)
        try:
            out, err = proc.communicate(timeout=600)
        finally:
            if not isinstance(stdout, int):
                stdout.close()
        text = (out or b"").decode(errors="replace") + err.decode(errors="replace")
        problems = []
        if proc.returncode not in case.expect:
            problems.append(f"exit {proc.returncode}, promised {case.expect}")
        if "Traceback" in text:
            problems.append("a traceback")
        flat = " ".join(text.split())
        problems += [f"no {w!r} in the output" for w in case.words if w not in flat]
        if sorted(os.listdir(top)) != before:
            problems.append(f"written outside the sandbox: {sorted(os.listdir(top))}")
        if case.check is not None and not case.check(d):
            problems.append("its check failed (something lost or not kept)")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(psutil.pid_exists(p) and
                                                   psutil.Process(p).status() != "zombie"
                                                   for p in children):  # fmt: skip
            time.sleep(0.1)
        left = [p for p in children if psutil.pid_exists(p)
                and psutil.Process(p).status() != "zombie"]  # fmt: skip
        if left:
            problems.append(f"processes left behind: {left}")
            for p in left:
                os.kill(p, signal.SIGKILL)
        return not problems, "; ".join(problems) + (f"\n    {flat[:300]}" if problems else "")
    finally:
        shutil.rmtree(top, ignore_errors=True)


def write_doc(handled: int, total: int) -> None:
    """The count in docs/bad-input.md, between the markers (tests check it)."""
    surfaces = sorted({c.surface for c in CASES})
    text = (
        f"{BEGIN}\n`benchmarks/hostile.py` keeps **{len(CASES)} hostile cases** over "
        f"{len(surfaces)} surfaces ({', '.join(surfaces)}); at its last full run "
        f"**{handled} of {total}** were handled.\n{END}"
    )
    doc = DOC.read_text(encoding="utf-8")
    doc = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: text, doc, flags=re.S)
    DOC.write_text(doc, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only cases whose name contains this")
    parser.add_argument("--write-doc", action="store_true", help="write the count to the doc")
    args = parser.parse_args()
    chosen = [c for c in CASES if args.k in c.name]
    handled = 0
    for case in chosen:
        ok, why = run_case(case)
        handled += ok
        print(f"{'ok  ' if ok else 'FAIL'} {case.surface:13s} {case.name}" + ("" if ok else
              f": {why}"), flush=True)  # fmt: skip
    print(f"handled {handled}/{len(chosen)}")
    if args.write_doc and len(chosen) == len(CASES):
        write_doc(handled, len(chosen))
    return 0 if handled == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
