"""The ``sim`` command line: ``run``, ``compare``, ``sweep``, ``merge``, ``analyze``,
``calibrate``, ``validate``, ``params``, ``viz``, ``animate``, ``atlas``.

Exit status: 0 on success, 2 on bad input or usage (one message naming the file and key,
no traceback, nothing written), 130 when a sweep is interrupted (finished chunks are kept;
continue with ``--resume``).

The commands live in :mod:`~sim.cli.runs`, :mod:`~sim.cli.sweeps` and
:mod:`~sim.cli.teaching`; importing this package registers them on :data:`app`.
"""

from __future__ import annotations

from . import atlas, runs, sweeps, teaching  # noqa: F401  (register the commands)
from .common import app

__all__ = ["app", "main"]


def main() -> None:
    app()


if __name__ == "__main__":
    main()
