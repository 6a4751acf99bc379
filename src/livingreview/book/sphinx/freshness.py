"""Never stale, and no more than needed: which pages a build re-reads (and so re-executes).

Each page that reads the data gets a *fingerprint*: a hash of exactly the inputs it read when it last
executed, taken from the record its kernel wrote (:mod:`livingreview.datapkg.reads`). Before reading,
every recorded page's fingerprint is recomputed from the current files and a page whose fingerprint changed
is re-read, and every page that is re-read is executed again (:mod:`~livingreview.book.sphinx.execute`).
File times play no part. jupyter-cache only hands the outputs of this build's executions to myst-nb: it
keys on a page's code, not on the data the code reads, so it is emptied before every build.

A fingerprint covers:

* the package code (every module, subpackages included) and the schema (``datapackage.json`` without
  ``version``/``created``) and ``references.bib``, for every data page;
* the tables the page read whole, byte for byte;
* for each disease it read: that disease's case groups and recorded GRADE judgements (``certainty``); for
  each report (source) it read: the case groups of that report or extracted through it, their outcome rows,
  the report's statements (``claims``) and its appraisal;
  rows are compared parsed (quoting or line endings do not count);
* the version, its date, ``data/CHANGELOG.md`` and ``CITATION.cff`` if it read the version.

A page that shows the ``{{ data_version }}`` substitution depends on the version without executing code.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

from livingreview.datapkg.csvfile import read_table
from livingreview.datapkg.reads import ENV_VAR, Reads, read_record
from livingreview.paths import (
    BIBFILE,
    CHANGELOG_PATH,
    CITATION,
    DATA_DIR,
    DESCRIPTOR_PATH,
    code_digest,
    find_root,
)

logger = logging.getLogger(__name__)

#: tables whose rows a page can read by disease or report; any other table is read whole
SCOPED_TABLES = ("cases", "outcomes", "claims", "appraisal", "certainty")
#: substitutions that show the version on a page without executing code
VERSION_SUBSTITUTIONS = ("{{ data_version }}", "{{ data_created }}", "|data_version|", "|data_created|")
# Attributes of the build environment (pickled with it between builds).
_ENV_READS = "livingreview_reads"  # docname -> Reads recorded when the page last executed
_ENV_PRINTS = "livingreview_fingerprints"  # docname -> fingerprint of what it read then


def _sha(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class _Rows:
    """A scoped table's rows as tuples of strings, or None when it cannot be parsed."""

    def __init__(self, path: Path, relpath: str):
        table, _ = read_table(path, relpath, fast=False)
        if table is not None and table.ragged:
            table = None  # rows that cannot be told apart: the bytes decide
        self.header = table.header if table is not None else None
        self.rows = (
            [] if table is None else [tuple(col[i] for col in table.columns) for i in range(table.nrows)]
        )

    def column(self, name: str) -> int | None:
        return self.header.index(name) if self.header and name in self.header else None


class Snapshot:
    """The inputs of the data pages at one moment (taken once per build, before any page is read)."""

    def __init__(self, root: Path):
        self.root = root
        package_dir = root / "src" / "livingreview"  # the checkout's code: what `make book` runs
        parts: list[bytes | str] = ["code", code_digest(package_dir)]  # subpackages included
        raw = _bytes(root / DESCRIPTOR_PATH)
        try:
            package = json.loads(raw)
            if not isinstance(package, dict):
                raise ValueError
            version = _json([package.get("version"), package.get("created")])
            schema = _json({k: v for k, v in package.items() if k not in {"version", "created"}})
        except ValueError:
            version = schema = raw.decode("utf-8", "replace")  # unparsable: any change changes everything
        self.glob = _sha(*parts, "schema", schema, "bib", _bytes(root / BIBFILE))
        self.version = _sha(version, _bytes(root / CHANGELOG_PATH), _bytes(root / CITATION))
        data_dir = root / DATA_DIR
        self.files = {p.stem: p for p in sorted(data_dir.glob("*.csv"))} if data_dir.is_dir() else {}
        self.rows = {t: _Rows(data_dir / f"{t}.csv", f"{DATA_DIR}/{t}.csv") for t in SCOPED_TABLES}
        self._cache: dict[str, str] = {}

    def _whole(self, table: str) -> bytes | str:
        """A table read whole: its parsed rows when it is one of the scoped tables, else its bytes."""
        rows = self.rows.get(table)
        if rows is not None and rows.header is not None:
            return _json([rows.header, rows.rows])
        path = self.files.get(table)
        return _bytes(path) if path else b""

    def _scoped_rows(self, reads: Reads) -> list[bytes | str]:
        cases, outcomes, claims, appraisal, certainty = (self.rows[t] for t in SCOPED_TABLES)
        if any(t.header is None for t in (cases, outcomes, claims, appraisal, certainty)):
            return [_bytes(self.root / DATA_DIR / f"{t}.csv") for t in SCOPED_TABLES]  # unparsable: bytes
        d, s, v = (cases.column(c) for c in ("disease", "source", "via"))
        o, c = outcomes.column("source"), claims.column("source")
        a, g = appraisal.column("source"), certainty.column("disease")
        if None in (d, s, v, o, c, a, g):
            return [_bytes(self.root / DATA_DIR / f"{t}.csv") for t in SCOPED_TABLES]
        keys = reads.sources
        group = [r for r in cases.rows if r[d] in reads.diseases or r[s] in keys or r[v] in keys]
        reports = {r[s] for r in group if r[s] in keys or r[v] in keys} | keys
        return [
            _json([cases.header, group]),
            _json([outcomes.header, [r for r in outcomes.rows if r[o] in reports]]),
            _json([claims.header, [r for r in claims.rows if r[c] in keys]]),
            _json([appraisal.header, [r for r in appraisal.rows if r[a] in reports]]),
            _json([certainty.header, [r for r in certainty.rows if r[g] in reads.diseases]]),
        ]

    def fingerprint(self, reads: Reads) -> str:
        key = reads.to_json()
        if key not in self._cache:
            parts = [self.glob, key]
            parts += [p for t in sorted(reads.tables) for p in (t, self._whole(t))]
            if reads.diseases or reads.sources:
                parts += self._scoped_rows(reads)
            if reads.version:
                parts.append(self.version)
            self._cache[key] = _sha(*parts)
        return self._cache[key]


def _bytes(path: Path) -> bytes:
    return path.read_bytes() if path.is_file() else b""


def fingerprint(reads: Reads, root: str | Path) -> str:
    """The fingerprint of a page that read ``reads``, from the files under ``root`` now."""
    return Snapshot(find_root(root)).fingerprint(reads)


def _snapshot(app: Sphinx) -> Snapshot:
    snap = getattr(app, "_livingreview_snapshot", None)
    if snap is None:
        snap = app._livingreview_snapshot = Snapshot(find_root(app.srcdir))
    return snap


def _env_dict(env: Any, name: str) -> dict:
    if not isinstance(getattr(env, name, None), dict):
        setattr(env, name, {})
    return getattr(env, name)


def record_path(app: Sphinx, docname: str) -> Path:
    """Where the code of a page records what it reads while it executes."""
    return Path(app.doctreedir) / "livingreview-reads" / (docname.replace("/", "__") + ".json")


def _before_read(app: Sphinx, env: Any, docnames: list[str]) -> None:
    """Drop the records of the pages about to be read: each gets the one of its new execution."""
    for docname in docnames:
        path = record_path(app, docname)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)


def _source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    """Point a kernel that myst-nb starts for this page at its record file (kernels inherit os.environ);
    pages executed in the warm shell (:mod:`~livingreview.book.sphinx.execute`) already wrote theirs."""
    os.environ[ENV_VAR] = str(record_path(app, docname))
    # temp_data lives while this one document is read
    app.env.temp_data["livingreview_shows_version"] = any(t in source[0] for t in VERSION_SUBSTITUTIONS)


def _doctree_read(app: Sphinx, doctree: Any) -> None:
    """After the page executed: keep what it read and the fingerprint of that."""
    env, docname = app.env, app.env.docname
    os.environ.pop(ENV_VAR, None)
    reads = read_record(record_path(app, docname))
    if env.temp_data.get("livingreview_shows_version"):
        reads = reads or Reads()
        reads.version = True
    if reads is None:
        _forget(env, docname)
    else:
        _env_dict(env, _ENV_READS)[docname] = reads
        _env_dict(env, _ENV_PRINTS)[docname] = _snapshot(app).fingerprint(reads)


def _forget(env: Any, docname: str) -> None:
    _env_dict(env, _ENV_READS).pop(docname, None)
    _env_dict(env, _ENV_PRINTS).pop(docname, None)


def _env_get_outdated(app: Sphinx, env: Any, added: set, changed: set, removed: set) -> list[str]:
    snap, prints = _snapshot(app), _env_dict(env, _ENV_PRINTS)
    outdated = [
        docname
        for docname, reads in sorted(_env_dict(env, _ENV_READS).items())
        if docname not in added | changed | removed
        and docname in env.found_docs
        and prints.get(docname) != snap.fingerprint(reads)
    ]
    if outdated:
        logger.info("[livingreview] data read by %d page(s) changed: %s", len(outdated), " ".join(outdated))
    return outdated


def _env_purge_doc(app: Sphinx, env: Any, docname: str) -> None:
    _forget(env, docname)


def _env_merge_info(app: Sphinx, env: Any, docnames: set[str], other: Any) -> None:
    for name in (_ENV_READS, _ENV_PRINTS):
        mine, theirs = _env_dict(env, name), _env_dict(other, name)
        for docname in docnames:
            if docname in theirs:
                mine[docname] = theirs[docname]
            else:
                mine.pop(docname, None)


def setup(app: Sphinx) -> None:
    app.connect("env-before-read-docs", _before_read, priority=400)
    app.connect("source-read", _source_read)
    app.connect("doctree-read", _doctree_read)
    app.connect("env-get-outdated", _env_get_outdated)
    app.connect("env-purge-doc", _env_purge_doc)
    app.connect("env-merge-info", _env_merge_info)
