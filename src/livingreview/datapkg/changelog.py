"""The data changelog, ``data/CHANGELOG.md``: one ``## <version> — <YYYY-MM-DD>`` entry per data version,
newest first. Parsing only; the release rules and the book decide what to require of it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from livingreview.paths import CHANGELOG_PATH

#: the heading of a well-formed entry (the dash is an em dash)
HEADING = re.compile(r"^## (?P<version>\S+) — (?P<date>\d{4}-\d{2}-\d{2})\s*$")


@dataclass(frozen=True)
class Entry:
    """One ``## `` section of the changelog. ``version`` and ``date`` are ``None`` when its heading is not
    ``## <version> — <YYYY-MM-DD>``; ``body`` holds its non-blank lines up to the next ``## ``."""

    line: int  # 1-based line of the heading
    heading: str
    version: str | None
    date: str | None
    body: tuple[str, ...]


def entries(text: str) -> list[Entry]:
    """Every ``## `` section of the changelog text, in file order (newest first)."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("## ")]
    out = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        match = HEADING.match(lines[start])
        out.append(
            Entry(
                line=start + 1,
                heading=lines[start].rstrip("\r"),
                version=match["version"] if match else None,
                date=match["date"] if match else None,
                body=tuple(line for line in lines[start + 1 : end] if line.strip()),
            )
        )
    return out


def latest_entry(text: str) -> tuple[str, str]:
    """``(version, date)`` of the newest well-formed entry; ValueError when there is none."""
    for entry in entries(text):
        if entry.version is not None and entry.date is not None:
            return entry.version, entry.date
    raise ValueError(f"{CHANGELOG_PATH} has no '## <version> — <YYYY-MM-DD>' entry")
