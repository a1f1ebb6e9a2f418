"""``python -m sim``: the same as the ``sim`` command."""

from .cli import main

main()
