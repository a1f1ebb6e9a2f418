"""Output folders that are either the old output or the complete new one, never a mix.

A command writes everything into a temporary folder beside its ``--out`` folder
(``.NAME.tmp-XXXX``) and, once every file is written, renames it into place; the previous
output, if any, is renamed away first and then deleted. So Ctrl-C, a crash or a failing
step leaves the old folder untouched (and removes the temporary one when it can), and a
reader never sees new CSVs beside old figures. The only window is between the two renames,
microseconds long; a crash exactly there leaves the old output as ``.NAME.old-XXXX``.

Folders are only replaced when they are empty or hold an earlier output of ``sim`` (its
``provenance.json``) *of the same kind*: ``--out`` naming a folder with other files in it
(``--out .``, ``--out ~/Documents``) is refused rather than emptied, and so is one holding
another kind of result (:func:`kind_of`: a sweep, a calibration, an atlas, a comparison, a
run) unless the command is told ``force=True`` (``--force``): ``sim run --out`` a finished
sweep would otherwise delete its runs. Scenario names become one path component
(:func:`safe_name`), so a name such as ``"../../x"`` or ``"/etc"`` never leads outside the
output root.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import BadInput

MARKER = "provenance.json"
"""Every output folder of ``sim`` holds this file; a folder with it may be replaced."""

KINDS: dict[str, tuple[str, ...]] = {
    "calibration": ("calibration.json", "abc.db"),
    "sweep": ("manifest.json", "runs.parquet", "shards"),
    "atlas": ("atlas.json",),
    "comparison": ("compare.csv",),
    "run": ("outcomes.json",),
}
"""The kinds of result a folder can hold, each recognised by any of these files (checked in
this order), when its ``provenance.json`` does not say (``"kind"``: written since issue 24).
"""

DESCRIBE = {
    "calibration": "a calibration (abc.db, posterior, report)",
    "sweep": "a sweep (runs.parquet, manifest.json, report)",
    "atlas": "an atlas",
    "comparison": "a comparison of rules (sim compare)",
    "run": "a single run (sim run)",
}


def kind_of(folder: Path) -> str | None:
    """What kind of result ``folder`` holds (a key of :data:`KINDS`), ``"other"`` for files
    that ``sim`` did not write, or None when it does not exist or is empty."""
    folder = Path(folder)
    try:
        entries = {p.name for p in folder.iterdir()}
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not entries:
        return None
    if MARKER in entries:
        try:
            said = json.loads((folder / MARKER).read_text(encoding="utf-8")).get("kind")
        except (OSError, ValueError, AttributeError):
            said = None
        if said in KINDS:
            return str(said)
    for kind, names in KINDS.items():
        if entries & set(names):
            return kind
    return "other" if MARKER not in entries else "output"


def check_kind(folder: Path, kind: str, *, key: str = "--out", force: bool = False) -> None:
    """Raise :class:`BadInput` when ``folder`` holds a result of another kind than ``kind``
    (unless ``force``): nothing a user made is replaced by a different command unasked."""
    found = kind_of(folder)
    if force or found in (None, kind, "output", "other"):
        return
    raise BadInput.one(
        str(folder),
        key,
        f"holds {DESCRIBE.get(found, found)}, not {DESCRIBE.get(kind, kind)}; choose another "
        f"{key}, or add --force to replace it: nothing was written",
    )


def safe_name(name: str) -> str:
    """``name`` as a single, harmless path component: letters (any script), digits, ``-``,
    ``_`` and ``.`` kept, anything else (separators, ``..`` at the start, spaces, control
    characters) replaced by ``-``; never empty, never hidden, at most 100 characters."""
    text = re.sub(r"[^\w.\-]+|\.{2,}", "-", name, flags=re.UNICODE)
    text = re.sub(r"-{2,}", "-", text).strip("-.")[:100].strip("-.")
    return text or "unnamed"


def check_out(
    folder: Path, key: str = "--out", *, kind: str | None = None, force: bool = False
) -> None:
    """Raise :class:`BadInput` unless ``folder`` can be an output folder: nothing yet, an
    empty folder or an earlier output of ``sim`` (of ``kind``, when given, unless
    ``force``), whose nearest existing ancestor is a writable folder."""
    where = str(folder)
    if folder.exists() and not folder.is_dir():
        raise BadInput.one(where, key, "is not a folder (a file or device); choose a folder")
    p = folder.parent
    while not p.exists() and p != p.parent:
        p = p.parent
    if not p.is_dir():
        raise BadInput.one(where, key, f"{p} is a file, so no folder can be made under it")
    try:  # the real test (permissions, read-only or pseudo file systems): make a folder there
        os.rmdir(tempfile.mkdtemp(prefix=".sim-probe-", dir=p))
    except OSError as exc:
        raise BadInput.one(where, key, f"cannot write in {p}: {exc.strerror or exc}") from None
    if not _replaceable(folder):
        raise BadInput.one(
            where,
            key,
            "is a folder with other files in it (no provenance.json of an earlier output); "
            "choose a new or empty folder: nothing was written",
        )
    if kind is not None:
        check_kind(folder, kind, key=key, force=force)


def check_file_out(path: Path, key: str = "--out") -> None:
    """Raise :class:`BadInput` unless a file can be written at ``path`` (it is written to a
    temporary name beside it and renamed into place, see :func:`sim.io.atomic_write`)."""
    if path.is_dir():
        raise BadInput.one(str(path), key, "is a folder; name the file to write")
    if path.exists() and not path.is_file():
        raise BadInput.one(str(path), key, "is not a regular file (a device?); name a file")
    p = path.parent
    while not p.exists() and p != p.parent:
        p = p.parent
    if not p.is_dir():
        raise BadInput.one(str(path), key, f"{p} is a file, so no folder can be made under it")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".sim-probe-", dir=p))
    except OSError as exc:
        raise BadInput.one(str(path), key, f"cannot write in {p}: {exc.strerror or exc}") from None


def _replaceable(folder: Path) -> bool:
    if not folder.exists():
        return True
    entries = list(folder.iterdir())
    return not entries or (folder / MARKER).is_file()


@contextlib.contextmanager
def staged(
    folder: Path, key: str = "--out", *, kind: str | None = None, force: bool = False
) -> Iterator[Path]:
    """Yield a temporary folder beside ``folder``; on success it replaces ``folder``.

    Raises :class:`BadInput` before anything is written if ``folder`` cannot be written,
    holds files that ``sim`` did not write, or (``kind`` given, no ``force``) holds another
    kind of result."""
    folder = Path(folder)
    check_out(folder, key, kind=kind, force=force)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    except OSError as exc:
        raise BadInput.one(str(folder), key, f"cannot create the output folder: {exc}") from None
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        replace_folder(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def replace_folder(new: Path, folder: Path) -> None:
    """Move ``new`` to ``folder``, replacing (then deleting) what was there."""
    old = None
    if folder.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
        os.rmdir(old)
        os.rename(folder, old)
    try:
        os.rename(new, folder)
    except BaseException:
        if old is not None:  # put the old output back
            os.rename(old, folder)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
