"""The book's build executes pages in one warm shell (livingreview.book.sphinx.warm) and keeps GLMM fits by
the content of their inputs (livingreview.stats.memo). No build here: the shell and the memo on their own."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from livingreview.stats import memo


@pytest.fixture(scope="module")
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    from livingreview.book.sphinx.warm import WarmShell

    if InteractiveShell.initialized():
        pytest.skip("an IPython shell already runs in this process")
    yield WarmShell()
    InteractiveShell.clear_instance()


def _nb(*sources: str):
    return new_notebook(cells=[new_markdown_cell("# page"), *(new_code_cell(s) for s in sources)])


def test_outputs_are_those_a_kernel_sends(shell, tmp_path):
    nb = _nb(
        "print('a'); print('b')",
        "from IPython.display import display, HTML\ndisplay(HTML('<b>x</b>'), metadata={'k': 1})\n1 + 1",
        "import warnings\nwarnings.warn('careful')",
        "x = 3;",
    )
    shell.run(nb, tmp_path)
    printed, shown, warned, quiet = (c.outputs for c in nb.cells[1:])
    assert [(o.output_type, o.name, o.text) for o in printed] == [("stream", "stdout", "a\nb\n")]
    assert [o.output_type for o in shown] == ["display_data", "execute_result"]
    assert shown[0].data["text/html"] == "<b>x</b>" and shown[0].metadata == {"k": 1}
    assert shown[1].data["text/plain"] == "2" and shown[1].execution_count == nb.cells[2].execution_count
    assert warned[0].name == "stderr" and "UserWarning: careful" in warned[0].text
    assert quiet == []


def test_each_page_starts_fresh_in_its_directory_with_its_environment(shell, tmp_path, monkeypatch):
    monkeypatch.delenv("LR_TEST", raising=False)
    first = _nb("leftover = 1", "import os\nprint(os.getcwd(), os.environ['LR_TEST'])")
    shell.run(first, tmp_path, {"LR_TEST": "one"})
    assert first.cells[2].outputs[0].text.split() == [str(tmp_path), "one"]
    second = _nb("print('leftover' in globals())")
    shell.run(second, tmp_path.parent)
    assert second.cells[1].outputs[0].text == "False\n"
    import os

    assert "LR_TEST" not in os.environ and os.getcwd() != str(tmp_path)


def test_a_raising_cell_stops_the_page_with_its_traceback(shell, tmp_path):
    from livingreview.book.sphinx.warm import CellError

    nb = _nb("x = 1", "raise ValueError('broken page')", "print('never')")
    with pytest.raises(CellError) as err:
        shell.run(nb, tmp_path)
    assert err.value.number == 2  # the second code cell
    assert "ValueError" in err.value.traceback and "broken page" in err.value.traceback
    assert nb.cells[3].get("outputs") == []


# --- memo ---------------------------------------------------------------------------------------------------

calls: list[tuple] = []


@memo.memoized
def _square(x: np.ndarray, k: int) -> dict:
    calls.append((x.tolist(), k))
    return {"value": (x**2).sum() * k}


def test_memo_reuses_a_result_only_for_the_same_inputs(tmp_path, monkeypatch):
    monkeypatch.setenv(memo.ENV_VAR, str(tmp_path))
    calls.clear()
    a = _square(np.array([1, 2]), 1)
    assert _square(np.array([1, 2]), 1) == a and len(calls) == 1
    _square(np.array([1, 3]), 1)
    _square(np.array([1, 2]), 2)
    _square(np.array([1.0, 2.0]), 1)  # another dtype is another input
    assert len(calls) == 4
    a["value"] = -1  # callers get copies
    assert _square(np.array([1, 2]), 1)["value"] == 5
    assert len(list(tmp_path.rglob("*.pickle"))) == 4
    memo._memory.clear()  # a new process: the result comes from the disk
    assert _square(np.array([1, 2]), 1)["value"] == 5 and len(calls) == 4


def test_memo_does_not_key_what_it_cannot_tell_apart(monkeypatch):
    monkeypatch.delenv(memo.ENV_VAR, raising=False)
    calls.clear()
    _square(np.array([4]), Fraction(1))  # not a type the memo keys on: computed every time
    _square(np.array([4]), Fraction(1))
    assert len(calls) == 2


def test_memo_key_covers_the_statistics_code():
    from pathlib import Path

    import livingreview.stats

    assert len(memo.code_version()) == 64
    assert Path(memo.__file__).parent == Path(livingreview.stats.__file__).parent


def test_memoised_glmm_equals_a_fresh_fit():
    from livingreview.stats import pool_glmm
    from livingreview.stats.glmm import fit_glmm

    events, n = [3, 5, 1, 7], [4, 9, 3, 7]
    first = pool_glmm(events, n)
    fresh = fit_glmm.__wrapped__(np.array(events, float), np.array(n, float), np.ones((4, 1)), 100)
    assert first == pool_glmm(events, n)
    assert np.isclose(fresh.beta[0], first.mu)


def test_a_cell_longer_than_the_timeout_fails(shell, tmp_path):
    from livingreview.book.sphinx.warm import CellError

    with pytest.raises(CellError) as err:
        shell.run(_nb("import time\ntime.sleep(5)"), tmp_path, timeout=0.2)
    assert "TimeoutError" in err.value.traceback
    shell.run(_nb("import time\ntime.sleep(0.3)"), tmp_path, timeout=None)  # and the alarm is off again
