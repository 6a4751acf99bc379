"""The book's Sphinx extension (loaded by ``_config.yml``, ``sphinx.extra_extensions``), a module a concern:

* :mod:`~livingreview.book.sphinx.version`: the data version in titles and ``{{ data_version }}``;
* :mod:`~livingreview.book.sphinx.freshness`: which pages to re-execute after a change (never stale, no
  more than needed), from what each page recorded reading;
* :mod:`~livingreview.book.sphinx.execute`: the pages to re-read executed in one warm shell
  (:mod:`~livingreview.book.sphinx.warm`), their outputs handed to myst-nb;
* :mod:`~livingreview.book.sphinx.offline`: charts and pages that load nothing from the internet;
* :mod:`~livingreview.book.sphinx.downloads`: the data package of the built version, published with the site;
* the ``livingreview`` bibliography style (:mod:`livingreview.render.bibstyle`).

How they fit together is described in CONTRIBUTING.md ("How the book stays fresh").
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

from livingreview.book.sphinx import downloads, execute, freshness, offline, version
from livingreview.render import bibstyle


def setup(app: Sphinx) -> dict[str, Any]:
    bibstyle.register()  # before sphinxcontrib-bibtex looks up bibtex_default_style
    version.setup(app)
    freshness.setup(app)
    execute.setup(app)
    offline.setup(app)
    downloads.setup(app)
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 3}
