"""Issue 20: statistics that tell the rules apart, ABC random forests, ``--check`` and the
"undecided" verdict.

Runs on the teaching province at 2 steps a year (a few ms a run): one reference table of
240 runs is shared by the module (about 5 s), forests of 60 trees (under a second each).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from typer.testing import CliRunner

pytest.importorskip("sklearn")
pytest.importorskip("pyabc")

from sim.calibrate import load_calibration, reference
from sim.calibrate.forest import ChoiceForest, param_forests
from sim.calibrate.statistics import DERIVED, RunData
from sim.calibrate.verdict import Answer, verdict
from sim.cli import app
from sim.errors import BadInput

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
RULES = ["grassroots", "contractor", "hybrid"]
TARGETS = """statistic,year,value
coverage,2,0.3
coverage,5,0.7
share_own,3,0.3
share_peer,3,0.3
share_catalogue,3,0.2
share_platform,3,0.1
first_platform_year,,3
t50_capacity_slope,,-1
t50_moran,,0.1
first_rich_share,,0.4
"""


def write(folder: Path, *, abc: str = "", targets: str = TARGETS, check: str = "") -> Path:
    (folder / "small.toml").write_text(
        f'extends = "{ROOT / "scenarios" / "teaching.toml"}"\nname = "small"\n'
        "[time]\nsteps_per_year = 2\n"
    )
    (folder / "t.csv").write_text(targets)
    path = folder / "calib.toml"
    path.write_text(
        'scenario = "small.toml"\nrules = ["grassroots", "contractor", "hybrid"]\n'
        f'targets = "t.csv"\n[abc]\nreference = 240\ntrees = 60\n{abc}\n{check}\n'
        '[parameters]\n"collaboration.innovation_rate" = { low = 0.02, high = 0.2 }\n'
        '"drive.contractor_capacity" = { low = 20, high = 200 }\n'
    )
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    calib = load_calibration(write(tmp_path_factory.mktemp("choice")))
    table, _ = reference.build(calib, 240, seed=0)
    return calib, table


# ---- the statistics ---------------------------------------------------------------------


def _run(step: np.ndarray, capacity: np.ndarray, adjacency=None, series=None) -> RunData:
    years = np.arange(5, dtype=float)
    series = series or {"year": years, **{c: np.zeros(5) for c in
                                          ("served_own", "served_peer", "served_catalogue",
                                           "served_contractor")}}  # fmt: skip
    return RunData(series, step, capacity, adjacency, dt=1.0, horizon=4.0)


def test_gradient_statistics_by_hand() -> None:
    """Four governments on a path 0-1-2-3, two services. t50 (the first service's step, K=2
    needs 1) is 0, 1, 2, never (censored at horizon + dt = 5); capacity 0.4, 0.3, 0.2, 0.1.
    Slope of t50 on capacity: least squares by hand; Moran's I on the path by hand; the
    first offer of service 0 is government 0 (the richest quartile, n // 4 = 1), of
    service 1 a tie between 1 and 2 (neither richest)."""
    step = np.array([[0, -1], [1, 3], [2, 3], [-1, -1]])
    cap = np.array([0.4, 0.3, 0.2, 0.1])
    adj = sp.csr_array(np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]]))
    run = _run(step, cap, adj)
    y = np.array([0, 1, 2, 5.0])
    slope = np.polyfit(cap, y, 1)[0]
    assert DERIVED["t50_capacity_slope"].compute(run, None) == pytest.approx(slope)
    z = y - y.mean()
    moran = 4 / 6 * 2 * (z[0] * z[1] + z[1] * z[2] + z[2] * z[3]) / (z @ z)
    assert DERIVED["t50_moran"].compute(run, None) == pytest.approx(moran)
    assert DERIVED["first_rich_share"].compute(run, None) == pytest.approx((1 + 0) / 2)


def test_source_shares_and_first_platform_year() -> None:
    years = np.arange(5, dtype=float)
    series = {"year": years, "served_own": np.array([0, 0.1, 0.2, 0.2, 0.2]),
              "served_peer": np.array([0, 0.1, 0.1, 0.1, 0.1]),
              "served_catalogue": np.zeros(5),
              "served_contractor": np.array([0, 0, 0.1, 0.3, 0.5])}  # fmt: skip
    run = _run(np.zeros((1, 1), int), np.ones(1), series=series)
    assert DERIVED["share_platform"].compute(run, 3.0) == pytest.approx(0.3 / 0.6)
    assert DERIVED["share_own"].compute(run, 1.5) == pytest.approx(0.15 / (0.15 + 0.1 + 0.05))
    assert DERIVED["share_catalogue"].compute(run, 0.0) == 0.0  # nothing served yet
    assert DERIVED["first_platform_year"].compute(run, None) == 2.0
    series["served_contractor"] = np.zeros(5)
    assert DERIVED["first_platform_year"].compute(run, None) == 5.0  # never: horizon + dt


def test_rules_leave_their_marks_in_the_table(setup: tuple) -> None:
    """No platform under grassroots, no catalogue under the contractor: structural zeros
    of the model, read through the batched engine."""
    _, table = setup
    g, c = table[table.rule == "grassroots"], table[table.rule == "contractor"]
    assert (g["share_platform@3"] == 0).all() and (g["first_platform_year"] == 8.5).all()
    assert (c["share_catalogue@3"] == 0).all()
    assert (table.loc[table.rule != "grassroots", "first_platform_year"] < 8.5).any()


def test_batched_summaries_equal_single_runs(setup: tuple) -> None:
    from sim import run
    from sim.calibrate.smc import Job, Simulator
    from sim.calibrate.statistics import run_data
    from sim.core.engine import Engine

    calib, _ = setup
    sim = Simulator(calib)
    jobs = [Job(r, {"collaboration.innovation_rate": 0.05, "drive.contractor_capacity": 60.0},
                s) for s in (1, 2) for r in RULES]  # fmt: skip
    batched = sim.summaries(jobs)
    for job, got in zip(jobs, batched, strict=True):
        result = run(sim.scenario(job.params), rule=job.rule, seed=job.seed)
        engine = Engine(sim.scenario(job.params), rule=job.rule, seed=job.seed).run()
        alone = calib.targets.summarize(result.timeseries, result.outcomes, run_data(engine))
        assert got == alone


def test_reference_rows_depend_only_on_seed_and_index(setup: tuple) -> None:
    calib, table = setup
    small = reference.draw(calib, 12, seed=0)
    assert small.rules == list(table.rule[:12])
    assert np.array_equal(small.seeds, table.seed[:12].to_numpy())
    head, _ = reference.build(calib, 6, seed=0)
    pd.testing.assert_frame_equal(head, table.iloc[:6].reset_index(drop=True))


# ---- the forests ------------------------------------------------------------------------


def test_synthetic_recovery_per_rule(setup: tuple) -> None:
    """Truths drawn from the priors (not in the table) of each rule: the forest names
    their rule. 4 per rule; the rules differ structurally (above), so every truth must be
    recovered; the out-of-bag accuracy over the table must exceed 0.9."""
    calib, table = setup
    forest = ChoiceForest(table, calib.targets.keys, RULES, trees=60, seed=0)
    assert forest.accuracy > 0.9
    truths, _ = reference.build(calib, 12, seed=7, key=reference.TRUTH_KEY)
    chosen = forest.choose_many(truths[calib.targets.keys].to_numpy(float))
    for rule in RULES:
        mine = [c for c, r in zip(chosen, truths.rule, strict=True) if r == rule]
        assert len(mine) == 4 and all(c.selected == rule for c in mine), rule
        assert all(c.probability > 0.5 for c in mine)


def test_shuffled_statistics_fall_to_chance(setup: tuple) -> None:
    """Statistics shuffled between runs carry no information about the rule: out-of-bag
    accuracy falls to chance (1/3; with 240 runs its sd is 0.03, so 0.5 is > 5 sd away)
    and the statistics' importances no longer single out the source shares."""
    calib, table = setup
    keys = calib.targets.keys
    shuffled = table.copy()
    perm = np.random.default_rng(0).permutation(len(table))
    shuffled[keys] = table[keys].to_numpy()[perm]
    forest = ChoiceForest(shuffled, keys, RULES, trees=60, seed=0)
    assert forest.accuracy < 0.5
    real = ChoiceForest(table, keys, RULES, trees=60, seed=0)
    assert real.accuracy - forest.accuracy > 0.4


def test_parameter_posteriors_cover_the_truth(setup: tuple) -> None:
    """Quantile regression forest weights sum to 1 and the posterior CDF at the truth is a
    probability; under the contractor rule the capacity (what sets its speed) is
    identified: its 90% interval is narrower than the prior's."""
    calib, table = setup
    forests = param_forests(table, calib.targets.keys, ["contractor"],
                            ["drive.contractor_capacity"], trees=60, seed=0)  # fmt: skip
    f = forests["contractor", "drive.contractor_capacity"]
    rows = table[table.rule == "contractor"].iloc[:5]
    x = rows[calib.targets.keys].to_numpy(float)
    assert np.allclose(f.weights(x).sum(axis=1), 1.0)
    s = f.summary(x[:1])[0]
    assert s["q95"] - s["q05"] < 0.8 * (200 - 20)
    cdf = f.cdf(x, rows["drive.contractor_capacity"].to_numpy())
    assert ((cdf >= 0) & (cdf <= 1)).all()


# ---- the verdict ------------------------------------------------------------------------


def _confusion(off: int) -> pd.DataFrame:
    m = pd.DataFrame(np.diag([100, 100, 100]), index=RULES, columns=RULES)
    m.loc["contractor", "hybrid"] += off
    m.loc["contractor", "contractor"] -= off
    return m


def test_verdict() -> None:
    sure = Answer("contractor", {"grassroots": 0.02, "contractor": 0.95, "hybrid": 0.03})
    assert verdict(sure, confusion=_confusion(0)).decided
    weak = Answer("hybrid", {"grassroots": 0.05, "contractor": 0.4, "hybrid": 0.55})
    v = verdict(weak)
    assert not v.decided and v.rules == ["hybrid", "contractor"]
    assert "undecided between hybrid and contractor" in v.sentence()
    other = Answer("hybrid", {"grassroots": 0.02, "contractor": 0.1, "hybrid": 0.88})
    v = verdict(sure, alternatives=[other])
    assert not v.decided and set(v.rules) == {"contractor", "hybrid"}
    v = verdict(sure, confusion=_confusion(50))  # 50 of 200 runs confused: 25% > 20%
    assert not v.decided and v.rules == ["contractor", "hybrid"]
    assert not verdict(sure, settled=False).decided


# ---- the command ------------------------------------------------------------------------


def test_cli_rf_with_check(tmp_path: Path) -> None:
    path = write(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["calibrate", str(path), "--out", str(out), "--check", "2", "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    check = pd.read_csv(out / "check.csv")
    assert len(check) == 6 and set(check.rule) == set(RULES)
    assert {"selected", "probability", "verdict", "correct",
            "drive.contractor_capacity:in90"} <= set(check.columns)  # fmt: skip
    text = (out / "report.md").read_text()
    assert "## Check" in text and "Verdict:" in text and "confusion matrix" in text
    choice = pd.read_csv(out / "model_choice.csv")
    assert choice.probability.sum() == pytest.approx(1.0) and choice.selected.sum() == 1
    assert json.loads((out / "calibration.json").read_text())["status"] == "complete"


@pytest.mark.parametrize(
    ("abc", "targets", "key", "words"),
    [
        ('method = "forest"', TARGETS, "abc.method", "rf"),
        ("population = 5", TARGETS, "abc.population", "greater"),
        ("", "statistic,year,value\nfirst_rich_share,3,0.4\n", "data row 1, year", "empty"),
        ("", "statistic,year,value\nshare_own,,0.4\n", "data row 1, year", "required"),
        ("", "statistic,year,value\nshare_owned,2,0.4\n", "statistic", "share_own"),
    ],
)
def test_bad_input_exit_2_nothing_written(
    tmp_path: Path, abc: str, targets: str, key: str, words: str
) -> None:
    path = write(tmp_path, abc=abc, targets=targets)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = runner.invoke(app, ["calibrate", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert key in text and words in text, text
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    with pytest.raises(BadInput):
        load_calibration(path)


def test_check_table_in_file_and_negative_check_refused(tmp_path: Path) -> None:
    path = write(tmp_path, check="[check]\ntruths = -1")
    with pytest.raises(BadInput, match=r"check\.truths"):
        load_calibration(path)
    path = write(tmp_path)
    result = runner.invoke(app, ["calibrate", str(path), "--out", str(tmp_path / "o"),
                                 "--check", "-1"])  # fmt: skip
    assert result.exit_code == 2 and not (tmp_path / "o").exists()


def test_smc_check_and_verdict(tmp_path: Path) -> None:
    """ABC-SMC keeps working with the derived statistics: one calibration per truth for the
    check, a verdict line in the report, the fixed-scale distance for several rules."""
    from sim.calibrate.smc import FixedScaleDistance, distance

    path = write(tmp_path, abc='method = "smc"\npopulation = 20\ngenerations = 1\npredictive = 0')
    calib = load_calibration(path)
    assert isinstance(distance(calib), FixedScaleDistance)
    one = calib.__class__(**{**calib.__dict__, "rules": ["grassroots"]})
    assert not isinstance(distance(one), FixedScaleDistance)
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["calibrate", str(path), "--out", str(out), "--check", "1", "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    check = pd.read_csv(out / "check.csv")
    assert sorted(check.rule) == sorted(RULES)
    text = (out / "report.md").read_text()
    assert "Verdict:" in text and "## Check" in text and "a full ABC-SMC calibration" in text


def test_docs_numbers_come_from_the_script() -> None:
    """docs/calibration.md and README.md hold what docs/make_calibration.py writes from
    benchmarks/choice-recovery-results.json and the statistics' registry."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_calibration", ROOT / "docs" / "make_calibration.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    assert module.main(["--check"]) == 0
    text = (ROOT / "docs" / "calibration.md").read_text()
    for name in DERIVED:
        assert f"`{name}`" in text


def test_report_says_undecided_when_statistics_cannot_separate(tmp_path: Path) -> None:
    """With one coverage value, grassroots and hybrid (the same local dynamics until the
    platform deploys) are confused in the out-of-bag matrix: no winner is named."""
    path = write(tmp_path, targets="statistic,year,value\ncoverage,1,0.1\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["calibrate", str(path), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    text = (out / "report.md").read_text()
    assert "Verdict: **undecided between" in text, text


def test_reference_table_is_the_same_on_an_executor(setup: tuple) -> None:
    """Chunks run on an executor (threads here: the interface of local processes and Dask)
    give the same table, in the same order."""
    from concurrent.futures import ThreadPoolExecutor

    calib, table = setup
    with ThreadPoolExecutor(max_workers=1) as pool:
        rows = reference.draw(calib, 300, seed=0)
        got = reference.simulate(calib, rows, executor=pool)
    pd.testing.assert_frame_equal(got.iloc[:240], table)


def test_data_outside_the_table_are_named(setup: tuple) -> None:
    """An observed value beyond every run of the table is named in the report: forests do
    not extrapolate."""
    import dataclasses

    from sim.calibrate.amortised import outside_table

    calib, table = setup

    def with_values(values: dict[str, float]):
        items = tuple(dataclasses.replace(t, value=values[t.key]) for t in calib.targets)
        return dataclasses.replace(calib, targets=dataclasses.replace(calib.targets, items=items))

    median = {k: float(table[k].median()) for k in calib.targets.keys}
    assert outside_table(with_values(median), table) == []
    assert outside_table(with_values({**median, "coverage@5": 2.0}), table) == ["coverage@5"]
