"""docs/mechanisms.md quotes what docs/make_mechanisms.py computes: its generated block is
the rendering of docs/mechanisms.csv, and one row of the CSV is re-run here (Zhejiang as
shipped, 20 paired seeds: 40 runs, about a second after compiling)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS))

import make_mechanisms as mm  # noqa: E402


def test_the_generated_block_is_the_csv() -> None:
    text = (DOCS / "mechanisms.md").read_text(encoding="utf-8")
    block = text.split("<!-- BEGIN GENERATED mechanisms -->\n", 1)[1]
    block = block.split("<!-- END GENERATED mechanisms -->", 1)[0]
    assert block == mm.render(mm.read_csv())


def test_a_row_of_the_csv_reproduces() -> None:
    from sim.experiments.compare import interval

    diffs = mm.paired("zhejiang", mm.VARIANTS["shipped"])
    rows = {
        r["outcome"]: r
        for r in mm.read_csv()
        if r["province"] == "zhejiang" and r["variant"] == "shipped"
    }
    for outcome in mm.OUTCOMES:
        mean, _, lo, hi = interval(diffs[outcome])
        expected = [rows[outcome][k] for k in ("mean", "ci_low", "ci_high")]
        assert np.allclose([mean, lo, hi], expected)
    assert len(rows) == len(mm.OUTCOMES)


@pytest.mark.parametrize("province", mm.PROVINCES)
def test_the_shipped_provinces_switch_on_what_the_doc_says(province: str) -> None:
    import sim

    s = sim.load_scenario(DOCS.parent / "scenarios" / f"{province}.toml")
    assert s.drive.crowding_timing == "plan" and s.drive.absorption_scope == "all"
    for key, value in mm.OFF.items():  # "before" differs from shipped exactly there
        table, name = key.split(".")
        assert getattr(getattr(s, table), name) != value
