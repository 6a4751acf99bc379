"""Content-fingerprint scoping of re-execution (livingreview.book.sphinx): which pages a change re-executes.

Fast unit tests (no build): the scope inferred from page sources, the front matter override, the fingerprint
(what changes it and what does not), and the soundness of the scopes against the code of
``livingreview.book.chapter``: every output of a chapter is unchanged when only data outside its scope changes.

Book tests (``book`` marker): one copy of the repository, built cold once (module fixture), then changed and
rebuilt step by step; each step checks which pages were re-read/executed and that the new values appear:
(2) one SjS case group, (3) a data release (version bump + changelog entry), (4) a change in
src/livingreview/*.py. Step (1), one LV case group, is ``test_stale.py`` on the ``mutated_book`` fixture.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT, copy_repo, executed_docs, make_book, reread_docs, toc_pages
from livingreview.book.sphinx import ALL, Scope, Snapshot, infer_scope, uses_data
from livingreview.datapkg.frames import DISEASES

FRONT = (
    "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
    "kernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n{extra}---\n"
)


def page(code: str, extra: str = "", prose: str = "") -> str:
    return FRONT.format(extra=extra) + f"\n# Page\n\n```{{code-cell}} ipython3\n{code}\n```\n\n{prose}\n"


def notebook(code: str, metadata: dict | None = None) -> str:
    cells = [{"cell_type": "code", "source": code.splitlines(keepends=True), "metadata": {}, "outputs": []}]
    return json.dumps({"cells": cells, "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5})


# --- scope inference -----------------------------------------------------------------------------------


def test_book_pages_scopes():
    scopes = {
        p.stem: infer_scope(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "book").glob("*.md"))
    }
    for disease in DISEASES:
        scope = scopes[disease.lower()]
        assert scope.diseases == {disease} and not scope.version, (disease, scope)
    assert not any(scopes[d.lower()].accumulation for d in DISEASES)  # each plots its own disease only
    # the selection pages read the whole ledger (livingreview.book.selection is not a scoped import)
    for name in ("index", "synthesis", "methods", "whats-new"):
        assert scopes[name].everything and scopes[name].version, name
    for name in ("bibliography", "contributing", "status", "_disclaimer"):
        assert scopes[name] is None, name


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('from livingreview.book.chapter import Chapter\nch = Chapter("SjS")', Scope(frozenset({"SjS"}))),
        (
            "from livingreview.book.chapter import Chapter\nChapter('LV').glue()\nChapter('CLE', data=None)",
            Scope(frozenset({"LV", "CLE"})),
        ),
        ("from livingreview.book.chapter import Review\nReview().glue()", ALL),
        (
            'from livingreview.book.chapter import Chapter\nch = Chapter("SSc")\nch.before_after_chart("k2020")',
            Scope(frozenset({"SSc"}), sources=frozenset({"k2020"})),
        ),
        (
            'from livingreview.book.chapter import Chapter\nch = Chapter("LV")\nch.accumulation_chart()',
            Scope(frozenset({"LV"}), accumulation=True),
        ),
        # what the rules cannot see through: everything
        ("from livingreview.book.chapter import Chapter\nfor d in ['LV']:\n    Chapter(d)", ALL),
        ('from livingreview.book.chapter import Chapter\nChapter("XX")', ALL),
        ('from livingreview.book.chapter import Chapter\nch = Chapter("LV")\nch.data.cases', ALL),
        ('from livingreview.book.chapter import Chapter, Data\nChapter("LV")', ALL),
        ('from livingreview.datapkg.frames import load_cases\nload_cases(".")', ALL),
        ("import livingreview", ALL),
        ("from livingreview.book.chapter import Review as R\nR()", ALL),
        ('from livingreview.book.chapter import Chapter\nC = Chapter\nC("LV")', ALL),
        ("from livingreview.book.chapter import (\n    Chapter,\n)\nChapter('LV')", ALL),
        (
            'from livingreview.book.chapter import Chapter\nch = Chapter("SSc")\nch.before_after_chart(key)',
            ALL,
        ),
    ],
)
def test_inferred_scope(code, expected):
    assert infer_scope(page(code)) == expected


def test_version_mentions():
    code = 'from livingreview.book.chapter import Chapter\nChapter("LCV").glue()'
    assert not infer_scope(page(code)).version
    assert infer_scope(page(code, prose="Data {glue:text}`lcv_data_version`.")).version
    assert infer_scope(page(code, prose="Data {{ data_created }}.")).version
    plain = "# What's new\n\nThis edition shows data version {{ data_version }}.\n"
    assert infer_scope(plain) == Scope(frozenset(), version=True)
    assert not uses_data(plain)  # scoped, but executes nothing
    assert infer_scope("# Plain page\n\nNo data here.\n") is None


def test_front_matter_override():
    code = 'from livingreview.datapkg.frames import load_cases\nload_cases(".")'  # inferred: everything
    scope = infer_scope(page(code, extra="livingreview:\n  diseases: [LV, SjS]\n"))
    assert scope == Scope(frozenset({"LV", "SjS"}))
    scope = infer_scope(page(code, extra="livingreview:\n  diseases: [LV]\n  version: true\n"))
    assert scope == Scope(frozenset({"LV"}), version=True)
    assert infer_scope(page("x = 1", extra="livingreview: all\n")) == ALL
    assert infer_scope(page("x = 1", extra="livingreview: data\n")) == ALL
    assert uses_data(page("x = 1", extra="livingreview: all\n"))
    warnings = []
    scope = infer_scope(page("x = 1", extra="livingreview:\n  diseases: [LV, XX]\n"), warn=warnings.append)
    assert scope.everything and scope.version and warnings


def test_notebook_sources():
    nb = notebook('from livingreview.book.chapter import Chapter\nch = Chapter("CLE")\n')
    assert uses_data(nb, notebook=True)
    assert infer_scope(nb, notebook=True) == Scope(frozenset({"CLE"}))
    nb = notebook("import pandas\n", metadata={"livingreview": {"diseases": ["SSc"]}})
    assert infer_scope(nb, notebook=True) == Scope(frozenset({"SSc"}))
    assert infer_scope(notebook("import pandas\n"), notebook=True) is None


# --- fingerprints ---------------------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    dest = tmp_path / "repo"
    (dest / "src").mkdir(parents=True)
    shutil.copytree(ROOT / "src" / "livingreview", dest / "src" / "livingreview")
    shutil.copytree(ROOT / "data", dest / "data")
    shutil.copy(ROOT / "references.bib", dest / "references.bib")
    shutil.copy(ROOT / "CITATION.cff", dest / "CITATION.cff")
    return dest


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write(
    path: Path, fields: list[str], rows: list[dict[str, str]], quoting: int = csv.QUOTE_MINIMAL
) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n", quoting=quoting)
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


SCOPES = {
    "lcv": Scope(frozenset({"LCV"})),
    "cle": Scope(frozenset({"CLE"})),
    "lv": Scope(frozenset({"LV"}), accumulation=True),
    "ssc": Scope(frozenset({"SSc"}), sources=frozenset({"sanges2017"})),
    "sjs": Scope(frozenset({"SjS"})),
    "methods": Scope(frozenset({"LV"}), version=True),
    "index": ALL,
    "whats-new": Scope(frozenset(), version=True),
}


def _changed(root: Path, before: dict[str, str]) -> set[str]:
    snap = Snapshot(root)
    return {name for name, scope in SCOPES.items() if snap.fingerprint(scope) != before[name]}


def _prints(root: Path) -> dict[str, str]:
    snap = Snapshot(root)
    return {name: snap.fingerprint(scope) for name, scope in SCOPES.items()}


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


def _edit_case(root: Path, disease: str, column: str, value=None) -> None:
    path = root / "data" / "cases.csv"
    fields, rows = _rows(path)
    row = next(r for r in rows if r["disease"] == disease)
    row[column] = value if value is not None else str(int(row[column] or 0) + 1)
    _write(path, fields, rows)


def test_fingerprint_scoped_by_disease(repo):
    before = _prints(repo)
    _edit_case(repo, "SjS", "n_improved")
    assert _changed(repo, before) == {"sjs", "index"}
    before = _prints(repo)
    _edit_case(repo, "SjS", "n_patients")  # the LV chapter's accumulation chart counts every patient
    assert _changed(repo, before) == {"sjs", "index", "lv"}
    before = _prints(repo)
    _edit_case(repo, "LV", "notes", "a new note")
    assert _changed(repo, before) == {"lv", "methods", "index"}


def test_fingerprint_outcomes_and_claims(repo):
    before = _prints(repo)
    fields, rows = _rows(repo / "data" / "outcomes.csv")
    next(r for r in rows if r["source"] == "sanges2017")["notes"] += " changed"
    _write(repo / "data" / "outcomes.csv", fields, rows)
    assert _changed(repo, before) == {"ssc", "index"}
    before = _prints(repo)
    fields, rows = _rows(repo / "data" / "claims.csv")
    next(r for r in rows if r["source"] == "gao2022")["notes"] += " changed"  # a claim of the LV review
    _write(repo / "data" / "claims.csv", fields, rows)
    assert _changed(repo, before) == {"lv", "methods", "index"}


def test_fingerprint_version_schema_code_bib(repo):
    before = _prints(repo)
    path = repo / "data" / "datapackage.json"
    package = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**package, "version": "9.9.9"}, indent=2), encoding="utf-8")
    assert _changed(repo, before) == {"methods", "index", "whats-new"}
    before = _prints(repo)
    _append(repo / "data" / "CHANGELOG.md", "\nmore\n")
    assert _changed(repo, before) == {"methods", "index", "whats-new"}
    before = _prints(repo)
    _append(repo / "CITATION.cff", "\n# the landing page's citation line comes from here\n")
    assert _changed(repo, before) == {"methods", "index", "whats-new"}
    before = _prints(repo)
    package["resources"][0]["schema"]["fields"][0]["description"] += " (edited)"
    path.write_text(json.dumps(package, indent=2), encoding="utf-8")
    assert _changed(repo, before) == set(SCOPES)
    for change in (
        lambda: _append(repo / "src" / "livingreview" / "stats.py", "\n# comment\n"),
        lambda: (repo / "src" / "livingreview" / "new_module.py").write_text("X = 1\n"),
        # a module in a subpackage counts as much as one at the top
        lambda: (
            (repo / "src" / "livingreview" / "layer").mkdir()
            or (repo / "src" / "livingreview" / "layer" / "__init__.py").write_text("")
        ),
        lambda: (repo / "src" / "livingreview" / "layer" / "__init__.py").write_text("Y = 2\n"),
        lambda: _append(repo / "references.bib", "\n"),
        lambda: (repo / "data" / "extra.txt").write_text("new file\n"),
    ):
        before = _prints(repo)
        change()
        assert _changed(repo, before) == set(SCOPES)


def test_fingerprint_ignores_formatting_and_falls_back_when_unparsable(repo):
    before = _prints(repo)
    path = repo / "data" / "cases.csv"
    fields, rows = _rows(path)
    _write(path, fields, rows, quoting=csv.QUOTE_ALL)  # same rows, other quoting
    path.write_text(path.read_text(encoding="utf-8").replace("\n", "\r\n"), encoding="utf-8", newline="")
    assert _changed(repo, before) == set()
    with path.open("a", encoding="utf-8") as fh:
        fh.write("a,ragged,row\n")
    assert _changed(repo, before) == set(SCOPES)
    broken = _prints(repo)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("another\n")  # any further byte of a broken table changes every page again
    assert _changed(repo, broken) == set(SCOPES)


# --- soundness against livingreview.book.chapter -----------------------------------------------------------------


def _outputs(chapter) -> dict[str, str]:
    """Every output a chapter page can show, as text."""
    out = {"numbers": repr(sorted((k, str(v)) for k, v in chapter.numbers().items()))}
    methods = [
        "reports_table", "regimen_table", "response_table", "safety_table", "steroid_table", "outcomes_table",
        "subgroup_table", "sensitivity_table", "claims_table", "references", "forest_chart",
        "cumulative_chart", "regimen_chart", "timeline_chart", "subtype_chart", "trials_table",
        "before_after_charts",
    ]  # fmt: skip
    for name in methods:
        try:
            value = getattr(chapter, name)()
        except Exception as exc:
            out[name] = f"error {type(exc).__name__}: {exc}"
            continue
        out[name] = value._repr_html_() if hasattr(value, "_repr_html_") else repr(value)
    for source in sorted(set(chapter.cases["source"])):
        try:
            out[f"before_after {source}"] = chapter.before_after_chart(source)._repr_html_()
        except Exception as exc:
            out[f"before_after {source}"] = f"error {type(exc).__name__}: {exc}"
    return out


def _perturb(frame: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    """Every count, year and text of the rows in ``mask`` changed (keys kept)."""
    frame = frame.copy()
    keys = {"case_id", "claim_id", "outcome_id", "disease", "source", "via"}
    for col in frame.columns:
        if col in keys or not mask.any():
            continue
        if pd.api.types.is_numeric_dtype(frame[col]):
            frame.loc[mask, col] = frame.loc[mask, col] + 1
        else:
            frame.loc[mask, col] = frame.loc[mask, col].fillna("") + " perturbed"
    return frame


@pytest.mark.parametrize("disease", DISEASES)
def test_chapter_outputs_depend_only_on_rows_in_scope(disease):
    """The scope rules match livingreview.book.chapter: perturbing every row outside a chapter's scope leaves every
    output of the chapter unchanged."""
    from livingreview.book.chapter import Chapter, Data

    data = Data.load(ROOT)
    mine = data.cases["disease"] == disease
    keys = set(data.cases.loc[mine, "source"]) | set(data.cases.loc[mine, "via"].dropna())
    in_scope = mine | data.cases["source"].isin(keys) | data.cases["via"].isin(keys)
    reports = set(data.cases.loc[in_scope, "source"])
    cases = _perturb(data.cases, ~in_scope)
    other = replace(
        data,
        cases=cases,
        outcomes=_perturb(data.outcomes, ~data.outcomes["source"].isin(reports)),
        claims=_perturb(data.claims, ~data.claims["source"].isin(keys)),
    )
    assert _outputs(Chapter(disease, data)) == _outputs(Chapter(disease, other))
    # not vacuous: perturbing the chapter's own rows does change what it shows
    own = replace(data, cases=_perturb(data.cases, mine))
    assert Chapter(disease, data).numbers() != Chapter(disease, own).numbers()


def test_accumulation_chart_reads_only_its_columns():
    from livingreview.book.chapter import Data, Review

    data = Data.load(ROOT)
    everything = pd.Series(True, index=data.cases.index)
    cases = _perturb(data.cases, everything)
    for col in ("disease", "source", "year", "n_patients"):
        cases[col] = data.cases[col]
    changed = replace(data, cases=cases)
    assert (
        Review(data).accumulation_chart()._repr_html_() == Review(changed).accumulation_chart()._repr_html_()
    )


# --- book builds ----------------------------------------------------------------------------------------


@dataclass
class Step:
    log: str
    reread: set[str]
    executed: set[str]


@dataclass
class ScopedBook:
    root: Path
    steps: dict[str, Step]

    def html(self, docname: str) -> str:
        return (self.root / "_build" / "html" / f"{docname}.html").read_text(encoding="utf-8")


def _text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture(scope="module")
def scoped_book(tmp_path_factory: pytest.TempPathFactory) -> ScopedBook:
    root = copy_repo(tmp_path_factory.mktemp("scoped-book") / "repo")
    make_book(root)
    book = ScopedBook(root, {})

    def step(name: str) -> None:
        log = make_book(root)
        book.steps[name] = Step(log, reread_docs(log), executed_docs(log))

    # (2) one SjS case group: n_improved + 1, n_stable - 1 (patients, responders unchanged)
    path = root / "data" / "cases.csv"
    fields, rows = _rows(path)
    row = next(r for r in rows if r["disease"] == "SjS" and r["n_stable"] and int(r["n_stable"]) > 0)
    row["n_improved"] = str(int(row["n_improved"] or 0) + 1)
    row["n_stable"] = str(int(row["n_stable"]) - 1)
    _write(path, fields, rows)
    book.sjs_row = dict(row)
    step("sjs")

    # (3) a data release: version bump and a changelog entry
    desc = root / "data" / "datapackage.json"
    package = json.loads(desc.read_text(encoding="utf-8"))
    major, minor, patch = map(int, package["version"].split("."))
    book.version = f"{major}.{minor}.{patch + 1}"
    desc.write_text(
        desc.read_text(encoding="utf-8").replace(
            f'"version": "{package["version"]}"', f'"version": "{book.version}"'
        ),
        encoding="utf-8",
    )
    changelog = root / "data" / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8")
    first = text.index("\n## ")
    entry = f"\n## {book.version} — 2027-01-15\n\n- Corrected one Sjögren outcome (scoping test).\n"
    changelog.write_text(text[:first] + entry + text[first:], encoding="utf-8")
    step("release")

    # (4) a change in the code (a comment) re-executes every data page
    with (root / "src" / "livingreview" / "stats.py").open("a", encoding="utf-8") as fh:
        fh.write("\n# scoping test: a code change\n")
    step("code")
    return book


book_test = pytest.mark.book


@book_test
def test_sjs_row_reexecutes_sjs_and_review_pages_only(scoped_book):
    step = scoped_book.steps["sjs"]
    expected = {"book/sjs", "book/index", "book/synthesis", "book/methods", "book/whats-new"}
    assert step.reread == expected, step.log[-3000:]
    assert step.executed == expected
    # the new numbers appear: the page shows the response table computed from the changed data
    from livingreview.book.chapter import Chapter, Data

    table = Chapter("SjS", Data.load(scoped_book.root)).response_table()._repr_html_()
    assert table in scoped_book.html("book/sjs")
    assert f'data-value="{float(scoped_book.sjs_row["n_improved"])!r}"' in table


@book_test
def test_release_rereads_version_pages_only(scoped_book):
    step = scoped_book.steps["release"]
    version = scoped_book.version
    assert {"book/index", "book/whats-new"} <= step.reread, step.log[-3000:]
    assert step.reread <= {"book/index", "book/synthesis", "book/methods", "book/whats-new"}, step.reread
    chapters = {f"book/{d.lower()}" for d in DISEASES}
    assert not (step.reread & chapters) and not (step.executed & chapters), step.reread
    for docname in ("book/index", "book/whats-new"):
        assert version in _text(scoped_book.html(docname)), docname
    assert "2027-01-15" in _text(scoped_book.html("book/whats-new"))
    assert "2027-01-15" in _text(scoped_book.html("book/index"))
    # every page is rewritten (rebuild="html" title), so every title shows the new version
    for docname in toc_pages(scoped_book.root):
        title = re.search(r"<title>(.*?)</title>", scoped_book.html(docname), re.S).group(1)
        assert f"data v{version}" in title, (docname, title)


@book_test
def test_code_change_reexecutes_every_data_page(scoped_book):
    from conftest import data_pages

    step = scoped_book.steps["code"]
    pages = data_pages(scoped_book.root)
    assert pages and pages <= step.executed, sorted(pages - step.executed)
    assert step.executed <= pages
