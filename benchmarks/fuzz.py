"""The long fuzz run: thousands of hostile scenario, data and experiment files.

The suite runs a few dozen derandomized examples of ``tests/test_fuzz.py``; this runs the
same tests with many random examples (and the analysis after every sweep that runs), and
prints Hypothesis's statistics: how many inputs were refused (exit 2), how many ran
(exit 0), and the keys the refusals named.

    python benchmarks/fuzz.py                   # 2,000 examples per test
    python benchmarks/fuzz.py --examples 20000  # longer
    python benchmarks/fuzz.py --no-analyze      # faster: sweeps without their analysis

A failure prints the shrunk example (a file's text) that breaks a promise: an exit status
other than 0 or 2, a traceback, or a file written outside ``--out``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per test")
    parser.add_argument(
        "--no-analyze", action="store_true", help="sweeps without the analysis after them"
    )
    args = parser.parse_args()
    env = {
        **os.environ,
        "SIM_FUZZ_EXAMPLES": str(args.examples),
        "SIM_FUZZ_RANDOM": "1",
        "SIM_FUZZ_ANALYZE": "0" if args.no_analyze else "1",
    }
    cmd = [sys.executable, "-m", "pytest", str(ROOT / "tests" / "test_fuzz.py"), "-q",
           "--hypothesis-show-statistics", "-p", "no:cacheprovider"]  # fmt: skip
    return subprocess.call(cmd, env=env, cwd=ROOT)


if __name__ == "__main__":
    raise SystemExit(main())
