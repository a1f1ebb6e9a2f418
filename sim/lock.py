"""A lock file that keeps two sweeps (or calibrations) out of one folder.

While a sweep (a merge, a calibration) writes into a folder it holds ``FOLDER/sweep.lock``:
a small JSON file naming the host, the process id, the process's start time and the command. It is
created with ``O_CREAT | O_EXCL``, so of two commands starting at once exactly one gets it.
A second command on the folder — including ``--force`` and ``--resume`` — is refused with a
message naming the holder.

A lock is *stale* when its holder is gone: same host, and no process with that id started
at that time (process ids are reused, start times are not). A stale lock is replaced
silently. A lock from another host (a shared file system) cannot be checked from here; the
message says how to remove it once that sweep is known to be dead.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from .errors import BadInput

LOCK = "sweep.lock"
HELD: set[Path] = set()
"""Lock files this process holds, for :func:`release_all` (a second Ctrl-C exits at once)."""
UNREADABLE_GRACE = 10.0
"""Seconds during which an unreadable lock is taken as being written (after that: stale)."""


def _started(pid: int) -> float | None:
    """Start time of process ``pid`` on this host, or None if there is no such process."""
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:  # it exists, owned by someone else
        return -1.0


def describe(holder: dict[str, Any]) -> str:
    since = holder.get("since")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)) if since else "?"
    return (
        f"host {holder.get('host', '?')}, process {holder.get('pid', '?')}, since {when}: "
        f"{holder.get('command', '?')}"
    )


class FolderLock:
    """``with FolderLock(folder):`` — hold ``folder/sweep.lock`` (the folder is created if
    needed, and removed again on release if the lock was all that was in it)."""

    def __init__(self, folder: str | Path, *, key: str = "--out", what: str = "sweep") -> None:
        self.folder = Path(folder)
        self.what = what
        self.path = self.folder / LOCK
        self.key = key
        self._created: list[Path] = []
        self._held = False

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def acquire(self) -> None:
        if self.folder.exists() and not self.folder.is_dir():
            raise BadInput.one(str(self.folder), self.key, "is not a folder (a file or device)")
        missing = [p for p in (self.folder, *self.folder.parents) if not p.exists()]
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BadInput.one(str(self.folder), self.key, f"cannot create: {exc}") from None
        self._created = missing  # removed again on release when still empty
        me = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": _started(os.getpid()),
            "since": time.time(),
            "command": " ".join(["sim", *sys.argv[1:]]) if sys.argv else "sim",
        }
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and not self._stale(holder):
                    raise BadInput.one(
                        str(self.folder),
                        self.key,
                        f"another {self.what} is writing into this folder ({describe(holder)}); "
                        "wait for it to finish or stop it. If it is no longer running, "
                        f"delete {self.path}",
                    ) from None
                self.path.unlink(missing_ok=True)  # stale: replace it
                continue
            except OSError as exc:
                raise BadInput.one(str(self.folder), self.key, f"cannot lock: {exc}") from None
            with os.fdopen(fd, "w") as fh:
                json.dump(me, fh)
            self._held = True
            HELD.add(self.path)
            return
        raise BadInput.one(str(self.folder), self.key, f"cannot take the lock {self.path}")

    def _holder(self) -> dict[str, Any] | None:
        """The lock's content; None when it is unreadable and old enough to be stale."""
        try:
            text = self.path.read_text()
            data = json.loads(text)
            if isinstance(data, dict):
                return data
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            pass
        try:
            age = time.time() - self.path.stat().st_mtime
        except OSError:
            return None
        return None if age > UNREADABLE_GRACE else {"host": "?", "command": "(being written)"}

    @staticmethod
    def _stale(holder: dict[str, Any]) -> bool:
        if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
            return False  # another host's process (or a lock being written): assume alive
        started = _started(holder["pid"])
        if started is None:
            return True
        recorded = holder.get("started")
        if started < 0 or recorded is None:
            return False
        return abs(started - float(recorded)) > 1.0  # the id now belongs to another process

    def release(self) -> None:
        if self._held:
            self.path.unlink(missing_ok=True)
            self._held = False
            HELD.discard(self.path)
        for folder in self._created:  # innermost first; only if empty: nothing was written
            try:
                folder.rmdir()
            except OSError:
                break
        self._created = []


def release_all() -> None:
    """Remove every lock file this process holds: the last thing before exiting at once
    (a second Ctrl-C), when the ``with`` blocks will not run their clean-up."""
    for path in list(HELD):
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        HELD.discard(path)
