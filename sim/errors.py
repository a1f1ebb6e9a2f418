"""Bad input: one exception type, carrying every problem found, each naming file and key.

The CLI prints :class:`BadInput` as plain lines and exits with status 2; nothing in the
package prints tracebacks for problems that are the user's to fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input: where (file, dotted key) and what."""

    source: str
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.key}" if self.key else self.source
        return f"{where}: {self.message}"


class BadInput(Exception):
    """Input the user must fix (scenario or data files, CLI arguments). Exit status 2."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, source: str, key: str, message: str) -> BadInput:
        return cls([Problem(source, key, message)])


def near(word: str, valid: Iterable[str]) -> str:
    """' (did you mean "x"?)' when a close match exists, else ''."""
    close = difflib.get_close_matches(word, sorted(valid), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def did_you_mean(word: str, valid: Iterable[str]) -> str:
    """' (did you mean "x"?)' when a close match exists, plus the list of valid names."""
    valid = sorted(valid)
    return f"{near(word, valid)}; valid keys: {', '.join(valid)}"
