"""Execute the pages a build re-reads in one warm shell, just before Sphinx reads them.

``_config.yml`` sets ``execute_notebooks: cache``: myst-nb then takes a page's outputs from jupyter-cache
when the cache holds an executed notebook with the page's code. Before Sphinx reads anything, this module
**empties the cache**, executes every notebook page Sphinx is about to read (the pages that changed or whose
data fingerprint changed, :mod:`~livingreview.book.sphinx.freshness`) in one
:class:`~livingreview.book.sphinx.warm.WarmShell` per core (worker processes forked from the build, so
they start with its imports; the pages that took longest last time go first), and stores the results. So:

* the cache only ever holds notebooks executed in this build, against the files of this build: it is a
  hand-over to myst-nb, never a source of old outputs (a page the cache does not hold is executed by myst-nb
  in a kernel of its own, as before);
* each page's reads are recorded as a kernel's would be (``$LIVINGREVIEW_READS``, one record per page);
* a cell that raises fails the build (``nb_execution_raise_on_error``) with the traceback;
* the warm shell runs the package code this process imported; if the files have changed since (a
  long-lived Sphinx process), myst-nb executes the pages in fresh kernels instead;
* GLMM fits are kept between builds in ``_build/livingreview-memo``, keyed by their inputs and the
  statistics code (:mod:`livingreview.stats.memo`), so a data change refits only the models it changes.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path, PurePosixPath
from typing import Any

from IPython.core.interactiveshell import InteractiveShell
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

from livingreview.book.sphinx.freshness import record_path
from livingreview.book.sphinx.warm import CellError, WarmShell
from livingreview.datapkg import reads
from livingreview.paths import code_digest
from livingreview.stats import memo

logger = logging.getLogger(__name__)
JOBS_VAR = "LIVINGREVIEW_BOOK_JOBS"
_ENV_SECONDS = "livingreview_exec_seconds"  # docname -> seconds its last execution took (a hint only)


def _notebook(env: Any, docname: str) -> tuple[Path, Any] | None:
    """The page as myst-nb reads it, or None when it has no code to execute."""
    from myst_nb.core.read import create_nb_reader

    config = env.mystnb_config
    path = Path(env.doc2path(docname))
    if any(PurePosixPath(path.as_posix()).match(p) for p in config.execution_excludepatterns):
        return None
    content = path.read_text(encoding="utf-8")
    reader = create_nb_reader(str(path), env.myst_config, config, content)
    if reader is None:
        return None
    notebook = reader.read(content)
    return (path, notebook) if any(c.cell_type == "code" for c in notebook.cells) else None


def _execute(app: Sphinx, env: Any, docnames: list[str]) -> None:
    config = env.mystnb_config
    if config.execution_mode != "cache":
        return  # myst-nb executes (or not) as configured
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(config.execution_cache_path)
    cache.clear_cache()  # whatever happens next, nothing of an earlier build is served
    inside_ipython = _shell is None and InteractiveShell.initialized()
    if config.execution_allow_errors or inside_ipython or _package_code() != _CODE_AT_IMPORT:
        # pages whose errors are shown, a build from inside IPython, or a process that has imported an
        # older version of the package (a long-lived Sphinx, e.g. sphinx-autobuild): fresh kernels
        logger.info("[livingreview] myst-nb executes the pages in kernels of their own")
        return
    # longest first, by the time each page took when it last executed (new pages first), so that the
    # workers finish together
    seconds_before = getattr(env, _ENV_SECONDS, None) or {}
    jobs = sorted(
        (
            (d, page[0], page[1], str(record_path(app, d)), config.execution_timeout)
            for d in sorted(docnames)
            if (page := _notebook(env, d)) is not None
        ),
        key=lambda job: -seconds_before.get(job[0], float("inf")),
    )
    setattr(env, _ENV_SECONDS, seconds_before)
    executed = app._livingreview_executed = set()
    for _, path, *_ in jobs:
        logger.info("%s: Executing notebook in the build's warm shell", path)
    for docname, path, notebook, seconds, error in _run_all(jobs):
        if error is not None:
            message = f"Executing notebook failed: an exception in code cell {error[0]}"
            if config.execution_show_tb:
                message += "\n" + error[1]
            logger.warning(message, location=docname, type="mystnb", subtype="exec")
            if config.execution_raise_on_error:
                raise ExtensionError(f"{path}: a cell raised an exception (see above)")
            continue  # not cached: myst-nb executes it in a kernel and reports the error its way
        cache.cache_notebook_bundle(
            CacheBundleIn(notebook, str(path), data={"execution_seconds": seconds}),
            check_validity=False,
            overwrite=True,
        )
        logger.info("%s: executed in %.2f s", path, seconds)
        executed.add(docname)
        seconds_before[docname] = seconds


def _run_all(jobs: list[tuple]) -> Iterator[tuple]:
    """Run the pages in worker processes forked from this one (so they start with its imports), one per
    core, or in this process when there is one page or one core. Results come in the order they finish; a
    worker that dies fails the build (BrokenProcessPool) instead of leaving it waiting."""
    workers = min(len(jobs), _jobs())
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(_run_page, jobs)
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [pool.submit(_run_page, job) for job in jobs]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _jobs() -> int:
    """Worker processes: ``$LIVINGREVIEW_BOOK_JOBS`` or one per core this process may use."""
    if os.environ.get(JOBS_VAR, "").strip().isdigit():
        return max(1, int(os.environ[JOBS_VAR]))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def _run_page(job: tuple) -> tuple:
    """Execute one page in this process's warm shell: ``(docname, path, notebook, seconds, error)``."""
    global _shell
    docname, path, notebook, record, timeout = job
    _shell = _shell or WarmShell()
    try:
        with reads.recording():  # this page's reads only, written to its record
            seconds = _shell.run(notebook, path.parent, {reads.ENV_VAR: record}, timeout)
    except CellError as err:
        return docname, path, notebook, 0.0, (err.number, err.traceback)
    return docname, path, notebook, seconds, None


_shell: WarmShell | None = None  # one per process, created on its first page


def _package_code() -> str:
    """Hash of the modules of the livingreview package this process imports from."""
    return code_digest(Path(__file__).resolve().parents[2])


_CODE_AT_IMPORT = _package_code()  # the code the warm shell runs; pages must not run older code


def _label(app: Sphinx, doctree: Any) -> None:
    """The execution table (status page) says how a page executed: "warm shell", not myst-nb's "cache"."""
    from myst_nb.sphinx_ import NbMetadataCollector

    docname = app.env.docname
    data = NbMetadataCollector.get_exec_data(app.env, docname)
    if docname in getattr(app, "_livingreview_executed", ()) and data:
        NbMetadataCollector.set_exec_data(app.env, docname, {**data, "method": "warm shell"})


def _keep_fits(app: Sphinx) -> None:
    """Keep GLMM fits between builds, by the content of their inputs (:mod:`livingreview.stats.memo`)."""
    os.environ[memo.ENV_VAR] = str(Path(app.doctreedir).parent / "livingreview-memo")


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", _keep_fits)
    # after freshness (priority 400) has removed the old records of these pages
    app.connect("env-before-read-docs", _execute, priority=600)
    app.connect("doctree-read", _label)
