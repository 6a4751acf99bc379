"""The data behind the site can be downloaded: the data package of the built version in ``_build/html/data/``
(every resource, the descriptor, the changelog, references.bib and a deterministic zip), links to it on the
landing page and every chapter, and a "Download CSV" button on every table."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import ROOT
from livingreview.book.sphinx import downloads

CHAPTERS = ("lcv", "cle", "lv", "ssc", "sjs")
LINK_PAGES = ("index", *CHAPTERS)


def _expected_files(root: Path) -> dict[str, Path]:
    """From the descriptor, independently of the extension: every resource, plus the package's texts."""
    descriptor = json.loads((root / "data" / "datapackage.json").read_text(encoding="utf-8"))
    files = {res["path"]: root / "data" / res["path"] for res in descriptor["resources"]}
    files |= {
        "datapackage.json": root / "data" / "datapackage.json",
        "CHANGELOG.md": root / "data" / "CHANGELOG.md",
        "references.bib": root / "references.bib",
    }
    return files


def _version(root: Path) -> str:
    return json.loads((root / "data" / "datapackage.json").read_text(encoding="utf-8"))["version"]


# --- the copy/zip function ----------------------------------------------------------------------------------


def _package(root: Path, version: str = "1.2.3", cases: str = "id,n\na,1\n") -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    descriptor = {
        "name": "ivig-living-review",
        "version": version,
        "resources": [
            {"name": "cases", "path": "cases.csv"},
            {"name": "outcomes", "path": "outcomes.csv"},
        ],
    }
    (root / "data" / "datapackage.json").write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    (root / "data" / "cases.csv").write_text(cases, encoding="utf-8")
    (root / "data" / "outcomes.csv").write_text('id,text\na,"x, ""y"""\n', encoding="utf-8")
    (root / "data" / "CHANGELOG.md").write_text(f"## {version}\n", encoding="utf-8")
    (root / "references.bib").write_text("@misc{a2020, title={A}}\n", encoding="utf-8")
    return root


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.iterdir() if p.is_file()}


def test_publish_copies_every_file_and_a_deterministic_zip(tmp_path):
    root = _package(tmp_path / "repo")
    out1, out2 = tmp_path / "site1", tmp_path / "site2"
    written = downloads.publish(root, out1)
    zip_name = "ivig-living-review-data-v1.2.3.zip"
    expected = _expected_files(root)
    assert sorted(written) == sorted([*expected, zip_name])
    for name, source in expected.items():
        assert (out1 / "data" / name).read_bytes() == source.read_bytes(), name
    archive = (out1 / "data" / zip_name).read_bytes()
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        names = zf.namelist()
        assert names == sorted(expected)
        for info in zf.infolist():
            assert info.date_time == downloads.ZIP_TIME
            assert zf.read(info) == expected[info.filename].read_bytes()
    # the same data gives the same bytes, wherever and whenever it is built
    downloads.publish(root, out2)
    assert (out2 / "data" / zip_name).read_bytes() == archive


def test_publish_writes_nothing_when_inputs_are_unchanged(tmp_path):
    root = _package(tmp_path / "repo")
    site = tmp_path / "site"
    downloads.publish(root, site)
    before = _snapshot(site / "data")
    assert downloads.publish(root, site) == []
    assert _snapshot(site / "data") == before


def test_publish_follows_a_data_change_and_a_new_version(tmp_path):
    root = _package(tmp_path / "repo")
    site = tmp_path / "site"
    downloads.publish(root, site)
    _package(root, cases="id,n\na,2\n")
    assert "cases.csv" in downloads.publish(root, site)
    assert (site / "data" / "cases.csv").read_text(encoding="utf-8") == "id,n\na,2\n"
    with zipfile.ZipFile(site / "data" / "ivig-living-review-data-v1.2.3.zip") as zf:
        assert zf.read("cases.csv") == b"id,n\na,2\n"
    _package(root, version="1.3.0", cases="id,n\na,2\n")
    downloads.publish(root, site)
    zips = sorted(p.name for p in (site / "data").glob("*.zip"))
    assert zips == ["ivig-living-review-data-v1.3.0.zip"], "the old version's zip must go"
    # a deleted output file is restored even though the inputs did not change
    (site / "data" / "outcomes.csv").unlink()
    assert downloads.publish(root, site) == ["outcomes.csv"]


def test_csv_name_is_the_caption_slug():
    from livingreview.render import tables

    assert tables.csv_name("Response by report (n = 3)") == "response-by-report-n-3.csv"
    assert tables.csv_name("Sjögren's syndrome") == "sjogren-s-syndrome.csv"
    assert tables.csv_name(None, "t") == "t.csv"
    assert tables.csv_name(None) == "table.csv"


# --- the built site -----------------------------------------------------------------------------------------


@pytest.mark.book
def test_site_publishes_the_data_package(built_site):
    folder = built_site / "data"
    version = _version(ROOT)
    zips = sorted(p.name for p in folder.glob("*.zip"))
    assert zips == [f"ivig-living-review-data-v{version}.zip"]
    expected = _expected_files(ROOT)
    for name, source in expected.items():
        assert (folder / name).is_file(), f"_build/html/data/{name} is missing"
        assert (folder / name).read_bytes() == source.read_bytes(), f"_build/html/data/{name} is stale"
    with zipfile.ZipFile(folder / zips[0]) as zf:
        assert sorted(zf.namelist()) == sorted(expected)
        for name, source in expected.items():
            assert zf.read(name) == source.read_bytes(), f"{name} in the zip is stale"


@pytest.mark.book
@pytest.mark.browser
def test_download_links_resolve_offline(built_site, serve, chromium):
    version = _version(ROOT)
    base = serve(built_site)
    context = chromium.new_context(service_workers="block", accept_downloads=True)
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith(base):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    problems = []
    try:
        page = context.new_page()
        page.route("**/*", route)
        for name in LINK_PAGES:
            page.goto(f"{base}book/{name}.html", wait_until="load")
            links = page.evaluate(
                "() => Array.from(document.querySelectorAll('a.lr-data-link')).map(a => "
                "({href: a.getAttribute('href'), url: a.href, text: a.textContent}))"
            )
            targets = {urlsplit(link["href"]).path.rsplit("/", 1)[-1] for link in links}
            if targets != {f"ivig-living-review-data-v{version}.zip", "datapackage.json"}:
                problems.append(f"{name}: links to {sorted(targets)}")
            for link in links:
                href = link["href"]
                if urlsplit(href).scheme or href.startswith("/"):
                    problems.append(f"{name}: {href} is not relative")
                if version not in link["text"]:
                    problems.append(f"{name}: link text {link['text']!r} lacks v{version}")
                # file://: the relative link resolves to a file of the site
                if not (built_site / "book" / href).resolve().is_file():
                    problems.append(f"{name}: {href} does not exist next to the page")
                status = page.evaluate("url => fetch(url).then(r => r.status)", link["url"])
                if status != 200:
                    problems.append(f"{name}: {link['url']} answered {status}")
    finally:
        context.close()
    assert not blocked, blocked
    assert not problems, "\n".join(problems)


def _table_facts(page) -> list[dict]:
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('table[data-lr-csv]')).map(t => ({
          name: t.getAttribute('data-lr-csv'),
          header: Array.from(t.tHead.rows[0].cells).map(c => c.textContent.replace(/\\s+/g, ' ').trim()),
          rows: Array.from(t.tBodies).reduce((n, b) => n + b.rows.length, 0),
          first: t.tBodies[0] && t.tBodies[0].rows[0] ? Array.from(t.tBodies[0].rows[0].cells).map(c =>
            c.hasAttribute('data-na') ? '' : (c.getAttribute('data-value')
              || c.textContent.replace(/\\s+/g, ' ').trim())) : null,
        }))"""
    )


#: Chromium asks before an 11th download from one page load (automatic-downloads protection); reload first
DOWNLOADS_PER_LOAD = 8


@pytest.mark.book
@pytest.mark.browser
def test_every_chapter_table_downloads_as_csv(built_site, serve, chromium):
    base = serve(built_site)
    context = chromium.new_context(service_workers="block", accept_downloads=True)
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
    problems = []
    n_tables = 0
    try:
        page = context.new_page()
        for name in CHAPTERS:
            page.goto(f"{base}book/{name}.html", wait_until="load")
            page.wait_for_load_state("networkidle")
            facts = _table_facts(page)
            buttons = page.locator("button.lr-csv")
            if buttons.count() != len(facts) or not facts:
                problems.append(f"{name}: {len(facts)} tables but {buttons.count()} download buttons")
                continue
            for i, fact in enumerate(facts):
                n_tables += 1
                if i and i % DOWNLOADS_PER_LOAD == 0:  # Chromium blocks a page's downloads after ten
                    page.goto(f"{base}book/{name}.html", wait_until="load")
                    page.wait_for_load_state("networkidle")
                with page.expect_download() as info:
                    if i == 0:  # keyboard: focus and Enter
                        buttons.nth(i).focus()
                        page.keyboard.press("Enter")
                    else:
                        buttons.nth(i).click()
                download = info.value
                if download.suggested_filename != fact["name"]:
                    problems.append(f"{name}: file {download.suggested_filename}, expected {fact['name']}")
                text = Path(download.path()).read_text(encoding="utf-8")
                rows = list(csv.reader(io.StringIO(text, newline="")))
                if rows[0] != fact["header"]:
                    problems.append(f"{name}/{fact['name']}: header {rows[0]} != {fact['header']}")
                if len(rows) - 1 != fact["rows"]:
                    problems.append(f"{name}/{fact['name']}: {len(rows) - 1} rows, table has {fact['rows']}")
                if fact["first"] is not None and rows[1] != fact["first"]:
                    problems.append(f"{name}/{fact['name']}: first row {rows[1]} != {fact['first']}")
            page.emulate_media(media="print")
            if buttons.first.is_visible():
                problems.append(f"{name}: the download button shows in print")
            page.emulate_media(media="screen")
    finally:
        context.close()
    assert n_tables > 0
    assert not problems, "\n".join(problems)
