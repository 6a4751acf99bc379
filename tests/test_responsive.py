"""Every built page fits a phone (390×844) and a desktop window (1300×900): the page never scrolls sideways,
every chart's marks, axes, legends and titles lie inside the chart's figure, wide tables scroll inside their
own frame. And a chapter printed from the browser shows its charts and whole tables without the navigation.

Served from 127.0.0.1 with every other request blocked (as in test_browser.py)."""

from __future__ import annotations

import pytest

from conftest import all_pages, layout_problems, print_problems

pytestmark = [pytest.mark.browser, pytest.mark.book]

VIEWPORTS = {"phone": (390, 844), "desktop": (1300, 900)}


@pytest.fixture(scope="module")
def site_url(built_site, serve):
    return serve(built_site)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_pages_fit_the_window(built_site, chromium, site_url, viewport):
    pages = all_pages(built_site)
    assert len(pages) >= 10
    problems: list[str] = []
    n_figures = 0
    for path in pages:
        rel = path.relative_to(built_site).as_posix()
        found, figures = layout_problems(chromium, site_url + rel, site_url, VIEWPORTS[viewport])
        problems += [f"{rel} @ {viewport}: {p}" for p in found]
        n_figures += figures
    assert not problems, "\n".join(problems)
    assert n_figures > 0, "no chart in the whole book?"


def test_printed_chapter_has_charts_and_tables_without_navigation(built_site, chromium, site_url):
    rel = "book/ssc.html"
    assert (built_site / rel).is_file()
    problems = print_problems(chromium, site_url + rel, site_url)
    assert not problems, "\n".join(problems)
