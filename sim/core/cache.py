"""Keep Numba's on-disk kernel cache true to the sources.

Numba invalidates a cached kernel only when the kernel's *own* source file changes. The
engine's entry point (:func:`sim.core.step.advance`) compiles in every mechanism from other
files, so after an edit of, say, ``mechanisms/local.py`` (or a ``git pull`` that touches
only that file) a stale ``advance`` would load silently and run the old model. To prevent
that, :func:`check` hashes every source file of :mod:`sim.core` and, when the hash differs
from the one stamped in the cache folder, deletes the cached kernels before any is loaded.
Installed copies (wheels) rewrite every file and so invalidate every kernel anyway.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

CORE = Path(__file__).resolve().parent
STAMP = CORE / "__pycache__" / "kernels.sha256"


def sources_digest() -> str:
    """SHA-256 of every Python source of the core, in a fixed order."""
    h = hashlib.sha256()
    for path in sorted(CORE.rglob("*.py")):
        h.update(str(path.relative_to(CORE)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def check() -> None:
    """Delete the cached kernels if any core source changed since they were stamped (a
    read-only installation is left alone: Numba then caches elsewhere, per file)."""
    try:
        digest = sources_digest()
        if STAMP.is_file() and STAMP.read_text() == digest:
            return
        for pattern in ("*.nbi", "*.nbc"):
            for cached in CORE.rglob(f"__pycache__/{pattern}"):
                cached.unlink(missing_ok=True)
        STAMP.parent.mkdir(exist_ok=True)
        STAMP.write_text(digest)
    except OSError:  # read-only or racing installs: nothing to keep in step here
        return


def _writable(folder: Path) -> bool:
    """Whether a file can be made in ``folder`` (created if missing): Numba's own test."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
        return True
    except OSError:
        return False


def cache_folders() -> list[Path]:
    """Where Numba would keep the kernels, in its order: ``NUMBA_CACHE_DIR`` when set, the
    package's own ``__pycache__``, the user's cache folder."""
    folders = [Path(os.environ["NUMBA_CACHE_DIR"])] if os.environ.get("NUMBA_CACHE_DIR") else []
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return [*folders, CORE / "__pycache__", Path(home) / "numba"]


def fall_back(writable: Callable[[Path], bool] = _writable) -> str | None:
    """When no folder of :func:`cache_folders` can be written (a read-only installation and
    home), Numba would stop with ``cannot cache function``: point it at a new temporary
    folder instead, so the kernels compile for this process only. Returns the one line
    that says so (None when a cache folder is writable)."""
    tried = cache_folders()
    if any(writable(folder) for folder in tried):
        return None
    folder = tempfile.mkdtemp(prefix="sim-kernels-")
    os.environ["NUMBA_CACHE_DIR"] = folder
    config = sys.modules.get("numba.core.config")
    if config is not None:  # numba already imported: it read the variable then
        config.CACHE_DIR = folder  # type: ignore[attr-defined]
    return (
        f"sim: no kernel cache can be written ({', '.join(map(str, tried))}); the compiled "
        f"model is kept in {folder} for this process only"
    )
