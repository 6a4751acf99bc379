"""Text from the data or the bib is shown literally, never interpreted: tables, figure captions, tooltips
and chart specs escape it. Unit tests of the rendering helpers, then a built copy of the book with a case
group whose notes/subtype/regimen_text carry ``<script>`` and ``<img onerror>`` payloads, opened in
Chromium."""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest

from conftest import XSS_IMG, XSS_SCRIPT, all_pages, visit
from livingreview.render import charts, citations, tables

PAYLOADS = [XSS_SCRIPT, XSS_IMG, "</script><script>alert(1)</script>", "<!--", "a & b", "line\u2028sep"]


# --- unit: tables -------------------------------------------------------------------------------------------


def test_table_escapes_cells_headers_caption_and_links():
    frame = pd.DataFrame(
        {
            "source": ["singh2020", XSS_IMG],
            "notes<b>": [XSS_SCRIPT, pd.NA],
            "n": pd.array([3, None], dtype="Int64"),
        }
    )
    out = tables.show(frame, caption=XSS_SCRIPT, link_column="source")._repr_html_()
    assert "<script>" not in out and "<img" not in out and "<b>" not in out
    assert html.escape(XSS_SCRIPT) in out
    assert "notes&lt;b&gt;" in out
    assert 'href="bibliography.html#cite-singh2020"' in out
    assert (
        'href="bibliography.html#cite-%3Cimg%20src%3Dx' in out
    )  # quoted in the URL, escaped in the attribute


def test_table_missing_values_and_numbers():
    frame = pd.DataFrame(
        {
            "i": pd.array([1, None, 12000], dtype="Int64"),
            "f": pd.array([4.4, None, 0.83333], dtype="Float64"),
            "g": [float("nan"), 1069.0, 2.0],
            "s": pd.array(["x", None, "y"], dtype="string"),
            "o": [None, "z", pd.NA],
        }
    )
    out = tables.show(frame)._repr_html_()
    cells = re.findall(r"<td[^>]*>(.*?)</td>", out)
    assert cells == ["1", "4.4", "—", "x", "—", "—", "—", "1069", "—", "z", "12,000", "0.833", "2", "y", "—"]
    assert not re.search(r">\s*(nan|NaN|<NA>|&lt;NA&gt;|None)\s*<", out)
    assert 'data-value="12000.0"' in out and "lr-sortable" in out
    assert "lr-sortable" not in tables.show(frame, sortable=False)._repr_html_()


def test_table_formats_override():
    frame = pd.DataFrame({"p": [0.5, None]})
    out = tables.show(frame, formats={"p": "{:.0%}"})._repr_html_()
    assert ">50%<" in out and ">—<" in out


# --- unit: charts -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_figure_json_cannot_close_its_script_tag(payload):
    fig = charts.show({"data": {"values": [{"t": payload}]}, "mark": "point", "title": payload}, payload)
    out = fig._repr_html_()
    script = re.search(r'<script type="application/json" class="lr-spec">(.*?)</script>', out, re.S)
    assert script, out
    body = script.group(1)
    assert "<" not in body and ">" not in body and "&" not in body and "\u2028" not in body
    assert json.loads(body)["data"]["values"][0]["t"] == payload  # the data survive unchanged
    caption = re.search(r"<figcaption[^>]*>(.*?)</figcaption>", out, re.S).group(1)
    assert "<script" not in caption and "<img" not in caption and "<!--" not in caption
    assert html.escape(payload.strip()) in caption
    assert out.count("</script>") == 1


def test_figure_needs_a_description():
    with pytest.raises(ValueError):
        charts.show({"mark": "point"}, "  ")


def test_bare_altair_chart_warns_and_renders_offline():
    import altair as alt

    chart = alt.Chart(pd.DataFrame({"x": [1]})).mark_point().encode(x="x:Q")
    with pytest.warns(UserWarning, match="without livingreview.render.charts.show"):
        bundle = chart._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "lr-figure" in bundle["text/html"]
    assert "cdn.jsdelivr" not in bundle["text/html"] and "vegaEmbed(" not in bundle["text/html"]


# --- unit: citations ----------------------------------------------------------------------------------------


def test_reference_is_escaped(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "references.bib").write_text(
        "@article{evil2020,\n  author = {<script>window.__pwned=1</script>, A. and Doe, J.},\n"
        '  title = {Title <img src=x onerror="window.__pwned=1">},\n  journal = {J & K},\n  year = {2020},\n'
        '  doi = {10.1000/x"onmouseover=alert(1)}\n}\n',
        encoding="utf-8",
    )
    out = citations.format_reference("evil2020", tmp_path)
    assert "<script" not in out and "<img" not in out and "J &amp; K" in out
    assert '"onmouseover' not in out
    assert citations.label("evil2020", tmp_path).endswith("Doe 2020")  # plain text: escaped where shown
    shown = citations.show(["evil2020"], tmp_path)._repr_html_()
    assert "<script" not in shown


def test_format_reference_fields():
    from conftest import ROOT

    out = citations.format_reference("singh2020", ROOT)
    assert "Singh H" in out and "2020" in out and "<em>Indian Dermatology Online Journal</em>" in out
    assert "11(6):1003–1004" in out
    assert 'href="https://doi.org/10.4103/idoj.IDOJ_82_20"' in out
    assert citations.href("singh2020") == "bibliography.html#cite-singh2020"


# --- built copy with payloads in the data -------------------------------------------------------------------


def _payload_pages(mutated_book) -> list[str]:
    disease = mutated_book.xss_case["disease"]
    return [f"book/{disease.lower()}"]


@pytest.mark.book
def test_payloads_are_shown_literally_in_the_html(mutated_book):
    for path in all_pages(mutated_book.site):
        text = path.read_text(encoding="utf-8")
        assert XSS_SCRIPT not in text, f"raw <script> payload in {path}"
        assert XSS_IMG not in text, f"raw <img> payload in {path}"
        assert 'onerror="window.__pwned' not in text
    for docname in _payload_pages(mutated_book):
        text = mutated_book.html(docname)
        assert html.escape(XSS_SCRIPT) in text, f"{docname} does not show the payload text"
        assert html.escape(XSS_IMG) in text, f"{docname} does not show the payload text"


@pytest.mark.book
@pytest.mark.browser
def test_payloads_do_not_run_in_the_browser(mutated_book, chromium, serve):
    base = serve(mutated_book.site)
    shown_on = set()
    for path in all_pages(mutated_book.site):
        rel = path.relative_to(mutated_book.site).as_posix()
        report = visit(chromium, base + rel, base)
        assert report.pwned is None, f"payload executed on {rel}"
        assert not report.page_errors, f"{rel}: {report.page_errors}"
        if rel.removesuffix(".html") in _payload_pages(mutated_book):
            assert XSS_SCRIPT in report.text, f"{rel} does not show the payload literally"
            assert all(f["state"] == "1" for f in report.figures), report.figures
            shown_on.add(rel.removesuffix(".html"))
    assert shown_on == set(_payload_pages(mutated_book))
