"""The book is never stale: after a change in data/, `make book` re-executes every page that uses the data,
and only those (livingreview.sphinx_ext registers the data as a dependency of those pages).

Uses the ``mutated_book`` fixture (conftest.py): a copy of the repository built cold with `make book`, then
one case group's ``n_patients`` is increased by one (and a second, text-only case group added), and the copy
is rebuilt with the same `make book`."""

from __future__ import annotations

import re

import pytest

from conftest import chart_specs, data_pages, executed_docs, reread_docs, toc_pages

pytestmark = pytest.mark.book


def _page_of(mutated, disease: str) -> str:
    return f"book/{disease.lower()}"


def _patients_in_charts(html: str, label: str) -> set[int]:
    """``patients`` of every chart datum of the report with this label."""
    found = set()
    for spec in chart_specs(html):
        for values in (spec.get("datasets") or {}).values():
            for row in values:
                if row.get("report") == label and "patients" in row:
                    found.add(int(row["patients"]))
    return found


def test_changed_count_appears_and_old_one_is_gone(mutated_book):
    from livingreview.citations import label

    change = mutated_book.count_change
    docname = _page_of(mutated_book, change["disease"])
    who = label(change["source"], mutated_book.root)
    old, new = change["old"], change["new"]
    before, after = mutated_book.before[docname], mutated_book.html(docname)

    assert _patients_in_charts(before, who) == {old}, f"the cold build should chart {who} with {old} patients"
    assert _patients_in_charts(after, who) == {new}, (
        f"after the change {who} must be charted with {new} patients"
    )
    # the generated text description (figcaption) of the regimen chart follows the data too
    total_before = re.search(r"regimen\(s\) from \d+ report\(s\), (\d+) patient", before)
    total_after = re.search(r"regimen\(s\) from \d+ report\(s\), (\d+) patient", after)
    added = mutated_book.xss_case  # the second change: one more case group (with a regimen) of 1 patient
    extra = int(added["n_patients"]) if added["disease"] == change["disease"] else 0
    if total_before:
        assert total_after and int(total_after.group(1)) == int(total_before.group(1)) + 1 + extra


def test_every_data_page_reexecuted_and_no_other(mutated_book):
    pages = set(toc_pages(mutated_book.root))
    uses = data_pages(mutated_book.root)
    assert uses, "no page imports livingreview?"
    assert uses < pages, "every page uses the data: the 'not re-executed' check would be vacuous"
    reread = reread_docs(mutated_book.rebuild_log)
    executed = executed_docs(mutated_book.rebuild_log)
    assert uses <= reread, f"data pages not re-read after a data change: {sorted(uses - reread)}"
    # pages that do not use the data are neither re-read nor re-executed
    assert not (reread & (pages - uses)), f"re-read without need: {sorted(reread & (pages - uses))}"
    assert executed <= uses, f"executed without need: {sorted(executed - uses)}"


def test_no_change_rebuild_is_a_noop(mutated_book):
    from conftest import make_book

    out = make_book(mutated_book.root)
    assert "jupyter-book" not in out and "reading sources" not in out, out[-2000:]


def test_status_page_lists_executions(mutated_book):
    status = mutated_book.html("book/status")
    for docname in data_pages(mutated_book.root):
        assert re.search(rf">\s*{re.escape(docname)}\s*<", status), f"{docname} missing from the status table"
