"""A problem found in the review's files, and the one way it is written: ``path:line:column: message``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing to fix: ``path`` relative to the repository root, ``line`` the 1-based physical line where
    the record starts (the header is line 1), ``column`` the field name, or "" for the whole file or row."""

    path: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


def count_text(problems: Sequence[Problem]) -> str:
    """``3 problems in 2 files``: the closing line of a list of problems."""
    files = len({p.path for p in problems})
    return f"{len(problems)} problem{'s' * (len(problems) != 1)} in {files} file{'s' * (files != 1)}"
