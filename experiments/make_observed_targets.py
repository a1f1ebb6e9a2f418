"""The targets of the fits to what happened (issue 21), from scenarios/data/observed/.

Writes ``targets/{guangdong,zhejiang,china}_observed.csv``: each observed series turned
into the model quantity it is compared with, by the mapping of ``docs/observed.md`` (one
place: the constants below). Run from the repository root::

    python experiments/make_observed_targets.py

A test checks that the committed targets are what this script makes.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OBSERVED = ROOT / "scenarios" / "data" / "observed"
OUT = ROOT / "experiments" / "targets"

SATURATION = 2500.0
"""粤省事 services at saturation: the last count (more than 2,500, 2023-12). Services live
/ SATURATION is compared with the share of (county, service) pairs served (``coverage``)."""
SATURATION_SD = 0.2
"""Relative sd of the saturation (the last count is a lower bound; judgement)."""
MAPPING_SD = 0.05
"""Absolute sd added for the mapping of a share onto the model's coverage or started
provinces (judgement: the model's quantity is a proxy, not the same measurement)."""
LOWER_BOUND_FACTOR = 2.0
"""A value the source gives as "more than" keeps its value with twice the sd."""
PROVINCES_OF_CHINA = 32  # the national counts include the XPCC
RANK_FIT = ("cps_2016", "cps_2017", "cps_2018")
"""Rankings the national fit uses (the CPS online government-service capability index,
closest to the model's speed); the other rankings are held out for checking."""
RANK_SD = 0.3
"""sd of a rank target (rho = 1): rho = 0.4 is two sd from perfect agreement."""


def _sd(row: pd.Series, share: float, *, relative_extra: float = 0.0) -> float:
    grade_rel = row.uncertainty / row.value if row.value else 0.0
    sd = math.hypot(share * math.hypot(grade_rel, relative_extra), MAPPING_SD)
    if row.bound == ">":
        sd *= LOWER_BOUND_FACTOR
    return round(sd, 4)


def guangdong(platforms: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in platforms[platforms.what == "yueshengshi_services"].iterrows():
        share = min(r.value / SATURATION, 1.0)
        sd = _sd(r, share, relative_extra=SATURATION_SD)
        rows.append(("coverage", r.year, round(share, 4), sd))
    return pd.DataFrame(rows, columns=["statistic", "year", "value", "sd"])


def zhejiang(platforms: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in platforms[platforms.what == "zhejiang_items_online_share"].iterrows():
        share = r.value / 100.0
        rows.append(("coverage", r.year, round(share, 4), _sd(r, share)))
    return pd.DataFrame(rows, columns=["statistic", "year", "value", "sd"])


def china(platforms: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in platforms[platforms.what == "provinces_with_platform"].iterrows():
        share = r.value / PROVINCES_OF_CHINA
        rows.append(("provinces_started", r.year, round(share, 4), _sd(r, share)))
    for name in RANK_FIT:
        rows.append((f"rank_rho:{name}", None, 1.0, RANK_SD))
    return pd.DataFrame(rows, columns=["statistic", "year", "value", "sd"])


HEADERS = {
    "guangdong": "services live on 粤省事 / {sat:g} (its count at saturation, a lower bound) "
    "against coverage; model year 0 = 2017.78 (Digital Guangdong set up 2017-10-11)",
    "zhejiang": "percent of Zhejiang's items online / 100 against coverage; model year 0 = "
    "2014.48 (浙江政务服务网 live 2014-06-25)",
    "china": "provinces with a provincial platform / 32 against the share of simulated "
    "provinces started; published CPS rankings against the simulated provinces' speed "
    "(rho = 1 is perfect agreement); model year 0 = 2014.48 (the first provincial platform)",
}


def build() -> dict[str, str]:
    platforms = pd.read_csv(OBSERVED / "platforms.csv", keep_default_na=False)
    out = {}
    for name, make in (("guangdong", guangdong), ("zhejiang", zhejiang), ("china", china)):
        frame = make(platforms)
        header = (
            "# OBSERVED targets made by experiments/make_observed_targets.py from\n"
            "# scenarios/data/observed/platforms.csv (sources and grades there; mapping:\n"
            "# docs/observed.md). " + HEADERS[name].format(sat=SATURATION) + "\n"
        )
        out[f"{name}_observed.csv"] = header + frame.to_csv(index=False, lineterminator="\n")
    return out


def main() -> None:
    for name, text in build().items():
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"targets/{name}")


if __name__ == "__main__":
    main()
