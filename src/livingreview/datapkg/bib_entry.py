"""A new ``references.bib`` entry: the key rule (``firstauthorYEAR``), checking pasted BibTeX or a manual
record, and writing the entry in the file's layout."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from livingreview.datapkg.bibfile import parse_bib
from livingreview.errors import UserError

__all__ = [
    "KEY_PATTERN",
    "MANUAL_FIELDS",
    "NewEntry",
    "check_key",
    "from_bibtex",
    "manual_entry",
    "render_entry",
]

#: firstauthorYEAR in lowercase ASCII, with an optional letter suffix (kofler2021, kofler2021b)
KEY_PATTERN = re.compile(r"^[a-z][a-z]*[0-9]{4}[a-z]?$")
#: what a reference typed in by hand needs, in the order it is asked for
MANUAL_FIELDS = ("key", "authors", "title", "journal", "year", "volume", "pages")
#: fields a pasted entry must have (the venue may come from a note, see bibfile.bib_problems)
PASTED_REQUIRED = ("author", "title", "year")


class NewEntry(NamedTuple):
    """A reference to add: its key and its text as it goes into ``references.bib``."""

    key: str
    text: str


def render_entry(entry_type: str, key: str, fields: dict[str, str]) -> str:
    """One entry in the layout of references.bib (two-space indent, names padded to 7); empty fields are
    left out."""
    lines = [f"@{entry_type.lower()}{{{key},"]
    items = [(k, v) for k, v in fields.items() if str(v).strip()]
    for i, (name, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"  {name.lower():<7} = {{{str(value).strip()}}}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def check_key(key: str, where: str) -> None:
    """UserError unless ``key`` follows the key rule; ``where`` names what the key came from."""
    if not KEY_PATTERN.match(key):
        raise UserError(
            f"{where}: bib key {key!r} is not firstauthorYEAR in lowercase ASCII with an optional letter "
            "suffix (e.g. kofler2021, kofler2021b)"
        )


def parse_entries(text: str, where: str) -> list[tuple[str, str, dict[str, str]]]:
    """The entries of a BibTeX string as ``(type, key, fields)``; UserError listing what does not parse."""
    parsed = parse_bib(text, where)
    problems = [f"{where}: line {line}: {message}" for line, message in parsed.errors + parsed.failures]
    problems += [f"{where}: line {line}: duplicate key {key!r}" for key, line, _ in parsed.duplicates]
    if problems:
        raise UserError("\n".join(problems))
    return [(e.entry_type, e.key, dict(e.fields)) for e in parsed.entries.values()]


def from_bibtex(text: str, where: str) -> NewEntry:
    """The one entry of pasted BibTeX, checked (key rule, author, title, year) and re-laid out."""
    found = parse_entries(text, where)
    if len(found) != 1:
        raise UserError(f"{where}: expected exactly one BibTeX entry, found {len(found)}")
    entry_type, key, fields = found[0]
    check_key(key, f"{where} {key}")
    missing = [f for f in PASTED_REQUIRED if not (fields.get(f) or "").strip()]
    if missing:
        raise UserError(f"{where} {key}: the entry lacks {', '.join(missing)}")
    return NewEntry(key, render_entry(entry_type, key, fields))


def manual_entry(manual: dict[str, str], label: Callable[[str], str] = str) -> NewEntry:
    """An ``@article`` from a record typed in by hand (every one of ``MANUAL_FIELDS``); ``label(field)``
    names a field in messages (e.g. its command-line option)."""
    missing = [label(k) for k in MANUAL_FIELDS if not (manual.get(k) or "").strip()]
    if missing:
        raise UserError(f"a manual reference needs {', '.join(missing)} as well")
    key = manual["key"].strip()
    check_key(key, label("key"))
    year = manual["year"].strip()
    if not re.fullmatch(r"[12][0-9]{3}", year):
        raise UserError(f"{label('year')}: {year!r} is not a year (e.g. 2021)")
    if not key.endswith(year) and not re.fullmatch(re.escape(year) + "[a-z]", key[-5:]):
        raise UserError(f"{label('key')} {key}: the key must end with the year {year} (firstauthorYEAR)")
    fields = {
        "author": manual["authors"],
        "title": manual["title"],
        "journal": manual["journal"],
        "year": year,
        "volume": manual["volume"],
        "pages": manual["pages"],
    }
    return NewEntry(key, render_entry("article", key, fields))
