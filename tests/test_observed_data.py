"""The observed data of issue 21 (scenarios/data/observed/): they parse, every row has a
source and a grade, values are in range, and the tables are what build.py makes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
OBSERVED = ROOT / "scenarios" / "data" / "observed"
TABLES = ("platforms.csv", "rankings.csv", "milestones.csv")
COLUMNS = ["what", "where", "when", "year", "value", "unit", "bound", "uncertainty",
           "source_url", "source_grade", "note"]  # fmt: skip


def _build_module():
    spec = importlib.util.spec_from_file_location("observed_build", OBSERVED / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(OBSERVED / name, keep_default_na=False)


@pytest.mark.parametrize("name", TABLES)
def test_tables_parse_with_a_source_on_every_row(name):
    frame = _read(name)
    assert list(frame.columns) == COLUMNS
    assert len(frame) > 0
    assert frame["source_url"].str.match(r"https?://\S+$").all(), name
    assert frame["source_grade"].isin(list("ABCD")).all(), name
    assert frame["bound"].isin(["=", ">", "<="]).all(), name
    assert (frame["uncertainty"].astype(float) >= 0).all(), name
    assert frame["year"].astype(float).between(2014, 2025).all(), name
    provinces = set(pd.read_csv(ROOT / "scenarios/data/china_provinces.csv", comment="#").name)
    assert set(frame["where"]) <= provinces | {"China", "Hangzhou"}, name


def test_values_in_range():
    p = _read("platforms.csv")
    share = p[p.unit.str.startswith("percent")]
    assert share.value.between(0, 100).all()
    counts = p[p.what == "provinces_with_platform"]
    assert counts.value.between(0, 32).all() and counts.value.is_monotonic_increasing
    services = p[p.what == "yueshengshi_services"].sort_values("year")
    assert services.value.is_monotonic_increasing and services.value.iloc[0] == 142
    r = _read("rankings.csv")
    assert (r[r.unit == "rank"].value.between(1, 31)).all()
    assert r[r.unit == "tier"].value.isin([1, 2]).all()
    assert not r.duplicated(["what", "where"]).any()  # one place per province and ranking
    m = _read("milestones.csv")
    assert sorted(m[m.what == "pilot_province"]["where"]) == sorted(
        ["Shanghai", "Jiangsu", "Zhejiang", "Anhui", "Shandong", "Guangdong", "Chongqing",
         "Sichuan", "Guizhou"]
    )  # fmt: skip


def test_tables_are_what_build_makes():
    built = _build_module().build()
    for name in TABLES:
        expected = built[name].astype(str).reset_index(drop=True)
        committed = pd.read_csv(OBSERVED / name, dtype=str, keep_default_na=False)
        pd.testing.assert_frame_equal(committed, expected.replace("nan", ""), check_dtype=False)


def test_decimal_year_and_grade():
    b = _build_module()
    assert b.decimal_year("2018-05-21") == pytest.approx(2018 + 140 / 365, abs=1e-3)
    assert b.decimal_year("2019-07") == pytest.approx(2019 + (181 + 15.5) / 365, abs=1e-3)
    assert b.decimal_year("2017") == 2017.5 and b.decimal_year("2017", end_of_year=True) == 2018
    assert b.grade("http://zfsg.gd.gov.cn/x") == "A" and b.grade("(URL not returned)") == "C"
