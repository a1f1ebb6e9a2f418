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
