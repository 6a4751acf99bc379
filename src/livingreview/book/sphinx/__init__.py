"""Sphinx extension of the living review (loaded by ``_config.yml`` → ``sphinx.extra_extensions``).

What it does, at build time, so nothing is typed by hand:

* **Data version.** Reads ``version`` from ``data/datapackage.json`` and makes it available as

  - ``{{ data_version }}`` in MyST pages and ``|data_version|`` in reStructuredText pages;
  - ``data_version`` in the HTML template context, and in the HTML title
    (``"<title> · data v1.0.0"``);
  - ``{{ data_created }}`` / ``|data_created|``: the ``created`` date of the data package.

  The substitutions are *not* Sphinx configuration values (``myst_substitutions``/``rst_epilog`` are
  ``rebuild="env"`` values: changing them makes Sphinx re-read every page). They are added to the MyST
  parser configuration that myst-parser keeps in the build environment (``env.myst_config``, recreated at
  every ``builder-inited``), and appended to the source of ``.rst`` pages in ``source-read``. So a data
  release re-reads only the pages that show the version (see *Scope*). The HTML title and context are
  ``rebuild="html"`` values: a new version re-*writes* every page (so every ``<title>`` shows it), which is
  cheap, but re-reads and re-executes none.

* **Never stale, and no more than needed: content fingerprints.** Each page that uses the data gets a
  *scope*, inferred from its source, and a *fingerprint*: a hash of exactly the inputs its scope covers.
  Before reading (``env-get-outdated``) the fingerprint of every page is recomputed from the current files;
  a page whose fingerprint changed is re-read, and ``execute_notebooks: force`` makes myst-nb execute every
  page it re-reads. Fingerprints live in the build environment (pickled between builds; purged and merged
  with parallel reads). File times play no part, so touching a file or rewriting it unchanged re-reads
  nothing. jupyter-cache is deliberately not used: it keys on the code of a page, not on the data the code
  reads.

  *Which pages.* A page uses the data when a line of its source imports ``livingreview`` (``import
  livingreview`` / ``from livingreview ...``), when its front matter has a ``livingreview:`` key, or when it
  shows the data version (``data_version``/``data_created`` anywhere in its source: a glue name such as
  ``review_data_version`` or the ``{{ data_version }}`` substitution). Notebooks (``.ipynb``) are scanned
  in their cells and metadata.

  *Scope inferred from the source:*

  - ``Chapter("LV")`` (a literal code of ``livingreview.data.DISEASES``): that disease;
  - ``Review(``: every disease, and the data version;
  - ``data_version``/``data_created`` mentioned: the data version;
  - ``.accumulation_chart(``: the columns ``disease, source, year, n_patients`` of *every* case group (the
    chart plots all diseases, so a page of one disease calling it depends on them);
  - ``.before_after_chart("key")``: the rows of report ``key`` as well;
  - anything the rules cannot see through falls back to *everything* (every disease and the version):
    ``Chapter(`` or ``before_after_chart(`` with a non-literal argument or an unknown disease, the word
    ``Chapter`` or ``Review`` other than in a call (``C = Chapter``; also in prose), an import of anything
    but ``Chapter``, ``Review`` and ``data_dictionary`` from ``livingreview.book.chapter`` (or with ``as``, or over
    several lines), ``import livingreview``, or access to a ``.data`` attribute (``ch.data.cases`` holds
    every disease).

  *Explicit override* in the front matter (or the notebook metadata), replacing the inferred diseases::

      livingreview: all                       # every disease and the data version
      livingreview: data                      # the same (older spelling)
      livingreview:
        diseases: [LV, SjS]                   # or: all
        version: true                         # optional; default: inferred from the source

  An unknown disease code in the override is reported and treated as ``all``.

  *Fingerprint of a page* = SHA-256 of

  - every ``src/livingreview/**/*.py`` (paths and contents, subpackages included): a code change
    re-executes every data page;
  - ``data/datapackage.json`` without ``version`` and ``created`` (the schema: resources, fields, ...),
    ``references.bib`` (whole) and every other file in ``data/`` except the three tables and
    ``CHANGELOG.md`` (a new file there re-reads every data page);
  - if the page depends on the version: ``version``, ``created``, ``data/CHANGELOG.md`` and ``CITATION.cff``;
  - the canonical rows (parsed with the ``csv`` module, so quoting or line endings do not count; header
    included) that belong to the page's diseases: the case groups of those diseases, plus every case group
    whose ``source`` or ``via`` is one of their ``source``/``via`` keys (the totals in ``claims.csv`` are
    recomputed over those, see ``livingreview.claims.scope``); the ``outcomes.csv`` rows of the sources of
    those case groups; the ``claims.csv`` rows whose ``source`` is one of those keys. With every disease in
    scope, the three whole tables.

  A table that cannot be parsed (bad encoding, ragged rows, a missing ``disease``/``source``/``via``
  column) counts as changed for every data page: its raw bytes go into every fingerprint. The validator
  runs before the build anyway.

  Pages that do not use the data are neither re-read nor re-executed after a data change (pages that
  ``{include}`` a data file, such as ``whats-new.md`` with ``data/CHANGELOG.md``, are re-read by Sphinx's
  own dependency tracking).

* **Offline charts.** Writes the Vega + Vega-Lite + vega-embed bundle returned by
  ``vl_convert.javascript_bundle()`` to ``_static/vega-bundle.js`` of the build, once (it is ~900 kB; it is
  regenerated only when vl-convert's version changes). ``vl_convert`` returns a classic script (no
  ``import``/``export``) that assigns ``window.vegaEmbed``/``vega``/``vegaLite``; it is wrapped in a
  function so its minified top-level ``const`` names cannot clash with other scripts' globals, and loaded
  (``defer``) only by pages that contain a chart, before ``livingreview-charts.js`` which embeds every
  ``figure.lr-figure``. ``file://`` pages work because no ES module is involved.

* **Nothing from the internet.** Every ``<script>``/``<link>`` that Sphinx or the theme would load from
  an absolute ``http(s)://`` or protocol-relative URL is removed from the page and reported as a warning
  (so ``-W`` fails the build); MathJax is only ever loaded from a local path.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

from livingreview.datapkg.descriptor import read_descriptor
from livingreview.datapkg.frames import DISEASES
from livingreview.paths import BIBFILE, DATA_DIR, DESCRIPTOR, find_root

logger = logging.getLogger(__name__)

STATIC_DIR = Path("book") / "_static"
BUNDLE_NAME = "vega-bundle.js"
CHART_JS = "livingreview-charts.js"
TABLE_JS = "livingreview-tables.js"
CSS = "livingreview.css"
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)
_REMOTE_IN_TEXT = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/\S*\.(?:m?js|css)\b", re.I)
_REMOTE_EMBED = re.compile(
    r"""(?:<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?|import\(\s*["']|\brequire\.config)"""
    r"""((?:https?:)?//[^"'\s>]+)"""
    r"""|((?:https?:)?//(?:cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com)/[^"'\s>]*)""",
    re.I,
)
_THEBE = re.compile(r"(?:^|/)sphinx-thebe\.(?:js|css)(?:\?|$)")
# Attributes of the build environment (pickled with it between builds).
_ENV_SCOPES = "livingreview_scopes"  # docname -> Scope
_ENV_PRINTS = "livingreview_fingerprints"  # docname -> fingerprint of the inputs it was read with


def _root(app: Sphinx) -> Path:
    return find_root(app.srcdir)


# --- configuration -----------------------------------------------------------------------------------


def _assets_signature(root: Path) -> str:
    """Hash of this extension and the book's static files: a change rewrites every page (config value with
    rebuild="html"), since Sphinx would otherwise only rewrite pages whose source changed."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted((root / STATIC_DIR).glob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def _config_inited(app: Sphinx, config: Any) -> None:
    root = _root(app)
    config.livingreview_assets = _assets_signature(root)
    package = read_descriptor(root)
    version = str(package["version"])
    created = str(package.get("created", ""))
    # No config value of rebuild="env" may hold the version (Sphinx would re-read every page on a data
    # release): the substitutions go to env.myst_config (_set_substitutions) and to .rst sources
    # (_source_read). html_title/html_context are rebuild="html": a new version rewrites every page.
    # default_mode: the theme logs a console error on every page when it is empty
    config.html_context = {
        "default_mode": "auto",
        **(config.html_context or {}),
        "data_version": version,
        "data_created": created,
    }
    base = config.html_title or config.project or "Living review"
    if "data v" not in base:
        config.html_title = f"{base} · data v{version}"
    static = str((root / STATIC_DIR).resolve())
    if static not in [str(Path(app.confdir, p).resolve()) for p in config.html_static_path]:
        config.html_static_path = [*config.html_static_path, static]
    # MathJax: never from a CDN. _config.yml points mathjax_path at a local file that does not exist yet;
    # _html_page_context fails the build (warning + -W) on any page that has math.
    if _REMOTE.match(getattr(config, "mathjax_path", "") or ""):
        config.mathjax_path = "mathjax/tex-chtml.js"


# --- scope and fingerprints --------------------------------------------------------------------------

#: the tables whose rows are scoped by disease; every other file in data/ is global
TABLES = ("cases", "outcomes", "claims")
CHANGELOG = "CHANGELOG.md"
CITATION = "CITATION.cff"
#: columns of every case group the accumulation chart (charts.accumulation) reads
ACCUMULATION_COLUMNS = ("disease", "source", "year", "n_patients")
#: names a page may import from livingreview.book.chapter and still have its scope inferred
BOOK_NAMES = frozenset({"Chapter", "Review", "data_dictionary"})

_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(livingreview(?:\.\w+)*)[ \t]+import[ \t]+([^\n#]*)|import[ \t]+livingreview\b)",
    re.M,
)
_CHAPTER_CALL = re.compile(r"\bChapter\s*\(")
_CHAPTER_LITERAL = re.compile(r"""\bChapter\s*\(\s*(["'])(\w+)\1\s*[,)]""")
_REVIEW_CALL = re.compile(r"\bReview\s*\(")
_BOOK_NAME = re.compile(r"\b(?:Chapter|Review)\b")
_VERSION_NAME = re.compile(r"data_(?:version|created)")
_ACCUMULATION = re.compile(r"\.accumulation_chart\s*\(")
_BEFORE_AFTER_CALL = re.compile(r"\.before_after_chart\s*\(")
_BEFORE_AFTER_LITERAL = re.compile(r"""\.before_after_chart\s*\(\s*(["'])([^"'\\]+)\1\s*\)""")
_DATA_ATTR = re.compile(r"\.data\b(?!_)")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.S)


@dataclass(frozen=True)
class Scope:
    """What a page shows: the diseases whose rows it reads, whether it shows the data version, whether it
    plots the accumulation of every disease, and further reports (keys) whose rows it reads."""

    diseases: frozenset[str]
    version: bool = False
    accumulation: bool = False
    sources: frozenset[str] = frozenset()

    @property
    def everything(self) -> bool:
        return set(DISEASES) <= self.diseases


ALL = Scope(frozenset(DISEASES), version=True)


def _notebook_text(source: str) -> tuple[str, Any]:
    """(code and markdown of the cells, ``livingreview`` metadata) of a notebook's JSON source."""
    nb = json.loads(source)
    cells = []
    for cell in nb.get("cells", []):
        text = cell.get("source", "")
        cells.append("".join(text) if isinstance(text, list) else str(text))
    return "\n".join(cells), (nb.get("metadata") or {}).get("livingreview")


def _front_matter(text: str) -> tuple[bool, Any]:
    """(has a ``livingreview`` key, its value) of the YAML front matter of a MyST page."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return False, None
    try:
        import yaml

        meta = yaml.safe_load(match.group(1))
    except Exception:  # broken front matter: myst reports it; scope the page as everything
        return True, "all"
    if isinstance(meta, dict) and "livingreview" in meta:
        return True, meta["livingreview"]
    return False, None


def _page_text(source: str, notebook: bool | None = None) -> tuple[str, bool, Any]:
    """(text to scan, has an override, override value) of a page source (MyST text or notebook JSON)."""
    if notebook is None:
        notebook = source.lstrip().startswith("{")
    if notebook:
        try:
            text, meta = _notebook_text(source)
        except (ValueError, AttributeError, TypeError):
            return source, True, "all"  # unreadable notebook: nbformat reports it; scope it as everything
        return text, meta is not None, meta
    has, value = _front_matter(source)
    return source, has, value


def uses_data(source: str, notebook: bool | None = None) -> bool:
    """Whether a page (MyST text or notebook JSON) executes code against the data: it imports livingreview
    or has a ``livingreview`` front matter key. (A page that only shows the data version is scoped too, see
    ``infer_scope``, but executes nothing.)"""
    text, has_override, _ = _page_text(source, notebook)
    return bool(has_override or _IMPORT.search(text))


def _override(value: Any, inferred: Scope, warn: Any) -> Scope:
    if isinstance(value, str) and value.strip().lower() in {"all", "data"}:
        return ALL
    if not isinstance(value, dict):
        warn(f"front matter 'livingreview: {value!r}' not understood; the page depends on all data")
        return ALL
    diseases = value.get("diseases", "all")
    version = value.get("version", inferred.version)
    if isinstance(diseases, str) and diseases.strip().lower() == "all":
        chosen = frozenset(DISEASES)
    elif isinstance(diseases, (list, tuple)) and all(d in DISEASES for d in diseases):
        chosen = frozenset(diseases)
    else:
        warn(f"front matter 'livingreview: diseases: {diseases!r}' names no known disease list "
             f"({', '.join(DISEASES)}); the page depends on all data")  # fmt: skip
        chosen, version = frozenset(DISEASES), True
    return Scope(chosen, bool(version), inferred.accumulation, inferred.sources)


def infer_scope(source: str, notebook: bool | None = None, warn: Any = None) -> Scope | None:
    """The scope of a page from its source (MyST text or notebook JSON); None when it does not use the data.

    See the module docstring for the rules. ``warn(message)`` reports an override that is not understood."""
    warn = warn or (lambda message: None)
    text, has_override, value = _page_text(source, notebook)
    imports = list(_IMPORT.finditer(text))
    version = bool(_VERSION_NAME.search(text))
    if not (has_override or imports or version):
        return None
    everything = False
    for match in imports:
        module, names = match.group(1), match.group(2)
        if module != "livingreview.book":
            everything = (
                True  # import livingreview / from livingreview.datapkg.frames import ...: cannot see through
            )
            continue
        listed = {n.strip() for n in names.strip().split(",")}
        if not listed <= BOOK_NAMES:
            everything = True  # another name, an alias (Review as R), a multi-line import: cannot see through
    # Chapter/Review used other than as a direct call (C = Chapter; partial(Review)): cannot see through
    body = _IMPORT.sub("", text)
    if len(_BOOK_NAME.findall(body)) != len(_CHAPTER_CALL.findall(body)) + len(_REVIEW_CALL.findall(body)):
        everything = True
    diseases = set()
    literal = list(_CHAPTER_LITERAL.finditer(text))
    if len(literal) != len(_CHAPTER_CALL.findall(text)):
        everything = True  # Chapter(variable)
    for match in literal:
        if match.group(2) in DISEASES:
            diseases.add(match.group(2))
        else:
            everything = True
    if _REVIEW_CALL.search(text):
        diseases |= set(DISEASES)
        version = True
    sources = frozenset(m.group(2) for m in _BEFORE_AFTER_LITERAL.finditer(text))
    if len(_BEFORE_AFTER_LITERAL.findall(text)) != len(_BEFORE_AFTER_CALL.findall(text)):
        everything = True  # before_after_chart(variable)
    if _DATA_ATTR.search(text):
        everything = True  # ch.data.cases: every disease
    inferred = Scope(frozenset(diseases), version, bool(_ACCUMULATION.search(text)), sources)
    if has_override:
        return _override(value, inferred, warn)
    if everything:
        return Scope(frozenset(DISEASES), True, inferred.accumulation, sources)
    return inferred


def _sha(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass
class _Table:
    header: list[str]
    rows: list[list[str]]

    def column(self, name: str) -> int:
        return self.header.index(name)


def _parse_table(data: bytes, required: tuple[str, ...]) -> _Table | None:
    """Canonical rows of a CSV file, or None when it cannot be parsed (or lacks a ``required`` column)."""
    try:
        reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), strict=True)
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error):
        return None
    if not rows:
        return None
    header, body = rows[0], [r for r in rows[1:] if r]
    if any(len(r) != len(header) for r in body) or not set(required) <= set(header):
        return None
    return _Table(header, body)


class Snapshot:
    """The inputs of the data pages at one moment: the global part, the version part and the tables."""

    def __init__(self, root: Path):
        self.root = root
        data_dir = root / DATA_DIR
        package_dir = root / "src" / "livingreview"
        # every module, subpackages included: code moved into a subpackage must still re-execute the pages
        code = sorted(package_dir.rglob("*.py"))
        parts: list[bytes | str] = ["code"]
        for path in code:
            parts += [path.relative_to(package_dir).as_posix(), path.read_bytes()]
        descriptor = data_dir / DESCRIPTOR
        raw = descriptor.read_bytes() if descriptor.is_file() else b""
        try:
            package = json.loads(raw)
            if not isinstance(package, dict):
                raise ValueError
            version = _json([package.get("version"), package.get("created")])
            schema = _json({k: v for k, v in package.items() if k not in {"version", "created"}})
        except ValueError:
            version = schema = raw.decode("utf-8", "replace")  # unparsable: any change changes everything
        parts += ["schema", schema]
        bib = root / BIBFILE
        parts += ["bib", bib.read_bytes() if bib.is_file() else b""]
        scoped = {f"{t}.csv" for t in TABLES} | {DESCRIPTOR, CHANGELOG}
        files = sorted(p for p in data_dir.iterdir() if p.is_file()) if data_dir.is_dir() else []
        for path in files:
            if path.name not in scoped:
                parts += ["data", path.name, path.read_bytes()]
        changelog = data_dir / CHANGELOG
        # CITATION.cff goes with the version: the landing page's "how to cite" line is generated from it.
        citation = root / CITATION
        self.version = _sha(
            "version",
            version,
            changelog.read_bytes() if changelog.is_file() else b"",
            citation.read_bytes() if citation.is_file() else b"",
        )
        raws = {
            t: (data_dir / f"{t}.csv").read_bytes() if (data_dir / f"{t}.csv").is_file() else b""
            for t in TABLES
        }
        required = {"cases": ("disease", "source", "via"), "outcomes": ("source",), "claims": ("source",)}
        self.tables = {t: _parse_table(raws[t], required[t]) for t in TABLES}
        if any(table is None for table in self.tables.values()):
            # a table that cannot be parsed: every data page depends on all three files, byte for byte
            parts += ["unparsable tables", *(raws[t] for t in TABLES)]
        self.broken = any(table is None for table in self.tables.values())
        self.glob = _sha(*parts)
        self._cache: dict[Scope, str] = {}

    def _rows(self, scope: Scope) -> str:
        if self.broken:
            return ""
        cases, outcomes, claims = (self.tables[t] for t in TABLES)
        assert cases is not None and outcomes is not None and claims is not None
        parts = []
        if scope.everything:
            for table in (cases, outcomes, claims):
                parts.append(_json([table.header, table.rows]))
        else:
            d, s, v = cases.column("disease"), cases.column("source"), cases.column("via")
            mine = [r for r in cases.rows if r[d] in scope.diseases]
            keys = ({r[s] for r in mine} | {r[v] for r in mine} | set(scope.sources)) - {""}
            group = [r for r in cases.rows if r[d] in scope.diseases or r[s] in keys or r[v] in keys]
            reports = {r[s] for r in group} | set(scope.sources)
            o, c = outcomes.column("source"), claims.column("source")
            parts.append(_json([cases.header, group]))
            parts.append(_json([outcomes.header, [r for r in outcomes.rows if r[o] in reports]]))
            parts.append(_json([claims.header, [r for r in claims.rows if r[c] in keys]]))
        if scope.accumulation:
            cols = [cases.column(c) if c in cases.header else None for c in ACCUMULATION_COLUMNS]
            projected = [[r[i] if i is not None else None for i in cols] for r in cases.rows]
            parts.append(_json([list(ACCUMULATION_COLUMNS), projected]))
        return _sha(*parts)

    def fingerprint(self, scope: Scope) -> str:
        if scope not in self._cache:
            self._cache[scope] = _sha(
                self.glob,
                self.version if scope.version else "",
                _json(sorted(scope.diseases)),
                self._rows(scope),
            )
        return self._cache[scope]


def fingerprint(scope: Scope, root: str | Path) -> str:
    """The fingerprint of a page of this scope, from the files under ``root`` now."""
    return Snapshot(find_root(root)).fingerprint(scope)


def _snapshot(app: Sphinx) -> Snapshot:
    """The snapshot of this build, taken once (before any page is read)."""
    snap = getattr(app, "_livingreview_snapshot", None)
    if snap is None:
        snap = Snapshot(_root(app))
        app._livingreview_snapshot = snap
    return snap


def _scopes(env: Any) -> dict[str, Scope]:
    if not isinstance(getattr(env, _ENV_SCOPES, None), dict):
        setattr(env, _ENV_SCOPES, {})
    return getattr(env, _ENV_SCOPES)


def _prints(env: Any) -> dict[str, str]:
    if not isinstance(getattr(env, _ENV_PRINTS, None), dict):
        setattr(env, _ENV_PRINTS, {})
    return getattr(env, _ENV_PRINTS)


def _version_values(app: Sphinx) -> tuple[str, str]:
    package = read_descriptor(_root(app))
    return str(package["version"]), str(package.get("created", ""))


def _source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    env = app.env
    path = str(env.doc2path(docname))
    scope = infer_scope(
        source[0],
        notebook=path.endswith(".ipynb"),
        warn=lambda message: logger.warning(
            "[livingreview] %s: %s", docname, message, type="livingreview", subtype="scope"
        ),
    )
    if scope is None:
        _scopes(env).pop(docname, None)
        _prints(env).pop(docname, None)
    else:
        _scopes(env)[docname] = scope
        _prints(env)[docname] = _snapshot(app).fingerprint(scope)
    if path.endswith(".rst"):
        version, created = _version_values(app)
        source[0] += f"\n\n.. |data_version| replace:: {version}\n.. |data_created| replace:: {created}\n"


def _env_get_outdated(app: Sphinx, env: Any, added: set, changed: set, removed: set) -> list[str]:
    snap = _snapshot(app)
    prints = _prints(env)
    outdated = []
    for docname, scope in sorted(_scopes(env).items()):
        if docname in added or docname in changed or docname in removed or docname not in env.found_docs:
            continue
        if prints.get(docname) != snap.fingerprint(scope):
            outdated.append(docname)
    if outdated:
        logger.info(
            "[livingreview] data in scope changed: re-reading %d page(s): %s",
            len(outdated),
            " ".join(outdated),
        )
    return outdated


def _env_purge_doc(app: Sphinx, env: Any, docname: str) -> None:
    _scopes(env).pop(docname, None)
    _prints(env).pop(docname, None)


def _env_merge_info(app: Sphinx, env: Any, docnames: set[str], other: Any) -> None:
    scopes, prints = _scopes(env), _prints(env)
    other_scopes, other_prints = _scopes(other), _prints(other)
    for docname in docnames:
        if docname in other_scopes:
            scopes[docname] = other_scopes[docname]
            if docname in other_prints:
                prints[docname] = other_prints[docname]
        else:
            scopes.pop(docname, None)
            prints.pop(docname, None)


def _set_substitutions(app: Sphinx) -> None:
    """``{{ data_version }}``/``{{ data_created }}`` for MyST pages, in the parser configuration that
    myst-parser keeps in the environment (not in ``myst_substitutions``: a config value of rebuild "env")."""
    config = getattr(app.env, "myst_config", None)
    if config is None:
        return
    version, created = _version_values(app)
    subs = {**(config.substitutions or {}), "data_version": version, "data_created": created}
    try:
        app.env.myst_config = dataclasses.replace(config, substitutions=subs)
    except (TypeError, ValueError):  # pragma: no cover - a myst-parser without dataclass config
        config.substitutions = subs


# --- static assets -----------------------------------------------------------------------------------


def _disable_thebe(app: Sphinx) -> None:
    """jupyter-book always loads sphinx_thebe, which puts a loader for thebe from unpkg.com and a Binder
    configuration into every page even with live code off. The book has no live code: unhook it."""
    for listeners in app.events.listeners.values():
        for listener in list(listeners):
            if getattr(listener.handler, "__module__", "").startswith("sphinx_thebe"):
                app.disconnect(listener.id)


def _builder_inited(app: Sphinx) -> None:
    _disable_thebe(app)
    if app.builder.format != "html":
        return
    app.add_css_file(CSS)
    app.add_js_file(TABLE_JS, loading_method="defer")


def _html_page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    body = context.get("body", "") or ""
    if 'class="lr-figure' in body:
        # per-page: only pages with a chart download the (cached) Vega bundle
        app.add_js_file(BUNDLE_NAME, loading_method="defer", priority=900)
        app.add_js_file(CHART_JS, loading_method="defer", priority=901)
    # a chart displayed with Altair's own HTML renderer (or any embed) would load Vega from a CDN
    for match in _REMOTE_EMBED.finditer(body):
        logger.warning(
            "[livingreview] page %s loads %s from the internet; display charts with livingreview.charts.show",
            pagename,
            match.group(1) or match.group(2),
            type="livingreview",
            subtype="remote",
        )
    math = app.env.get_domain("math")
    if hasattr(math, "has_equations") and math.has_equations(pagename):
        logger.warning(
            "[livingreview] page %s contains math, but MathJax is not available offline; vendor it into "
            "book/_static or remove the math",
            pagename,
            type="livingreview",
            subtype="math",
        )
    for key in ("script_files", "css_files"):
        kept = []
        for asset in context.get(key, []):
            url = getattr(asset, "filename", asset)
            body = (getattr(asset, "attributes", None) or {}).get("body", "") or ""
            if isinstance(url, str) and _THEBE.search(url):
                continue  # live code (Thebe) is off: its loader would fetch thebe from unpkg.com
            if "THEBE_JS_URL" in body:
                continue
            remote = _REMOTE.match(url) if isinstance(url, str) else None
            if remote or _REMOTE_IN_TEXT.search(body):
                logger.warning(
                    "[livingreview] removed remote asset %s from page %s (the book must work offline)",
                    url or body[:80],
                    pagename,
                    type="livingreview",
                    subtype="remote",
                )
                continue
            kept.append(asset)
        context[key] = kept


def vega_bundle() -> str:
    """The Vega/Vega-Lite/vega-embed bundle as a classic script, wrapped so it defines only window globals."""
    import vl_convert

    code = vl_convert.javascript_bundle()
    if re.search(r"^\s*(?:import|export)\s", code, re.M):  # pragma: no cover - guards a vl-convert change
        raise RuntimeError("vl_convert.javascript_bundle() returned an ES module; expected a classic script")
    head = f"/* Vega, Vega-Lite, vega-embed: vl-convert {vl_convert.__version__} */"
    return f"{head}\n(function(){{\n{code}\n}})();\n"


def _bundle_paths(app: Sphinx) -> tuple[Path, Path, str]:
    import vl_convert

    static = Path(app.outdir) / "_static"
    return static / BUNDLE_NAME, static / (BUNDLE_NAME + ".version"), f"vl-convert {vl_convert.__version__}"


def _start_bundle(app: Sphinx) -> None:
    """Generate the bundle (~1.5 s of bundling) in a child process while the pages are read and executed."""
    if app.builder.format != "html":
        return
    target, marker, version = _bundle_paths(app)
    if target.is_file() and marker.is_file() and marker.read_text() == version:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".js.tmp")
    code = (
        "import sys, pathlib; from livingreview.book.sphinx import vega_bundle; "
        "pathlib.Path(sys.argv[1]).write_text(vega_bundle(), encoding='utf-8')"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    app.livingreview_bundle_job = (subprocess.Popen([sys.executable, "-c", code, str(tmp)], env=env), tmp)


def _write_bundle(app: Sphinx, exception: Exception | None) -> None:
    job = getattr(app, "livingreview_bundle_job", None)
    if exception is not None or app.builder.format != "html":
        if job:
            job[0].kill()
            job[0].wait()
        return
    target, marker, version = _bundle_paths(app)
    static = target.parent
    for unused in ("sphinx-thebe.js", "sphinx-thebe.css"):  # live code is off (see _disable_thebe)
        (static / unused).unlink(missing_ok=True)
    if job is None:
        if target.is_file() and marker.is_file() and marker.read_text() == version:
            return
        target.write_text(vega_bundle(), encoding="utf-8")
    else:
        proc, tmp = job
        if proc.wait() != 0 or not tmp.is_file():
            target.write_text(vega_bundle(), encoding="utf-8")  # raises with the real error
        else:
            tmp.replace(target)
    marker.write_text(version)


def setup(app: Sphinx) -> dict[str, Any]:
    from livingreview.render import bibstyle

    bibstyle.register()  # before sphinxcontrib-bibtex looks up bibtex_default_style
    app.add_config_value("livingreview_assets", "", "html", types=[str])
    app.connect("config-inited", _config_inited, priority=900)
    app.connect("source-read", _source_read)
    app.connect("env-get-outdated", _env_get_outdated)
    app.connect("env-purge-doc", _env_purge_doc)
    app.connect("env-merge-info", _env_merge_info)
    app.connect("builder-inited", _set_substitutions, priority=900)  # after myst-parser's config
    app.connect("builder-inited", _builder_inited)
    app.connect("builder-inited", _start_bundle)
    app.connect("html-page-context", _html_page_context)
    app.connect("build-finished", _write_bundle)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 2}
