"""The ``sim`` command line: ``run``, ``compare``, ``sweep``, ``merge``, ``analyze``,
``calibrate``, ``validate``, ``params``, ``viz``, ``animate``.

Exit status: 0 on success, 2 on bad input or usage (one message naming the file and key,
no traceback, nothing written), 130 when a sweep is interrupted (finished chunks are kept;
continue with ``--resume``; SIGTERM is taken as Ctrl-C). Errors of the machine (a full
disk, a read-only file system, a path too long) are one line with exit status 2.

The commands live in :mod:`~sim.cli.runs`, :mod:`~sim.cli.sweeps` and
:mod:`~sim.cli.teaching`; importing this package registers them on :data:`app`.
"""

from __future__ import annotations

from . import runs, sweeps, teaching  # noqa: F401  (register the commands)
from .common import app

__all__ = ["app", "main"]


def main() -> None:
    """The ``sim`` command: encoding-safe streams, SIGTERM as Ctrl-C, and errors of the
    machine as one line with exit status 2 (:mod:`sim.cli.safety`)."""
    from .safety import guarded, safe_streams, terminate_as_interrupt

    safe_streams()
    terminate_as_interrupt()
    guarded(app)


if __name__ == "__main__":
    main()
