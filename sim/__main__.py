"""``python -m sim``: the same as the ``sim`` command.

Guarded: ``python -m mpi4py.futures -m sim ...`` imports this module on the worker ranks
too (as ``__worker__``), where it must not start the command line.
"""

from .cli import main

if __name__ == "__main__":
    main()
