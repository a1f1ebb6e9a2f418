"""Make the synthetic targets of ``calibrate_zhejiang_choice.toml`` (issue 20): one run of
Zhejiang under the contractor rule with ``drive.contractor_capacity = 300`` and
``collaboration.innovation_rate = 0.06``, seed 20, read as observed data — coverage and
cumulative duplicate developments at years 1 to 8 (what issue 20 found insufficient to
choose the rule), plus the statistics that tell the rules apart (``sim.calibrate.
statistics``): source shares at years 2, 4 and 8, the first platform year and the three
gradients across governments.

    python experiments/make_choice_targets.py

The values are computed by the calibration's own summary statistics
(``sim.calibrate.smc.Simulator``), so they are exactly what a calibration reads from a run.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TRUTH = {
    "rule": "contractor",
    "parameters": {"collaboration.innovation_rate": 0.06, "drive.contractor_capacity": 300.0},
    "seed": 20,
    "scenario": "scenarios/zhejiang.toml",
    "note": "synthetic: one run of the model with these values; made by "
    "experiments/make_choice_targets.py",
}
YEARS = range(1, 9)
SHARE_YEARS = (2, 4, 8)
SCALARS = ("first_platform_year", "t50_capacity_slope", "t50_moran", "first_rich_share")
BASIC = ("coverage", "duplicate_developments")
"""The statistics of the issue's failed choice: coverage and duplicates at years 1 to 8."""


def rows() -> list[tuple[str, str]]:
    """(statistic, year) of every target, in file order."""
    out = [(s, str(y)) for s in BASIC for y in YEARS]
    out += [(f"share_{s}", str(y)) for s in ("own", "peer", "catalogue", "platform")
            for y in SHARE_YEARS]  # fmt: skip
    return out + [(s, "") for s in SCALARS]


def main() -> int:
    from sim.calibrate import load_calibration
    from sim.calibrate.smc import Job, Simulator

    out = HERE / "targets" / "zhejiang_choice.csv"
    with tempfile.TemporaryDirectory() as tmp:  # a calibration over the template, to read
        template = Path(tmp) / "t.csv"
        template.write_text(
            "statistic,year,value\n" + "".join(f"{s},{y},0\n" for s, y in rows())
        )
        calib_path = Path(tmp) / "c.toml"
        calib_path.write_text(
            f'scenario = "{HERE.parent / TRUTH["scenario"]}"\nrules = ["contractor"]\n'
            'targets = "t.csv"\n[parameters]\n"drive.contractor_capacity" = '
            "{ low = 50, high = 1000 }\n"
        )
        calib = load_calibration(calib_path)
        job = Job(TRUTH["rule"], dict(TRUTH["parameters"]), TRUTH["seed"])
        stats = Simulator(calib).summaries([job])[0]
    lines = [
        "# SYNTHETIC targets (not observed data): one run of the model with known values.",
        "# scenario scenarios/zhejiang.toml, rule contractor, drive.contractor_capacity = 300,",
        "# collaboration.innovation_rate = 0.06, seed 20. Made by",
        "# experiments/make_choice_targets.py; the truth is in zhejiang_choice_truth.json.",
        "statistic,year,value",
    ]
    for t in calib.targets:
        lines.append(f"{t.statistic},{t.year:g}," if t.year is not None else f"{t.statistic},,")
        lines[-1] += f"{stats[t.key]:.6g}"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    truth = out.with_name("zhejiang_choice_truth.json")
    truth.write_text(json.dumps(TRUTH, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(calib.targets)} targets) and {truth}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
