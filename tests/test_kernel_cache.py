"""The kernel cache follows the sources: a stale kernel is never loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.core import cache


def test_changed_sources_drop_the_cached_kernels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = tmp_path / "core"
    (core / "mechanisms" / "__pycache__").mkdir(parents=True)
    (core / "step.py").write_text("x = 1\n")
    (core / "mechanisms" / "local.py").write_text("y = 1\n")
    kernel = core / "mechanisms" / "__pycache__" / "local.local_step-1.py311.nbi"
    monkeypatch.setattr(cache, "CORE", core)
    monkeypatch.setattr(cache, "STAMP", core / "__pycache__" / "kernels.sha256")
    cache.check()  # first stamp: nothing known about the kernels, so they go
    kernel.write_bytes(b"compiled")
    cache.check()  # same sources: the kernel stays
    assert kernel.exists()
    (core / "mechanisms" / "local.py").write_text("y = 2\n")  # an edit in another file
    cache.check()
    assert not kernel.exists()
    assert cache.STAMP.read_text() == cache.sources_digest()
