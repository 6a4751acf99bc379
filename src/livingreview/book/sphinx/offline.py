"""Nothing from the internet: charts from a bundled Vega, no CDN scripts, no live code.

* Writes the Vega + Vega-Lite + vega-embed bundle of ``vl_convert.javascript_bundle()`` to
  ``_static/vega-bundle.js`` once per vl-convert version (it is ~900 kB), generated in a child process
  while pages are read. It is a classic script wrapped in a function, so its minified top-level names
  cannot clash with other scripts; only pages with a chart load it, before ``livingreview-charts.js``,
  which embeds every ``figure.lr-figure``. ``file://`` pages work: no ES module is involved.
* Removes every ``<script>``/``<link>`` that Sphinx or the theme would load from an absolute or
  protocol-relative URL, and warns (so ``-W`` fails the build); likewise a chart embedded with Altair's
  own renderer. Thebe (live code) is unhooked. Math fails the build until MathJax is vendored.
* Adds the book's CSS and table script, and a config value hashing this package's assets so that a change
  to them re-writes every page.
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

from livingreview.paths import STATIC_DIR, find_root

logger = logging.getLogger(__name__)

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


def _assets_signature(root: Path) -> str:
    """Hash of this extension and the book's static files: a change rewrites every page (config value with
    rebuild="html"), since Sphinx would otherwise only rewrite pages whose source changed."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    for path in sorted((root / STATIC_DIR).glob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def _config_inited(app: Sphinx, config: Any) -> None:
    root = find_root(app.srcdir)
    config.livingreview_assets = _assets_signature(root)
    static = str((root / STATIC_DIR).resolve())
    if static not in [str(Path(app.confdir, p).resolve()) for p in config.html_static_path]:
        config.html_static_path = [*config.html_static_path, static]
    # MathJax: never from a CDN. _config.yml points mathjax_path at a local file that does not exist yet;
    # _html_page_context fails the build (warning + -W) on any page that has math.
    if _REMOTE.match(getattr(config, "mathjax_path", "") or ""):
        config.mathjax_path = "mathjax/tex-chtml.js"


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
        "import sys, pathlib; from livingreview.book.sphinx.offline import vega_bundle; "
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


def setup(app: Sphinx) -> None:
    app.add_config_value("livingreview_assets", "", "html", types=[str])
    app.connect("config-inited", _config_inited, priority=900)
    app.connect("builder-inited", _builder_inited)
    app.connect("builder-inited", _start_bundle)
    app.connect("html-page-context", _html_page_context)
    app.connect("build-finished", _write_bundle)
