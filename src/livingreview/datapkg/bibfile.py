"""Load ``references.bib`` with bibtexparser v2: entries as plain dicts, duplicate keys, parse failures.

``load_bib`` never raises for a broken or missing file; what went wrong is in ``BibFile.errors`` (whole-file
problems), ``BibFile.failures`` (blocks that did not parse) and ``BibFile.duplicates``. Field values are the
raw BibTeX values (braces and LaTeX accents kept); ``plain`` strips the braces for simple uses.
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from livingreview.datapkg.problems import Problem
from livingreview.paths import BIBFILE

__all__ = [
    "REQUIRED_FIELDS",
    "VENUE_FIELDS",
    "BibEntry",
    "BibFile",
    "bib_problems",
    "entry_fields",
    "load_bib",
    "parse_bib",
    "plain",
]

#: Every entry needs these fields ...
REQUIRED_FIELDS = ("author", "title", "year")
#: An entry may lack authors or year only when its note says the page read did not show them.
NOT_SHOWN = {"author": "authors not shown", "year": "year not shown", "journal": "journal not shown"}
#: ... and at least one of these.
VENUE_FIELDS = ("journal", "booktitle", "publisher")


@dataclass(frozen=True)
class BibEntry:
    key: str
    entry_type: str
    fields: dict[str, str]
    line: int  # 1-based line of the '@'

    @property
    def year(self) -> int | None:
        match = re.fullmatch(r"\s*(\d{4})\s*", plain(self.fields.get("year", "")))
        return int(match.group(1)) if match else None


@dataclass
class BibFile:
    path: str
    entries: dict[str, BibEntry] = field(default_factory=dict)  # first entry of each key, in file order
    duplicates: list[tuple[str, int, int]] = field(default_factory=list)  # (key, line, line of first entry)
    failures: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    errors: list[tuple[int, str]] = field(default_factory=list)  # whole-file problems: (line, message)

    @property
    def keys(self) -> set[str]:
        return set(self.entries)

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.failures or self.errors)


def plain(value: str) -> str:
    """A BibTeX value without braces (``{French}`` -> ``French``); LaTeX commands are left as they are."""
    return value.replace("{", "").replace("}", "").strip()


class _Capture(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        self.messages.append(record.getMessage())
        return False


@contextlib.contextmanager
def _quiet_bibtexparser():
    """Collect (instead of printing) what bibtexparser logs about blocks it cannot parse."""
    capture = _Capture()
    loggers = [
        logging.getLogger(name)
        for name in ("bibtexparser", "bibtexparser.splitter", "bibtexparser.middlewares")
    ]
    for lg in loggers:
        lg.addFilter(capture)
    try:
        yield capture
    finally:
        for lg in loggers:
            lg.removeFilter(capture)


def parse_bib(text: str, path: str = BIBFILE) -> BibFile:
    """Parse BibTeX text. Never raises."""
    import bibtexparser  # imported here: it is slow to import and not every command needs it

    bib = BibFile(path)
    text = text.removeprefix("\ufeff")
    try:
        with _quiet_bibtexparser() as capture:
            library = bibtexparser.parse_string(text)
    except Exception as exc:
        bib.errors.append((1, f"cannot be parsed as BibTeX ({type(exc).__name__}: {exc})"))
        return bib
    logged = {}
    for message in capture.messages:
        match = re.search(r"\(line (\d+)\) aborted on line (\d+)[^:]*:\s*(.*)", message, re.S)
        if match:
            logged[int(match.group(1))] = (int(match.group(2)) + 1, match.group(3).strip())
    for entry in library.entries:
        fields = {f.key.lower(): str(f.value) for f in entry.fields}
        bib.entries.setdefault(
            entry.key, BibEntry(entry.key, entry.entry_type.lower(), fields, entry.start_line + 1)
        )
    for block in library.failed_blocks:
        line = (getattr(block, "start_line", 0) or 0) + 1
        kind = type(block).__name__
        if kind == "DuplicateBlockKeyBlock":
            key = getattr(block, "key", "?")
            first = bib.entries.get(key)
            bib.duplicates.append((key, line, first.line if first else line))
        else:
            detail = logged.get(line - 1)
            where = f" (parsing stopped on line {detail[0]}: {detail[1]})" if detail else ""
            head = (getattr(block, "raw", "") or "").strip().splitlines()
            head_text = head[0][:60] if head else ""
            bib.failures.append(
                (
                    line,
                    f"cannot parse the entry starting '{head_text}'{where}; check braces, quotes and commas",
                )
            )
    if not library.entries and not library.failed_blocks and text.strip() and "@" not in text:
        bib.errors.append((1, "contains no BibTeX entries"))
    return bib


def load_bib(path: str | Path, relpath: str = BIBFILE) -> BibFile:
    """Read and parse a .bib file. Never raises: a missing or undecodable file is reported in ``errors``."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        bib = BibFile(relpath)
        bib.errors.append((1, "file is missing"))
        return bib
    except OSError as exc:
        bib = BibFile(relpath)
        bib.errors.append((1, f"cannot be read ({exc.strerror or exc})"))
        return bib
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bib = BibFile(relpath)
        line = data.count(b"\n", 0, exc.start) + 1
        bib.errors.append(
            (line, f"is not valid UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); save it as UTF-8")
        )
        return bib
    if "\x00" in text:
        bib = BibFile(relpath)
        bib.errors.append(
            (text.count("\n", 0, text.index("\x00")) + 1, "contains a NUL character (binary data)")
        )
        return bib
    return parse_bib(text, relpath)


def entry_fields(path: str | Path) -> dict[str, dict[str, str]]:
    """``{key: {field: raw value}}`` of a .bib file, in file order; ``{}`` when the file does not exist."""
    path = Path(path)
    if not path.is_file():
        return {}
    return {key: dict(entry.fields) for key, entry in load_bib(path).entries.items()}


def bib_problems(bib: BibFile) -> list[Problem]:
    """Problems of the .bib file itself: unreadable, unparsable blocks, duplicate keys, missing fields."""
    out = [Problem(bib.path, line, "", message) for line, message in bib.errors]
    out += [Problem(bib.path, line, "", message) for line, message in bib.failures]
    for key, line, first in bib.duplicates:
        out.append(
            Problem(
                bib.path,
                line,
                "",
                f"duplicate key '{key}' (first defined on line {first}); rename or remove one",
            )
        )
    for entry in bib.entries.values():
        for name in REQUIRED_FIELDS:
            if name in NOT_SHOWN and NOT_SHOWN[name] in plain(entry.fields.get("note", "")).lower():
                continue  # the page read did not show it; nothing is invented
            if not plain(entry.fields.get(name, "")):
                hint = f" (or a note saying '{NOT_SHOWN[name]}')" if name in NOT_SHOWN else ""
                out.append(Problem(bib.path, entry.line, name, f"entry '{entry.key}' has no {name}{hint}"))
        venue_not_shown = NOT_SHOWN["journal"] in plain(entry.fields.get("note", "")).lower()
        if not venue_not_shown and not any(plain(entry.fields.get(name, "")) for name in VENUE_FIELDS):
            out.append(
                Problem(
                    bib.path,
                    entry.line,
                    "journal",
                    f"entry '{entry.key}' has no journal (or booktitle or publisher, or a note saying "
                    f"'{NOT_SHOWN['journal']}')",
                )
            )
        if plain(entry.fields.get("year", "")) and entry.year is None:
            out.append(
                Problem(
                    bib.path,
                    entry.line,
                    "year",
                    f"entry '{entry.key}' has year {entry.fields['year']!r}; write four digits",
                )
            )
    return out
