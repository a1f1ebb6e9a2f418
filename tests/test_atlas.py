"""The sign atlas (issue 19): point signs from paired intervals, Wilson shares, importance
and rules that find a known boundary, the files of ``sim atlas``, --resume, bad input, and
the sanity check that on the teaching scenario the contractor's capacity decides which rule
is faster."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.analysis.atlas import (
    IMPORTANCE_COLUMNS,
    RULES_COLUMNS,
    SIGNS_COLUMNS,
    importance,
    point_signs,
    tree_rules,
    wilson,
)
from sim.analysis.atlas_report import FAMILY_COLUMNS, family_lines, family_table
from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "scenarios" / "teaching.toml"
PRIORS = ROOT / "scenarios" / "priors"
runner = CliRunner()


class _Stub:
    """Just what point_signs reads of a Sweep: the paired differences of a contrast."""

    def __init__(self, d: np.ndarray) -> None:
        self.d = d

    def runs(self, outcome: str, target: str) -> np.ndarray:
        return self.d


def test_point_sign_is_the_paired_interval_against_zero() -> None:
    d = np.array(
        [
            [1.0, 1.1, 0.9],  # interval well above 0
            [1.0, -1.0, 0.5],  # straddles 0
            [-2.0, -2.0, -2.0],  # no noise: the sign of the mean
            [0.0, 0.0, 0.0],  # exactly zero: unclear
            [1.0, np.nan, 1.0],  # undefined
            [0.5, 0.1, 0.3],  # mean 0.3, sd 0.2: t(2) half-width 0.497 > 0.3 -> unclear
        ]
    )
    assert point_signs(_Stub(d), "y", "a - b").tolist() == [1, 0, -1, 0, -2, 0]
    # at a lower level the last interval (half-width 0.2 x 1.886 / sqrt(3) = 0.218 at 80%)
    # excludes 0
    assert point_signs(_Stub(d), "y", "a - b", level=0.8).tolist()[5] == 1


def test_wilson_interval_matches_the_textbook_values() -> None:
    lo, hi = wilson(0, 10)
    assert lo == 0 and hi == pytest.approx(0.2775, abs=1e-4)  # 95%, z = 1.96
    lo, hi = wilson(5, 10)
    assert (lo, hi) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))


def test_importance_and_tree_find_a_known_boundary() -> None:
    rng = np.random.default_rng(3)
    X = rng.random((200, 3))
    y = np.where(X[:, 1] > 0.3, 1, -1)  # only the second parameter decides the sign
    mean, _ = importance(X, y, seed=1)
    assert np.argmax(mean) == 1 and mean[1] > 0.3 and abs(mean[0]) < 0.05
    bounds = [(0.0, 1.0), (10.0, 20.0), (0.0, 1.0)]  # thresholds in the parameter's units
    tree = tree_rules(X, y, ["a", "b", "c"], bounds=bounds, max_depth=2, seed=1)
    assert tree.accuracy > 0.95 and tree.baseline == pytest.approx((y == 1).mean())
    assert len(tree.leaves) == 2  # sibling leaves of one sign are merged into one rule
    rules = {leaf.sign: leaf.condition for leaf in tree.leaves}
    cut = float(rules["negative"].split("<=")[1])
    assert rules["negative"].startswith("b <=") and 12.8 < cut < 13.2
    one = tree_rules(X, np.ones(200, int), ["a", "b", "c"], bounds=bounds, max_depth=2, seed=1)
    assert [(leaf.sign, leaf.condition) for leaf in one.leaves] == [("positive", "")]


def test_family_table_sums_clipped_importance_by_family() -> None:
    imp = pd.DataFrame(
        [
            ("a - b", "y", "drive.build_rate", 0.30, 0.0, 1),
            ("a - b", "y", "drive.crowding_out", 0.10, 0.0, 2),
            ("a - b", "y", "diffusion.pilot_count", -0.05, 0.0, 4),  # noise: counts 0
            ("a - b", "y", "services.quality_sd", 0.00, 0.0, 3),
            ("a - b", "z", "drive.build_rate", 0.0, 0.0, 1),  # nothing decides z
            ("a - b", "z", "drive.crowding_out", 0.0, 0.0, 2),
            ("a - b", "z", "diffusion.pilot_count", 0.0, 0.0, 3),
            ("a - b", "z", "services.quality_sd", 0.0, 0.0, 4),
        ],
        columns=list(IMPORTANCE_COLUMNS),
    )
    # services.quality_sd labelled collaboration by the prior; the others by their table
    fam = family_table(imp, {"services.quality_sd": "collaboration"})
    assert list(fam.columns) == list(FAMILY_COLUMNS)
    y = fam[fam.outcome == "y"].set_index("family")
    assert list(y.index) == ["drive", "diffusion", "collaboration"]
    assert y.importance.tolist() == pytest.approx([0.4, 0.0, 0.0])
    assert y.share.tolist() == pytest.approx([1.0, 0.0, 0.0])
    assert y.parameters.tolist() == [2, 1, 1]
    assert y.top.tolist() == ["drive.build_rate", "", ""]
    assert (fam[fam.outcome == "z"].share == 0).all()
    lines = family_lines(fam, contrast="a - b")
    assert lines[0] == "| outcome | drive | diffusion | collaboration |"
    assert lines[2] == "| `y` | 100% | 0% | 0% |"


def _atlas_file(tmp: Path, **changes: str) -> Path:
    text = {
        "scenario": f'"{TEACHING}"',
        "priors": f'"{PRIORS / "teaching.toml"}"',
        "vary": '["drive.contractor_capacity", "collaboration.innovation_rate", '
        '"support.catalog_visibility", "traction.reuse_fit"]',
        "rules": '["grassroots", "contractor"]',
        "contrasts": '["grassroots - contractor"]',
        "outcomes": '["t50_years", "lagging_gap"]',
    } | changes
    design = changes.pop("design", 'method = "lhs"\nn = 32\nreplicates = 4\nseed = 5')
    lines = [f"{k} = {v}" for k, v in text.items() if k != "design"]
    path = tmp / "atlas.toml"
    path.write_text("\n".join(lines) + f"\n\n[design]\n{design}\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def teaching_atlas(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    # 32 LHS points x 4 replicates x 2 rules = 256 teaching runs (about 10 s after
    # compile). Capacity spans 20-320 deployments a year against 480 pairs, so the
    # contractor's t50 runs from ~1.5 to ~25 years; the other three parameters move the
    # grassroots t50 by well under a year: capacity must decide the sign by far.
    tmp = tmp_path_factory.mktemp("atlas")
    exp, out = _atlas_file(tmp), tmp / "out"
    r = runner.invoke(app, ["atlas", str(exp), "--out", str(out), "--workers", "1"])
    assert r.exit_code == 0, r.output
    return exp, out


def test_teaching_capacity_decides_which_rule_is_faster(teaching_atlas) -> None:
    _, out = teaching_atlas
    imp = pd.read_csv(out / "importance.csv")
    t50 = imp[imp.outcome == "t50_years"].sort_values("rank")
    assert t50.parameter.iloc[0] == "drive.contractor_capacity"
    assert t50.importance.iloc[0] > 2 * max(t50.importance.iloc[1], 0.01)
    rules = pd.read_csv(out / "rules.csv")
    assert "drive.contractor_capacity" in " ".join(rules[rules.outcome == "t50_years"].condition)


def test_atlas_files_and_columns(teaching_atlas) -> None:
    _, out = teaching_atlas
    signs = pd.read_csv(out / "signs.csv")
    assert list(signs.columns) == list(SIGNS_COLUMNS)
    assert list(pd.read_csv(out / "importance.csv").columns) == list(IMPORTANCE_COLUMNS)
    assert list(pd.read_csv(out / "rules.csv").columns) == list(RULES_COLUMNS)
    assert set(signs.outcome) == {"t50_years", "lagging_gap"} and (signs.n_points == 32).all()
    shares = signs[["positive", "negative", "unclear"]].sum(axis=1)
    assert np.allclose(shares, 1.0)
    for k in ("positive", "negative", "unclear"):
        assert (signs[f"{k}_low"] <= signs[k]).all() and (signs[k] <= signs[f"{k}_high"]).all()
    t50 = signs[signs.outcome == "t50_years"].iloc[0]
    assert t50.positive > 0 and t50.negative > 0  # both signs occur over 20-320 capacity
    assert (out / "maps" / "t50_years__grassroots_contractor.png").is_file()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "t50_years" in report and "drive.contractor_capacity" in report
    settings = json.loads((out / "atlas.json").read_text())
    assert set(settings["reasons"]) == set(settings["bounds"]) and len(settings["reasons"]) == 4
    assert settings["families"]["drive.contractor_capacity"] == "drive"  # from the key's table
    fam = pd.read_csv(out / "families.csv", keep_default_na=False)
    assert list(fam.columns) == list(FAMILY_COLUMNS)
    assert set(fam.family) == {"drive", "collaboration", "support", "traction"}
    imp = pd.read_csv(out / "importance.csv")
    t50 = fam[fam.outcome == "t50_years"].set_index("family")
    want = imp[(imp.outcome == "t50_years") & (imp.parameter == "drive.contractor_capacity")]
    assert t50.loc["drive", "importance"] == pytest.approx(max(want.importance.iloc[0], 0.0))
    assert t50.share.sum() == pytest.approx(1.0) and t50.share.idxmax() == "drive"
    assert "## Which families decide the sign" in report


def test_resume_runs_only_what_is_missing_and_gives_the_same_atlas(teaching_atlas, tmp_path):
    import shutil

    exp, out = teaching_atlas
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    parts = sorted((copy / "runs.parquet").iterdir())
    assert len(parts) >= 2
    parts[-1].unlink()  # as if interrupted before the last chunk finished
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["status"] = "running"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    again = runner.invoke(app, ["atlas", str(exp), "--out", str(copy), "--workers", "1"])
    assert again.exit_code == 2 and "--resume" in again.output
    r = runner.invoke(app, ["atlas", str(exp), "--out", str(copy), "--resume", "--workers", "1",
                            "--no-maps"])  # fmt: skip
    assert r.exit_code == 0, r.output
    for name in ("signs.csv", "importance.csv", "rules.csv", "facts.csv", "families.csv"):
        assert (copy / name).read_bytes() == (out / name).read_bytes(), name


@pytest.mark.parametrize(
    ("changes", "prior_text", "where", "key"),
    [
        ({"design": 'method = "morris"\nn = 4\nreplicates = 2'}, None, "atlas", "design.method"),
        ({"design": 'method = "lhs"\nn = 8\nreplicates = 1'}, None, "atlas", "design.replicates"),
        ({"contrasts": "[]"}, None, "atlas", "contrasts"),
        ({"vary": '["drive.capacity"]'}, None, "atlas", "vary"),
        ({}, '"drive.capacityy" = { low = 1, high = 2, reason = "x" }', "prior",
         "parameters.drive.capacityy"),
        ({}, '"support.catalog_visibility" = { low = 0.2, high = 1.5, reason = "x" }', "prior",
         "parameters.support.catalog_visibility"),
        ({}, '"support.promotion_rate" = { low = 0.2, high = 1.2 }', "prior",
         "parameters.support.promotion_rate.reason"),
        ({}, '"support.promotion_rate" = { low = 0.2, high = 1.2, reason = "x", '
         'family = "suport" }', "prior", "parameters.support.promotion_rate.family"),
    ],
)  # fmt: skip
def test_bad_input_names_file_and_key(tmp_path, changes, prior_text, where, key) -> None:
    if prior_text is not None:
        prior = tmp_path / "prior.toml"
        prior.write_text(f"[parameters]\n{prior_text}\n", encoding="utf-8")
        changes = {"priors": f'"{prior}"', "vary": "[]"} | changes
        changes.pop("vary")
        exp = _atlas_file(tmp_path, **changes)
        text = exp.read_text().replace("vary = ", "# vary = ")
        exp.write_text(text)
    else:
        exp = _atlas_file(tmp_path, **changes)
    out = tmp_path / "out"
    r = runner.invoke(app, ["atlas", str(exp), "--out", str(out)])
    assert r.exit_code == 2, r.output
    named = str(tmp_path / ("prior.toml" if where == "prior" else "atlas.toml"))
    assert f"{named}: {key}" in " ".join(r.output.split()), r.output
    assert "Traceback" not in r.output and not out.exists()
