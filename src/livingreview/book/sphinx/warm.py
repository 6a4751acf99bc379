"""Run the code cells of notebooks in one warm IPython shell, page after page, collecting Jupyter outputs.

A Jupyter kernel per page costs a process start and every import again (about 2 s a page); the book's
pages import the same package, so the build runs them all in one :class:`WarmShell` instead. Each page
starts from an empty namespace, in its own directory, with Python's default warning filters, like a fresh
kernel; what a cell prints, displays or returns becomes the ``stream``, ``display_data`` and
``execute_result`` outputs a kernel would have sent (the same IPython formatters produce them), so myst-nb
renders them as it renders a kernel's.

Modules stay imported between pages: that is the point (and pure results such as GLMM fits are memoised by
content, see :mod:`livingreview.stats.memo`). Pages must therefore not depend on state left by another
page, which a reader running one page in Jupyter would not have either.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import threading
import time
import types
import warnings
from pathlib import Path

from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from nbformat import NotebookNode
from nbformat.v4 import new_output
from traitlets.config import Config

# outputs of the cell being executed (one shell runs one cell at a time)
_sink: list[NotebookNode] = []


class _Publisher(DisplayPublisher):
    """``display()``: a ``display_data`` output."""

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
        _sink.append(new_output("display_data", data=data, metadata=metadata or {}))

    def clear_output(self, wait=False):
        _sink.clear()


class _ResultHook(DisplayHook):
    """The value of a cell's last expression: an ``execute_result`` output."""

    def write_output_prompt(self):
        pass

    def write_format_data(self, format_dict, md_dict=None) -> None:
        _sink.append(
            new_output(
                "execute_result",
                data=format_dict,
                metadata=md_dict or {},
                execution_count=None,  # set by WarmShell._run_cell
            )
        )

    def finish_displayhook(self):
        self._is_active = False


class _Stream(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` of a cell: text goes to the last output when it is the same stream."""

    def __init__(self, name: str):
        self.name = name

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            last = _sink[-1] if _sink else None
            if last is not None and last.output_type == "stream" and last.name == self.name:
                last.text += text
            else:
                _sink.append(new_output("stream", name=self.name, text=text))
        return len(text)


class CellError(Exception):
    """A cell raised: ``number`` is its place among the code cells (from 1), ``traceback`` as in Jupyter."""

    def __init__(self, number: int, traceback: str):
        super().__init__(f"code cell {number} raised an exception")
        self.number, self.traceback = number, traceback


class WarmShell:
    """One IPython shell for many notebooks (created on first use; lives as long as the process)."""

    def __init__(self) -> None:
        self.timeout: float | None = None
        if InteractiveShell.initialized():
            raise RuntimeError("an IPython shell already runs in this process")
        config = Config()
        config.HistoryManager.enabled = False  # no history database in ~/.ipython
        main = sys.modules.get("__main__")
        self.shell = InteractiveShell.instance(
            config=config,
            user_module=types.ModuleType("__main__"),
            displayhook_class=_ResultHook,
            display_pub_class=_Publisher,
            colors="nocolor",
        )
        if main is not None:  # the shell installs its user module as __main__; the host keeps its own
            sys.modules["__main__"] = main

    def run(
        self,
        notebook: NotebookNode,
        cwd: Path,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> float:
        """Execute the code cells of ``notebook`` in order, filling their outputs; seconds taken.

        Raises :class:`CellError` at the first cell that raises (its outputs so far are kept), or that runs
        longer than ``timeout`` seconds (``TimeoutError``; only where SIGALRM exists, in the main thread).
        """
        self.timeout = timeout
        shell, start = self.shell, time.perf_counter()
        shell.reset(new_session=True)
        saved_env = {k: os.environ.get(k) for k in env or {}}
        with _in_dir(cwd), warnings.catch_warnings():
            _default_warning_filters()
            os.environ.update(env or {})
            try:
                code = [cell for cell in notebook.cells if cell.cell_type == "code"]
                for number, cell in enumerate(code, start=1):
                    self._run_cell(number, cell)
            finally:
                for key, value in saved_env.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
        shell.reset(new_session=True)  # nothing of the page outlives it
        return time.perf_counter() - start

    def _run_cell(self, number: int, cell: NotebookNode) -> None:
        shell = self.shell
        _sink.clear()
        count = shell.execution_count  # the cell's number (the shell counts on while it runs)
        out, err = _Stream("stdout"), _Stream("stderr")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _alarm(self.timeout):
            result = shell.run_cell(cell.source, store_history=True, silent=False)
        failed = result.error_before_exec or result.error_in_exec
        cell.outputs = list(_sink)
        cell.execution_count = count
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
        _sink.clear()
        if failed is not None:
            tb = shell.InteractiveTB
            raise CellError(
                number, tb.stb2text(tb.structured_traceback(type(failed), failed, failed.__traceback__))
            )


@contextlib.contextmanager
def _alarm(seconds: float | None):
    """Raise TimeoutError in the running code after ``seconds`` (as nbclient's timeout fails a cell)."""
    main = threading.current_thread() is threading.main_thread()
    if not (seconds and hasattr(signal, "setitimer") and main):
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"the cell ran longer than the execution timeout ({seconds:g} s)")

    before = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


@contextlib.contextmanager
def _in_dir(path: Path):
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _default_warning_filters() -> None:
    """The filters of a fresh interpreter, shown on the cell's stderr (the host may have changed both)."""
    warnings.showwarning = _show_warning
    warnings.resetwarnings()
    for action, category, module in (
        ("default", DeprecationWarning, "__main__"),
        ("ignore", DeprecationWarning, ""),
        ("ignore", PendingDeprecationWarning, ""),
        ("ignore", ImportWarning, ""),
        ("ignore", ResourceWarning, ""),
    ):
        warnings.filterwarnings(action, category=category, module=module)
