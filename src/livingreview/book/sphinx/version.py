"""The data version on every page, without re-reading pages when it changes.

``version`` and ``created`` of ``data/datapackage.json`` become ``{{ data_version }}``/``{{ data_created }}``
in MyST pages, ``|data_version|``/``|data_created|`` in reStructuredText pages, ``data_version`` in the
HTML template context, and part of the HTML title ("<title> · data v2.0.0"). No Sphinx configuration value
that re-reads every page when it changes (``rebuild="env"``, such as ``myst_substitutions``) holds them:
the substitutions go into the MyST parser configuration kept in the build environment and into the source
of ``.rst`` pages, so a release re-reads only the pages that show the version
(:mod:`livingreview.book.sphinx.freshness`). Title and context are ``rebuild="html"`` values: a new
version re-writes every page, which is cheap, and re-executes none.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sphinx.application import Sphinx

from livingreview.datapkg.descriptor import read_descriptor
from livingreview.paths import find_root


def _version_values(app: Sphinx) -> tuple[str, str]:
    package = read_descriptor(find_root(app.srcdir))
    return str(package["version"]), str(package.get("created", ""))


def _config_inited(app: Sphinx, config: Any) -> None:
    version, created = _version_values(app)
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


def _set_substitutions(app: Sphinx) -> None:
    """The substitutions for MyST pages, in the parser configuration myst-parser keeps in the environment."""
    config = getattr(app.env, "myst_config", None)
    if config is None:
        return
    version, created = _version_values(app)
    subs = {**(config.substitutions or {}), "data_version": version, "data_created": created}
    try:
        app.env.myst_config = dataclasses.replace(config, substitutions=subs)
    except (TypeError, ValueError):  # pragma: no cover - a myst-parser without dataclass config
        config.substitutions = subs


def _rst_substitutions(app: Sphinx, docname: str, source: list[str]) -> None:
    if str(app.env.doc2path(docname)).endswith(".rst"):
        version, created = _version_values(app)
        source[0] += f"\n\n.. |data_version| replace:: {version}\n.. |data_created| replace:: {created}\n"


def setup(app: Sphinx) -> None:
    app.connect("config-inited", _config_inited, priority=900)
    app.connect("builder-inited", _set_substitutions, priority=900)  # after myst-parser's config
    app.connect("source-read", _rst_substitutions)
