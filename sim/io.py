"""Writing results: atomic files and strict JSON.

Every file is written to a temporary name in the destination folder and moved into place
with ``os.replace``, so a reader never sees a half-written file and an interrupted write
leaves the previous version intact.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` for a temporary path beside ``path``, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str) -> None:
    # surrogateescape: a path decoded from an ASCII file-system encoding is written back
    # as the bytes it was (a non-ASCII folder name under LC_ALL=C)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8", errors="surrogateescape"))


def write_json(path: Path, data: Any) -> None:
    """Strict JSON (no NaN or Infinity tokens): non-finite floats become null."""
    write_text(
        path, json.dumps(_finite(data), indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    )


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict; a missing, unreadable or malformed file is a :class:`BadInput`
    naming it (experiment and calibration files share this)."""
    import tomllib

    from .errors import BadInput

    where = str(path)
    if not path.is_file():
        raise BadInput.one(where, "", "file not found")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BadInput.one(where, "", f"not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput.one(where, "", f"cannot read: {exc}") from None
