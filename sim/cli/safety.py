"""What stands between the commands and the operating system: output streams that cannot
fail on a character, SIGTERM handled like Ctrl-C, and errors of the machine (a full disk, a
read-only file system, a path too long, a file-size limit, an unwritable stdout) told in
one line with exit status 2 instead of a traceback.

Why here and not in each command: these errors can happen in any write of any command, and
every command already cleans up on an exception (temporary folders are removed, finished
work is kept, :mod:`sim.outputs`), so one handler around the whole command line suffices.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

DISK_FULL = ("database or disk is full", "disk i/o error")
"""SQLite's words (through pyabc and SQLAlchemy) for a full disk: not an OSError."""


def safe_streams() -> None:
    """stdout and stderr replace what their encoding cannot show (``PYTHONIOENCODING=ascii``,
    a C locale): a ``·`` in a title must not end a run that has finished."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="replace")


def terminate_as_interrupt() -> None:
    """SIGTERM (``kill``, a batch system's time limit) raises KeyboardInterrupt, so that it
    cleans up and keeps finished work as Ctrl-C does; a second Ctrl-C or SIGTERM, while that
    clean-up runs, exits at once (:func:`exit_now`). Only in the main thread."""
    state = {"interrupted": False}

    def handler(signum: int, frame: Any) -> None:
        if state["interrupted"]:
            exit_now()
        state["interrupted"] = True
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)


def exit_now(status: int = 130) -> None:
    """Exit without waiting for anything: lock files removed, worker processes ended."""
    import multiprocessing

    from ..lock import release_all

    release_all()
    for child in multiprocessing.active_children():
        with contextlib.suppress(OSError, ValueError, AttributeError):
            child.kill()
    _error("interrupted again: stopped at once (finished work is kept; --resume continues)")
    os._exit(status)


def check_listen(host: str, port: int) -> None:
    """Raise :class:`~sim.errors.BadInput` unless a server can listen on ``host:port``: an
    unknown host or a port in use is a message before anything starts (the server printed
    the address to open, then failed)."""
    import socket

    from ..errors import BadInput

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        raise BadInput.one("--host", host, f"not an address to listen on: {why}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise BadInput.one(
                    "--port", str(port), "in use by another program: choose another --port, "
                    "or --port 0 for any free one"
                ) from None  # fmt: skip
            raise BadInput.one("--host", host, f"cannot listen here: {exc.strerror}") from None


def describe_environment_error(exc: BaseException) -> str | None:
    """One line for an error of the machine rather than of the program, or None."""
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else ""
        if exc.filename2 is not None:
            where = f"{where} -> {exc.filename2}"
        name = errno.errorcode.get(exc.errno or 0, "")
        what = exc.strerror or str(exc)
        hint = {
            errno.ENOSPC: "free some space or choose another --out",
            errno.EROFS: "the file system is read-only; choose another --out",
            errno.ENAMETOOLONG: "shorten the path or a name in it",
            errno.EFBIG: "a file-size limit (ulimit -f) was reached",
            errno.EACCES: "no permission; choose another --out",
            errno.EDQUOT: "the disk quota is used up",
        }.get(exc.errno or -1)
        text = f"{where}: {what}" if where else what
        return f"{text} ({name}{'; ' + hint if hint else ''})" if name else text
    message = str(exc).lower()
    if any(words in message for words in DISK_FULL):
        return "the disk is full (SQLite: database or disk is full); free some space"
    return None


def _aborts() -> tuple[type[BaseException], ...]:
    """The "aborted" exceptions a command line can raise on Ctrl-C: typer's (click's own
    before typer 0.16; typer has no click since) and, when click is loaded, click's (the
    browser app's server, ``sim viz``, runs on solara's click command line)."""
    import typer

    click = sys.modules.get("click")
    return (typer.Abort,) + ((click.exceptions.Abort,) if click is not None else ())


def guarded(run: Callable[[], Any]) -> None:
    """Run the command line; errors of the machine become one line and exit status 2."""
    try:
        run()
    except SystemExit as stop:
        _flush_or_fail()
        raise stop
    except KeyboardInterrupt:  # Ctrl-C outside a command's own care
        _error("interrupted")
        raise SystemExit(130) from None
    except Exception as exc:
        if isinstance(exc, _aborts()):  # the same, seen by a command line first
            _error("interrupted")
            raise SystemExit(130) from None
        line = describe_environment_error(exc)
        if line is None:
            raise
        if isinstance(exc, OSError) and _from_printing(exc):
            line = f"cannot write to the standard output: {exc.strerror or exc}"
        _flush_or_fail()  # the error may have been stdout's own: then say that
        _error(line)
        raise SystemExit(2) from None
    _flush_or_fail()


def _from_printing(exc: BaseException) -> bool:
    """Whether the error rose from printing (Rich's console writes stdout and stderr)."""
    import traceback

    return any(
        frame.f_code.co_filename.replace("\\", "/").endswith("rich/console.py")
        for frame, _ in traceback.walk_tb(exc.__traceback__)
    )


def _flush_or_fail() -> None:
    """stdout full (``> /dev/full``) or closed: say so on stderr; exit 2, not a traceback
    at interpreter exit."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        with contextlib.suppress(OSError):  # never flush the broken stream again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        _error(f"cannot write to the standard output: {exc.strerror or exc}")
        raise SystemExit(2) from None


def _error(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"error: {line}\n")
        sys.stderr.flush()
