"""docs/teaching.md says what the page shows: its numbers are regenerated and compared.

``docs/make_teaching.py`` drives a :class:`sim.interactive.app.Session` on the shipped
teaching scenario as a teacher drives the page and reads the numbers from the frames the
browser receives. This test re-runs those computations and fails when any generated block of
the doc differs (a worksheet written from the doc would then be contradicted on the
projector). About 5 s after the kernels are compiled (twelve 96-step runs of 60 counties).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _make_teaching():
    spec = importlib.util.spec_from_file_location(
        "make_teaching", ROOT / "docs" / "make_teaching.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def make_teaching():
    pytest.importorskip("solara", reason="the viz extra is needed to drive the page's session")
    return _make_teaching()


def test_the_doc_quotes_what_the_page_shows(make_teaching) -> None:
    facts = make_teaching.facts()
    expected = make_teaching.blocks(facts)
    found = make_teaching.doc_blocks(make_teaching.DOC.read_text(encoding="utf-8"))
    assert set(found) == set(expected), "generated blocks missing from or extra in the doc"
    stale = [name for name in expected if found[name] != expected[name]]
    assert not stale, (
        f"docs/teaching.md differs from the page in {stale}; run python docs/make_teaching.py"
    )
    # the numbers the issue found wrong, now as the page shows them (seed 7): a sanity check
    # that the facts are read from the right runs, not just copied into the doc
    assert facts["base"]["duplicates"] > facts["vis9"]["duplicates"] > facts["vis1"]["duplicates"]
    assert facts["vis_0"]["duplicates"] > facts["base"]["duplicates"]
    assert facts["peer0"]["t50"] > facts["base"]["t50"] > facts["peer16"]["t50"]
    assert facts["bal8"]["coverage"] > facts["base"]["coverage"]
