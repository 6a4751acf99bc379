"""The book is never stale, and a data change re-executes only the pages whose data changed: after a change
in data/, `make book` re-executes every page whose fingerprint (livingreview.book.sphinx.freshness: what
the page read when it last executed, plus code, schema and bibliography) changed, and no other page.

Uses the ``mutated_book`` fixture (conftest.py): a copy of the repository built cold with `make book`, then
one LV case group's ``n_patients`` is increased by one (and a second, text-only LV case group added), and the
copy is rebuilt with the same `make book`. Other kinds of change (another disease, a data release, code) are
in ``test_scoping.py``.
"""

from __future__ import annotations

import csv
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
    from livingreview.render.citations import label

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
    assert total_before and total_after, "the regimen chart's description states its patients"
    assert int(total_after.group(1)) == int(total_before.group(1)) + 1 + extra


#: pages that show LV rows: the chapter, the methods (LV numbers), the landing page and the synthesis
# the LV chapter, and the pages that read the whole ledger or every disease
LV_PAGES = {"book/lv", "book/methods", "book/index", "book/synthesis", "book/whats-new"}


def test_lv_change_reexecutes_pages_showing_lv_and_no_other(mutated_book):
    assert mutated_book.count_change["disease"] == "LV" and mutated_book.xss_case["disease"] == "LV"
    pages = set(toc_pages(mutated_book.root))
    uses = data_pages(mutated_book.root)
    assert LV_PAGES <= uses < pages
    reread = reread_docs(mutated_book.rebuild_log)
    executed = executed_docs(mutated_book.rebuild_log)
    assert reread == LV_PAGES, f"re-read: {sorted(reread)}\n{mutated_book.rebuild_log[-3000:]}"
    assert executed == LV_PAGES, f"executed: {sorted(executed)}"
    # the chapters of the other diseases are neither re-read nor re-executed, and unchanged
    for docname in ("book/lcv", "book/cle", "book/ssc", "book/sjs"):
        assert docname not in reread
        assert mutated_book.html(docname) == mutated_book.before[docname], docname


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_new_lv_total_appears_on_the_chapter_and_the_landing_page(mutated_book):
    """The LV patient count grows by one (the changed count) plus the patients of the added case group."""
    with (mutated_book.root / "data" / "cases.csv").open(encoding="utf-8", newline="") as fh:
        total = sum(int(r["n_patients"]) for r in csv.DictReader(fh) if r["disease"] == "LV")
    old = total - 1 - int(mutated_book.xss_case["n_patients"])
    assert f"{total} patients in" in _text(mutated_book.html("book/lv"))
    assert f"{old} patients in" in _text(mutated_book.before["book/lv"])
    for docname in ("book/index", "book/synthesis"):
        assert re.search(rf"\b{total}\b", _text(mutated_book.html(docname))), docname


def test_no_change_rebuild_is_a_noop(mutated_book):
    from conftest import make_book

    out = make_book(mutated_book.root)
    assert "jupyter-book" not in out and "reading sources" not in out, out[-2000:]


def test_status_page_lists_executions(mutated_book):
    status = mutated_book.html("book/status")
    for docname in data_pages(mutated_book.root):
        assert re.search(rf">\s*{re.escape(docname)}\s*<", status), f"{docname} missing from the status table"
