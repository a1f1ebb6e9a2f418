"""The docs quote the sign atlas exactly (issue 19): docs/atlas.md and the atlas block of
docs/stylized-facts.md are what docs/make_atlas.py renders from the committed CSVs under
docs/atlas/, the CSVs agree with each other, and the ODD's counts match the code."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _make_atlas():
    spec = importlib.util.spec_from_file_location("make_atlas", DOCS / "make_atlas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_atlas_page_is_rendered_from_the_committed_csvs() -> None:
    assert (DOCS / "atlas.md").read_text(encoding="utf-8") == _make_atlas().render_page()


def test_stylized_facts_block_is_rendered_from_the_committed_csvs() -> None:
    m = _make_atlas()
    text = (DOCS / "stylized-facts.md").read_text(encoding="utf-8")
    block = text[text.index(m.BEGIN) : text.index(m.END) + len(m.END)]
    assert block == m.render_block()


def test_readme_table_is_rendered_from_the_committed_csvs() -> None:
    m = _make_atlas()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text[text.index(m.BEGIN) : text.index(m.END) + len(m.END)] == m.render_table()
    n = int(pd.read_csv(DOCS / "atlas" / "zhejiang" / "signs.csv").n_points.iloc[0])
    assert f"{n} points × 4 paired replicates" in text  # the design the README names


@pytest.mark.parametrize("province", ["zhejiang", "guangdong"])
def test_facts_agree_with_signs_and_rules(province: str) -> None:
    folder = DOCS / "atlas" / province
    signs = pd.read_csv(folder / "signs.csv")
    facts = pd.read_csv(folder / "facts.csv", keep_default_na=False)
    rules = pd.read_csv(folder / "rules.csv", keep_default_na=False)
    assert np.allclose(signs[["positive", "negative", "unclear"]].sum(axis=1), 1.0)
    for s, f in zip(signs.itertuples(), facts.itertuples(), strict=True):
        assert (s.outcome, s.contrast) == (f.outcome, f.contrast)
        assert f.holds_share == pytest.approx(max(s.positive, s.negative))
        assert f.reverses_share == pytest.approx(min(s.positive, s.negative))
        assert f.unclear_share == pytest.approx(s.unclear) and f.n_points == s.n_points
        leaves = rules[rules.outcome == s.outcome]
        assert leaves.n_points.sum() == s.n_points  # the leaves partition the points
        other = "negative" if f.holds == "positive" else "positive"
        for condition in leaves[leaves.sign == other].condition:
            assert condition in f.reverses_when


@pytest.mark.parametrize("province", ["zhejiang", "guangdong"])
def test_families_sum_the_committed_importances(province: str) -> None:
    from sim.experiments.atlas import load_priors

    folder = DOCS / "atlas" / province
    imp = pd.read_csv(folder / "importance.csv")
    fam = pd.read_csv(folder / "families.csv", keep_default_na=False)
    priors = load_priors(ROOT / "scenarios" / "priors" / f"{province}.toml").parameters
    assert set(imp.parameter) == set(priors)  # the atlas covers the whole prior file
    family = {k: p.family or k.partition(".")[0] for k, p in priors.items()}
    assert {"diffusion", "drive", "traction", "collaboration", "support"} <= set(fam.family)
    for (outcome, name), group in imp.groupby(["outcome", imp.parameter.map(family)]):
        row = fam[(fam.outcome == outcome) & (fam.family == name)]
        assert row.importance.iloc[0] == pytest.approx(group.importance.clip(lower=0).sum())
        assert row.parameters.iloc[0] == len(group)
    shares = fam.groupby("outcome").share.sum()
    split = fam.groupby("outcome").importance.sum() > 0
    assert ((shares[split] - 1).abs() < 1e-9).all()  # shares of what decides the sign
    # a tree with no split (one sign nearly everywhere, the reversals scattered): no
    # parameter has importance, no family decides
    assert (shares[~split] == 0).all()


def test_odd_counts_match_the_code() -> None:
    from sim.outcomes import OUTCOMES
    from sim.world import STREAMS

    words = {6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten", 11: "eleven"}
    odd = (DOCS / "ODD.md").read_text(encoding="utf-8")
    counts = {int(n) for n in re.findall(r"(\d+) scalar outcomes", odd)}
    assert counts == {len(OUTCOMES)}
    assert f"spawns {words[len(STREAMS)]}" in " ".join(odd.split())
    assert f"the {words[len(STREAMS)]} streams of" in odd
