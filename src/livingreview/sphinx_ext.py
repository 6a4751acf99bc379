"""Sphinx extension of the living review (loaded by ``_config.yml`` → ``sphinx.extra_extensions``).

What it does, at build time, so nothing is typed by hand:

* **Data version.** Reads ``version`` from ``data/datapackage.json`` and makes it available as

  - ``{{ data_version }}`` in MyST pages (a ``myst_substitutions`` entry; ``substitution`` is enabled in
    ``_config.yml``), and ``|data_version|`` in reStructuredText (``rst_epilog``);
  - ``data_version`` in the HTML template context, and in the HTML title
    (``"<title> · data v1.0.0"``);
  - ``{{ data_created }}`` / ``|data_created|``: the ``created`` date of the data package.

  Changing the version changes a configuration value, so Sphinx re-reads every page (a data release is the
  one case where every page, including those not using the data, shows a new number).

* **Never stale.** Every page whose source imports ``livingreview`` (``import livingreview`` or
  ``from livingreview ...`` at the start of a line; or front matter ``livingreview: data``) gets
  ``data/*``, ``references.bib`` and ``src/livingreview/*.py`` registered as Sphinx dependencies
  (``env.note_dependency``). Sphinx re-reads a page when a dependency is newer than the time the page was
  last read, and ``execute_notebooks: force`` makes myst-nb execute every page it re-reads. jupyter-cache
  is deliberately not used: it keys on the code of a page, not on the data the code reads, so it would
  serve stale outputs. Pages that do not import ``livingreview`` are neither re-read nor re-executed after a
  data change. A new or deleted dependency file (e.g. a new ``src/livingreview/*.py``) re-reads all data
  pages too (``env-get-outdated``).

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

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

from livingreview.data import BIBFILE, DATA_DIR, find_root, load_package

logger = logging.getLogger(__name__)

STATIC_DIR = Path("book") / "_static"
BUNDLE_NAME = "vega-bundle.js"
CHART_JS = "livingreview-charts.js"
TABLE_JS = "livingreview-tables.js"
CSS = "livingreview.css"
#: a page uses the data when a line of its source imports livingreview, or its front matter says so
_USES_DATA = re.compile(
    r"^\s*(?:from\s+livingreview\b|import\s+livingreview\b)|^livingreview:\s*data\s*$", re.M
)
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
_ENV_DATA_DOCS = "livingreview_data_docs"
_ENV_DEP_SET = "livingreview_dependency_set"


def _root(app: Sphinx) -> Path:
    return find_root(app.srcdir)


def dependency_files(root: Path) -> list[Path]:
    """The files whose change must re-execute every page that uses the data."""
    files = [p for p in sorted((root / DATA_DIR).iterdir()) if p.is_file() and not p.name.startswith(".")]
    files += [root / BIBFILE]
    files += sorted((root / "src" / "livingreview").glob("*.py"))
    return [p for p in files if p.is_file()]


def uses_data(source: str) -> bool:
    return bool(_USES_DATA.search(source))


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
    package = load_package(root)
    version = str(package["version"])
    created = str(package.get("created", ""))
    subs = dict(config.myst_substitutions or {}) if hasattr(config, "myst_substitutions") else {}
    subs.update({"data_version": version, "data_created": created})
    config.myst_substitutions = subs
    epilog = f"\n.. |data_version| replace:: {version}\n.. |data_created| replace:: {created}\n"
    config.rst_epilog = (config.rst_epilog or "") + epilog
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


# --- staleness ---------------------------------------------------------------------------------------


def _source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    env = app.env
    data_docs: set[str] = getattr(env, _ENV_DATA_DOCS, set())
    if uses_data(source[0]):
        data_docs.add(docname)
        srcdir = Path(app.srcdir).resolve()
        for path in dependency_files(_root(app)):
            try:
                env.note_dependency(str(path.resolve().relative_to(srcdir)))
            except ValueError:
                env.note_dependency(str(path.resolve()))
    else:
        data_docs.discard(docname)
    setattr(env, _ENV_DATA_DOCS, data_docs)


def _dependency_set(app: Sphinx) -> str:
    names = "\n".join(str(p) for p in dependency_files(_root(app)))
    return hashlib.sha256(names.encode()).hexdigest()


def _env_get_outdated(app: Sphinx, env: Any, added: set, changed: set, removed: set) -> list[str]:
    current = _dependency_set(app)
    previous = getattr(env, _ENV_DEP_SET, None)
    env.livingreview_dependency_set = current
    if previous is not None and previous != current:
        docs = sorted(d for d in getattr(env, _ENV_DATA_DOCS, set()) if d in env.found_docs)
        logger.info("[livingreview] dependency files added or removed: re-reading %d data page(s)", len(docs))
        return docs
    return []


def _env_purge_doc(app: Sphinx, env: Any, docname: str) -> None:
    getattr(env, _ENV_DATA_DOCS, set()).discard(docname)


def _env_merge_info(app: Sphinx, env: Any, docnames: set[str], other: Any) -> None:
    mine: set[str] = getattr(env, _ENV_DATA_DOCS, set())
    mine |= getattr(other, _ENV_DATA_DOCS, set()) & set(docnames)
    setattr(env, _ENV_DATA_DOCS, mine)


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
        "import sys, pathlib; from livingreview.sphinx_ext import vega_bundle; "
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
    app.add_config_value("livingreview_assets", "", "html", types=[str])
    app.connect("config-inited", _config_inited, priority=900)
    app.connect("source-read", _source_read)
    app.connect("env-get-outdated", _env_get_outdated)
    app.connect("env-purge-doc", _env_purge_doc)
    app.connect("env-merge-info", _env_merge_info)
    app.connect("builder-inited", _builder_inited)
    app.connect("builder-inited", _start_bundle)
    app.connect("html-page-context", _html_page_context)
    app.connect("build-finished", _write_bundle)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
