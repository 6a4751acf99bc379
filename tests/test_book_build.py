"""The book builds with `make book` (-n -W --keep-going) and the result is self-contained: every page of the
TOC, the data version in the title, no CDN, the Vega bundle served once from _static, charts from
aggregated data, tables without 'nan', bibliography anchors that exist.

The first tests need no build (chart builders on synthetic data of any size)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, all_pages, chart_specs, data_pages, toc_pages
from livingreview.datapkg.frames import DISEASES, load_cases, load_outcomes
from livingreview.render import charts

CDNS = (
    "cdn.jsdelivr",
    "unpkg.com",
    "cdnjs",
    "fonts.googleapis",
    "fonts.gstatic",
    "code.jquery",
    "require.js",
)
MAX_PAGE_BYTES = 300_000


# --- chart builders (no build) ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cases() -> pd.DataFrame:
    return load_cases(ROOT)


def _big_cases(cases: pd.DataFrame, n: int) -> pd.DataFrame:
    """``n`` case groups: the real ones repeated under new report keys (1 report per 3 groups)."""
    reps = -(-n // len(cases))
    frames = []
    for i in range(reps):
        f = cases.copy()
        f["source"] = f["source"] + pd.Series([f"x{i}"] * len(f), dtype="string")
        f["case_id"] = f["case_id"] + f"-{i}"
        f["year"] = (f["year"] + i % 5).astype("Int64")
        frames.append(f)
    big = pd.concat(frames, ignore_index=True).head(n)
    rng = np.random.default_rng(0)
    big["dose_g_kg_min"] = pd.array(rng.choice([0.4, 1, 1.5, 2], size=len(big)), dtype="Float64")
    big["dose_g_kg_max"] = big["dose_g_kg_min"] + pd.array(
        rng.choice([0, 0.1], size=len(big)), dtype="Float64"
    )
    return big


def test_builders_return_figures_with_title_and_description(cases):
    outcomes = load_outcomes(ROOT)
    figures = [
        charts.regimens(cases),
        charts.accumulation(cases),
    ]
    paired = outcomes[outcomes["timepoint"] == "after"]["source"]
    figures += [charts.before_after(outcomes, source) for source in sorted(set(paired))]
    figures += [charts.regimens(cases, d) for d in DISEASES]
    figures.append(charts.subtypes(cases, "SjS"))
    for fig in figures:
        assert isinstance(fig, charts.Figure)
        assert (
            fig.title
            and fig.description
            and fig.spec.get("$schema", "").startswith("https://vega.github.io/")
        )
        out = fig._repr_html_()
        assert out.startswith('<figure class="lr-figure"') and "<figcaption" in out
        assert "vegaEmbed" not in out and "cdn.jsdelivr" not in out


@pytest.mark.parametrize("n", [6_000, 30_000])
def test_no_max_rows_error_at_any_size(cases, n):
    big = _big_cases(cases, n)
    fig = charts.regimens(big)  # aggregates to one row per regimen
    assert charts.spec_rows(fig.spec) <= charts.MAX_ROWS
    fig = charts.accumulation(big)
    assert charts.spec_rows(fig.spec) <= charts.MAX_ROWS
    fig = charts.subtypes(big, "SjS")
    assert charts.spec_rows(fig.spec) <= charts.MAX_ROWS


def test_per_report_chart_refuses_clearly_when_too_many_reports(cases):
    # one row per report (the forest plot) cannot be aggregated: a clear error, never Altair's MaxRowsError
    from livingreview.evidence import analyses
    from livingreview.evidence.reports import report_table
    from livingreview.render import forest

    reports = report_table(_big_cases(cases.query("disease == 'LV'"), 10 * charts.MAX_ROWS))
    per_report = analyses.with_exact_intervals(reports)
    assert len(per_report) > charts.MAX_ROWS
    pooled = analyses.crude_response(reports)
    with pytest.raises(charts.TooManyRows):
        charts.show(
            forest.forest_chart(forest.forest_rows(per_report, pooled)), "forest plot of every report"
        )


def test_show_refuses_raw_rows_but_accepts_any_altair_chart():
    import altair as alt

    raw = pd.DataFrame({"x": range(charts.MAX_ROWS + 1)})
    with pytest.raises(charts.TooManyRows):
        charts.show(alt.Chart(raw).mark_point().encode(x="x:Q"), "too many")
    small = pd.DataFrame({"x": [1, 2], "y": [3, 4]})
    base = alt.Chart(small).mark_point().encode(x="x:Q", y="y:Q")
    for chart in (base, base + base, base | base, base & base, base.facet("x:N")):
        fig = charts.show(chart, "a chart")
        assert fig.spec and "lr-figure" in fig._repr_html_()


def test_regimens_aggregate_to_one_point_per_report_and_regimen(cases):
    fig = charts.regimens(cases, "LV")
    (rows,) = [v for v in fig.spec["datasets"].values()]
    lv = cases[
        (cases["disease"] == "LV") & cases["dose_g_kg_min"].notna() & cases["days_per_cycle_min"].notna()
    ]
    assert sum(r["patients"] for r in rows) == int(lv["n_patients"].sum())
    assert len(rows) <= len(lv)
    assert {"report", "patients", "dose_lo", "dose_hi", "days_lo", "days_hi"} <= set(rows[0])


# --- the built book -----------------------------------------------------------------------------------------

book = pytest.mark.book


@book
def test_every_toc_page_is_built(built_site):
    for docname in toc_pages():
        assert (built_site / f"{docname}.html").is_file(), docname


@book
def test_title_is_living_and_shows_data_version(built_site):
    version = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    for docname in toc_pages():
        page = (built_site / f"{docname}.html").read_text(encoding="utf-8")
        title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
        assert "living review" in title.lower(), title
        assert f"data v{version}" in title, title


@book
def test_only_book_pages_are_sources(built_site):
    built = {p.relative_to(built_site).as_posix() for p in all_pages(built_site)}
    expected = {f"{d}.html" for d in toc_pages()} | {"index.html", "genindex.html", "search.html"}
    assert built == expected, sorted(built ^ expected)


@book
def test_nothing_is_loaded_from_the_internet(built_site):
    for path in built_site.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".js", ".css", ".json", ".txt"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            for cdn in CDNS:
                assert cdn not in text, f"{cdn} in {path.relative_to(built_site)}"
    for path in all_pages(built_site):
        text = path.read_text(encoding="utf-8")
        remote = re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="((?:https?:)?//[^"]+)"', text)
        remote = [u for u in remote if not re.search(r'rel="(?:canonical|author)"', u)]
        assert not [u for u in remote if re.search(r"\.(?:m?js|css)(?:\?|$)", u)], (path, remote)


@book
def test_vega_bundle_is_served_once_and_only_where_needed(built_site):
    bundle = built_site / "_static" / "vega-bundle.js"
    assert bundle.is_file() and bundle.stat().st_size > 100_000
    assert "window.vegaEmbed" in bundle.read_text(encoding="utf-8")
    for path in all_pages(built_site):
        text = path.read_text(encoding="utf-8")
        has_chart = 'class="lr-figure"' in text
        assert ("_static/vega-bundle.js" in text) == has_chart, path
        assert ("livingreview-charts.js" in text) == has_chart, path
        assert "window.vegaEmbed=" not in text and "vega-embed@" not in text, f"inlined Vega in {path}"
        assert 'id="altair-viz' not in text, f"Altair's HTML renderer was used in {path}"


@book
def test_chapter_pages_are_small(built_site):
    for docname in toc_pages():
        size = (built_site / f"{docname}.html").stat().st_size
        assert size <= MAX_PAGE_BYTES, f"{docname}.html is {size} bytes"


@book
def test_figures_are_well_formed(built_site):
    n_figures = 0
    for path in all_pages(built_site):
        text = path.read_text(encoding="utf-8")
        figures = re.findall(r'<figure class="lr-figure".*?</figure>', text, re.S)
        specs = chart_specs(text)
        assert len(figures) == len(specs), path
        n_figures += len(figures)
        for fig, spec in zip(figures, specs, strict=True):
            assert re.search(r"<figcaption[^>]*>.+</figcaption>", fig, re.S), path
            assert spec.get("description"), path
            for values in (spec.get("datasets") or {}).values():
                assert len(values) <= charts.MAX_ROWS
    chapters = [d.lower() for d in DISEASES]
    assert n_figures >= len(chapters), "every disease chapter has at least one chart"


@book
def test_tables_show_no_nan(built_site):
    for path in all_pages(built_site):
        text = path.read_text(encoding="utf-8")
        for table in re.findall(r'<table class="lr-table.*?</table>', text, re.S):
            cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", table, re.S)
            bad = [c for c in cells if re.fullmatch(r"\s*(nan|NaN|<NA>|&lt;NA&gt;|None|NaT)\s*", c)]
            assert not bad, (path, bad)


@book
def test_bibliography_links_resolve(built_site):
    bib = (built_site / "book" / "bibliography.html").read_text(encoding="utf-8")
    anchors = set(re.findall(r'id="(cite-[^"]+)"', bib))
    assert anchors, "bibtex_cite_id should give bibliography entries stable cite-<key> ids"
    for path in all_pages(built_site):
        text = path.read_text(encoding="utf-8")
        for target in re.findall(r'href="bibliography\.html#(cite-[^"]+)"', text):
            assert target in anchors, (path, target)


@book
def test_status_page_has_execution_table(built_site):
    status = (built_site / "book" / "status.html").read_text(encoding="utf-8")
    assert "<table" in status and "Run Time" in status
    for docname in data_pages():
        assert f">{docname}<" in status, docname


@book
def test_data_version_substitution(built_site):
    """``{{ data_version }}`` is substituted (never left raw) and the version shows in the page header."""
    version = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    for path in all_pages(built_site):
        text = path.read_text(encoding="utf-8")
        assert "{{ data_version }}" not in text and "{{data_version}}" not in text, path
    index = (built_site / "book" / "index.html").read_text(encoding="utf-8")
    assert version in re.sub(r"<title>.*?</title>", "", index, flags=re.S)


def test_chart_spec_json_of_real_data_round_trips(cases):
    fig = charts.regimens(cases)
    assert json.loads(fig.to_json()) == json.loads(json.dumps(fig.spec))
