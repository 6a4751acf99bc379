"""Every built page in headless Chromium, served from 127.0.0.1 with every other request blocked: each chart
draws an SVG with marks, no console errors, nothing leaves the machine, sortable tables sort.

With CI=true a missing Playwright or Chromium fails these tests instead of skipping them."""

from __future__ import annotations

import pytest

from conftest import all_pages, visit

pytestmark = [pytest.mark.browser, pytest.mark.book]


@pytest.fixture(scope="module")
def site_url(built_site, serve):
    return serve(built_site)


def test_every_page_renders_offline(built_site, chromium, site_url):
    pages = all_pages(built_site)
    assert len(pages) >= 10
    problems = []
    n_figures = 0
    for path in pages:
        rel = path.relative_to(built_site).as_posix()
        report = visit(chromium, site_url + rel, site_url)
        if report.blocked:
            problems.append(f"{rel}: requests to other hosts: {report.blocked}")
        if report.console_errors or report.page_errors:
            problems.append(f"{rel}: console errors {report.console_errors} page errors {report.page_errors}")
        for fig in report.figures:
            n_figures += 1
            if fig["state"] != "1" or not (fig["svg"] or fig["canvas"]) or fig["marks"] < 1:
                problems.append(f"{rel}: chart {fig['id']} not drawn: {fig}")
            if not fig["caption"].strip():
                problems.append(f"{rel}: chart {fig['id']} has no caption")
    assert not problems, "\n".join(problems)
    assert n_figures > 0, "no chart in the whole book?"


def test_sortable_table_sorts_numerically(chromium, serve, tmp_path):
    """The table script on a page of our own: numeric-aware, missing values last, both directions."""
    import pandas as pd

    from conftest import ROOT
    from livingreview.render import tables

    frame = pd.DataFrame({"n": pd.array([10, None, 9, 100], dtype="Int64"), "s": ["b", "a", None, "c"]})
    static = ROOT / "book" / "_static"
    (tmp_path / "t.js").write_text(
        (static / "livingreview-tables.js").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><script defer src='t.js'></script></head><body>"
        + tables.show(frame, table_id="t")._repr_html_()
        + "</body></html>",
        encoding="utf-8",
    )
    base = serve(tmp_path)
    page = chromium.new_page()
    try:
        page.goto(base + "index.html")
        page.wait_for_selector("#t button.lr-sort")
        col = "() => Array.from(document.querySelectorAll('#t tbody tr')).map(r => r.cells[0].textContent)"
        page.click("#t th:nth-child(1) button")
        assert page.evaluate(col) == ["9", "10", "100", "—"]
        page.click("#t th:nth-child(1) button")
        assert page.evaluate(col) == ["100", "10", "9", "—"]
        page.click("#t th:nth-child(2) button")
        text = "() => Array.from(document.querySelectorAll('#t tbody tr')).map(r => r.cells[1].textContent)"
        assert page.evaluate(text) == ["a", "b", "c", "—"]
    finally:
        page.close()
