"""The fits to what happened (issue 21): the province-level statistics of
sim.calibrate.observed, the fit files and their targets, and a tiny fit that reproduces."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.calibrate import load_calibration, observed
from sim.calibrate.targets import Target
from sim.errors import BadInput

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"
RANKINGS = ROOT / "scenarios" / "data" / "observed" / "rankings.csv"
PROVINCES = ["A", "B", "C", "D", "E", "F"]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_rank_rho_agrees_with_order_and_treats_unlisted_as_tied():
    top3 = pd.Series([1.0, 2.0, 3.0], index=["A", "B", "C"])
    same = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], index=PROVINCES)
    # A top-3 list says the other three share places 4-6: the best any order can do is
    # rho of (1..6) against (1, 2, 3, 5, 5, 5), below 1.
    best = observed.rank_rho(same, top3)
    assert 0.9 < best < 1.0
    assert observed.rank_rho(-same, top3) == pytest.approx(-best)
    # Reordering only the unlisted provinces changes nothing.
    shuffled = pd.Series([1.0, 2.0, 3.0, 6.0, 4.0, 5.0], index=PROVINCES)
    assert observed.rank_rho(shuffled, top3) == pytest.approx(best)
    # Swapping two listed ones lowers it.
    assert observed.rank_rho(same[["B", "A", "C", "D", "E", "F"]].set_axis(PROVINCES), top3) < best
    assert observed.rank_rho(pd.Series(1.0, index=PROVINCES), top3) == 0.0  # no spread


def test_rankings_of_provinces_only_leave_out_the_municipalities():
    rankings = observed.read_rankings(RANKINGS, named_by="test")
    portals = rankings["portals_2021"]
    assert portals.attrs["provinces_only"] and not rankings["cps_2017"].attrs["provinces_only"]
    names = pd.read_csv(ROOT / "scenarios/data/china_provinces.csv", comment="#").name
    assert len(observed.domain_of(portals, list(names))) == 27
    assert "cps_2020" not in rankings  # one province listed: not a ranking
    # GDP per capita alone: a positive but imperfect predictor of every ranking.
    gdp = pd.read_csv(ROOT / "scenarios/data/china_provinces.csv", comment="#")
    speed = pd.Series(-gdp.gdp_per_capita_yuan.to_numpy(float), index=gdp.name)
    rhos = [observed.rank_rho(speed, r) for r in rankings.values()]
    assert all(0 < r < 0.9 for r in rhos)


def test_provinces_started_is_the_share_of_provinces_past_the_start_quantile():
    # Province A: t50 of its ten governments 1..10 years -> its 10% quantile is 1.9;
    # province B: all at 5 years.
    agents = pd.DataFrame({
        "province": ["A"] * 10 + ["B"] * 10,
        "t50_years": list(np.arange(1.0, 11.0)) + [5.0] * 10,
    })  # fmt: skip
    run = SimpleNamespace(agents=agents, provinces=pd.DataFrame({"province": ["A", "B"]}))
    at = {y: Target(observed.STARTED, y, y, 0.0) for y in (1.0, 2.0, 5.0)}
    got = {y: observed.statistic(t, run, {}) for y, t in at.items()}
    assert got == {1.0: 0.0, 2.0: 0.5, 5.0: 1.0}


@pytest.mark.parametrize("name", ["guangdong", "zhejiang", "china"])
def test_fit_files_validate(name):
    calib = load_calibration(EXPERIMENTS / f"fit_{name}.toml")
    assert len(calib.rules) >= 3 and len(calib.targets) >= 2
    assert all(t.sd is not None for t in calib.targets)  # a fixed, reasoned distance
    if name == "china":
        assert calib.targets.needs_result and set(calib.targets.rankings) >= {"cps_2016"}


def test_committed_targets_are_what_the_script_makes():
    built = _load(EXPERIMENTS / "make_observed_targets.py", "mot").build()
    for name, text in built.items():
        assert (EXPERIMENTS / "targets" / name).read_text(encoding="utf-8") == text, name


def test_bad_rank_targets_name_the_file(tmp_path):
    text = (EXPERIMENTS / "fit_china.toml").read_text(encoding="utf-8")
    targets = tmp_path / "t.csv"
    targets.write_text("statistic,year,value,sd\nrank_rho:nope,,1,0.3\n", encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        text.replace('"targets/china_observed.csv"', f'"{targets}"')
        .replace('"../scenarios/china.toml"', f'"{ROOT / "scenarios/china.toml"}"')
        .replace('"../scenarios/data/observed/rankings.csv"', f'"{RANKINGS}"'),
        encoding="utf-8",
    )
    with pytest.raises(BadInput) as info:
        load_calibration(bad)
    assert "rank_rho:nope" in str(info.value) and str(bad) in str(info.value)
    province = tmp_path / "province.toml"
    province.write_text(
        (EXPERIMENTS / "fit_zhejiang.toml").read_text(encoding="utf-8")
        .replace('"../scenarios/zhejiang.toml"', f'"{ROOT / "scenarios/zhejiang.toml"}"')
        .replace('"targets/zhejiang_observed.csv"', f'"{targets}"')
        .replace("start_year = 2014.479", "")
        .replace('targets = "', f'rankings = "{RANKINGS}"\ntargets = "', 1),
        encoding="utf-8",
    )  # fmt: skip
    targets.write_text("statistic,year,value,sd\nrank_rho:cps_2017,,1,0.3\n", encoding="utf-8")
    with pytest.raises(BadInput, match="need a national scenario"):
        load_calibration(province)


def test_tiny_fit_reproduces_from_its_file():
    """docs/make_observed.py tiny wrote tests/data/observed_tiny.json from the same file
    and settings; the same seed gives the same P(rule | data)."""
    make = _load(ROOT / "docs" / "make_observed.py", "make_observed")
    expected = json.loads(make.TINY_FILE.read_text(encoding="utf-8"))
    assert make.tiny() == pytest.approx(expected, abs=1e-9)


def test_documents_quote_the_scripts_tables():
    """docs/observed.md and README.md quote docs/observed-*.csv exactly (the blocks
    between the observed:NAME markers are what docs/make_observed.py renders)."""
    make = _load(ROOT / "docs" / "make_observed.py", "make_observed_doc")
    seen = 0
    for path in make.DOCS:
        text = path.read_text(encoding="utf-8")
        for which in make.MARKERS:
            start, end = make.block(which)
            if start not in text:
                continue
            quoted = text.split(start, 1)[1].split(end, 1)[0].strip()
            assert quoted == make.render(which), f"{path.name}: {which}"
            seen += 1
    assert seen >= 4  # fits and ranks in the page, findings and ranks in the README


def test_grounded_scenario_ranks_at_least_as_well_as_gdp_alone():
    """The claim of docs/observed.md, on the committed rank table (10 seeds)."""
    ranks = pd.read_csv(ROOT / "docs" / "observed-ranks.csv").set_index("ranking")
    assert ranks.loc["mean", "grounded"] >= ranks.loc["mean", "GDP per capita alone"]
    fits = pd.read_csv(ROOT / "docs" / "observed-fits.csv")
    assert set(fits.fit) == {"guangdong", "zhejiang", "china"} and set(fits.abc_seed) == {1, 2}
    sums = fits.groupby(["fit", "abc_seed", "prior"]).probability.sum()
    assert np.allclose(sums, 1.0, atol=0.01)
