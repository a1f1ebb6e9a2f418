"""Chinese and English county names: in the page's tooltips and in ``map.png``, drawn in a
font that has the glyphs (issue 23).

The font test renders the real Zhejiang's ``map.png`` and fails on matplotlib's "Glyph ...
missing from font(s)" warning, which is what a figure with Chinese names in DejaVu Sans
alone gives (empty boxes instead of 上城区). It needs a CJK font on the machine
(``.ci/run`` installs Debian's ``fonts-wqy-microhei``); without one it is skipped, saying so.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import sim
from sim.interactive import fonts

ROOT = Path(__file__).resolve().parents[1]
ZHEJIANG = ROOT / "scenarios" / "zhejiang.toml"


def test_tooltips_name_counties_in_chinese_and_english() -> None:
    from sim.interactive import live, viz

    model = sim.DiffusionModel(sim.load_scenario(ZHEJIANG, {"time.years": 1}), seed=1)
    layout = live.layout(
        {"grassroots": model}, viz.positions(model.engine.world), shapes=live.shapes_for(model)
    )
    table = model.engine.agents()
    assert layout["names"][0] == f"{table['name_zh'][0]} {table['name'][0]}"
    assert all(any("\u4e00" <= c <= "\u9fff" for c in name) for name in layout["names"])


def test_map_png_draws_chinese_names_without_missing_glyphs(tmp_path: Path) -> None:
    if fonts.cjk_font() is None:
        pytest.skip("no CJK font on this machine: apt-get install fonts-wqy-microhei")
    from sim.interactive.maps import run_map

    scenario = sim.load_scenario(ZHEJIANG, {"time.years": 1})
    result = sim.run(scenario, seed=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_map(result, scenario, tmp_path / "map.png")
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not missing, missing[:3]
    # and the names are there: the same map without them differs
    assert fonts.label("上城区", "Shangcheng District") == "上城区 Shangcheng District"
    with_names = np.asarray(Image.open(tmp_path / "map.png").convert("L"), dtype=float)
    import sim.interactive.maps as maps

    keep = maps.draw_names
    try:
        maps.draw_names = lambda ax, agents, **kw: None
        run_map(result, scenario, tmp_path / "bare.png")
    finally:
        maps.draw_names = keep
    bare = np.asarray(Image.open(tmp_path / "bare.png").convert("L"), dtype=float)
    assert with_names.shape == bare.shape and np.abs(with_names - bare).sum() > 0


def test_without_a_cjk_font_labels_are_english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    assert fonts.label("义乌市", "Yiwu City") == "Yiwu City"
    assert fonts.families() == ["DejaVu Sans"]
