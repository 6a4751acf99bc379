"""What the code of a book page read from the data package, recorded while the page executes.

The build re-executes a page only when something it read has changed, so it has to know what each page
read. Nothing is guessed from the page's source: every access to the data goes through
:class:`livingreview.datapkg.frames.Data` (or :func:`~livingreview.datapkg.frames.load_table`), which calls
:func:`record`. When the environment variable ``LIVINGREVIEW_READS`` names a file (the Sphinx extension
sets it for the kernel of each page it executes), every new read is added to that file as JSON; otherwise
recording costs a set update and nothing else.

One process executes one page at a time; the book's build gives each page a fresh record
(:func:`recording`) and its own file. Scoped reads are kept as:

* ``tables``: tables read whole (every row can matter);
* ``diseases``: the case groups of these diseases (with their outcomes and the source statements about
  them) — the per-disease view a chapter reads;
* ``sources``: the rows of these reports (a chart of one report's measures);
* ``version``: the data version, its date, the changelog or the citation.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ENV_VAR = "LIVINGREVIEW_READS"


@dataclass
class Reads:
    tables: set[str] = field(default_factory=set)
    diseases: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    version: bool = False

    def to_json(self) -> str:
        return json.dumps(
            {
                "tables": sorted(self.tables),
                "diseases": sorted(self.diseases),
                "sources": sorted(self.sources),
                "version": self.version,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Reads:
        raw = json.loads(text)
        return cls(set(raw["tables"]), set(raw["diseases"]), set(raw["sources"]), bool(raw["version"]))


_reads = Reads()


def record(
    *, table: str | None = None, disease: str | None = None, source: str | None = None, version: bool = False
) -> None:
    """Note one read; written through to ``$LIVINGREVIEW_READS`` when it adds something."""
    before = _reads.to_json()
    if table is not None:
        _reads.tables.add(table)
    if disease is not None:
        _reads.diseases.add(disease)
    if source is not None:
        _reads.sources.add(source)
    _reads.version = _reads.version or version
    target = os.environ.get(ENV_VAR)
    if target and _reads.to_json() != before:
        path = Path(target)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(_reads.to_json(), encoding="utf-8")
        tmp.replace(path)


@contextmanager
def recording() -> Iterator[Reads]:
    """Record the reads of a block of code on their own (the reads before it are kept and restored)."""
    global _reads
    outer, _reads = _reads, Reads()
    try:
        yield _reads
    finally:
        _reads = outer


def read_record(path: str | Path) -> Reads | None:
    """The reads a page's kernel wrote to ``path``; None when it read nothing from the data."""
    path = Path(path)
    return Reads.from_json(path.read_text(encoding="utf-8")) if path.is_file() else None
