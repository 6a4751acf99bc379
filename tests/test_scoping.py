"""Which pages a change re-executes (livingreview.book.sphinx.freshness), from what each page read.

Fast unit tests (no build): the reads a page records (``livingreview.datapkg.reads``), the fingerprint of
those reads (what changes it and what does not), and soundness: every output of a chapter is unchanged when
every row its reads do not cover is changed, so a page is never stale.

Book tests (``book`` marker): one copy of the repository, built cold once (module fixture), then changed and
rebuilt step by step; each step checks which pages were re-read/executed and that the new values appear:
(2) one SjS case group, (3) a data release (version bump + changelog entry), (4) a change in a module of a
subpackage. Step (1), one LV case group, is ``test_stale.py`` on the ``mutated_book`` fixture.
"""

from __future__ import annotations

import csv
import dataclasses
import inspect
import io
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT, copy_repo, executed_docs, make_book, reread_docs, toc_pages
from livingreview.book import Chapter, Review
from livingreview.book.sphinx.freshness import Snapshot
from livingreview.datapkg.frames import DISEASES, Data
from livingreview.datapkg.reads import Reads, recording

# --- what a page reads ----------------------------------------------------------------------------------


def _shown(value) -> str:
    return value._repr_html_() if hasattr(value, "_repr_html_") else repr(value)


def chapter_outputs(chapter: Chapter) -> dict[str, str]:
    """Every output a chapter page can show: its numbers and every public method that needs no argument
    (found by introspection, so a new table or chart is covered without editing this test), plus the
    before/after chart of each of its reports that has measures."""
    out = {"numbers": repr(sorted((k, str(v)) for k, v in chapter.numbers(rows=True).items()))}
    for name, member in inspect.getmembers(type(chapter), inspect.isfunction):
        params = list(inspect.signature(member).parameters.values())[1:]
        if name.startswith("_") or name in {"numbers", "glue"} or any(p.default is p.empty for p in params):
            continue
        out[name] = _shown(getattr(chapter, name)())
    for source in sorted(set(chapter.outcomes["source"])):
        out[f"before_after {source}"] = _shown(chapter.before_after_chart(source))
    return out


def chapter_reads(disease: str, data: Data | None = None) -> Reads:
    with recording() as reads:
        chapter_outputs(Chapter(disease, data or Data.load(ROOT)))
    return reads


def test_a_chapter_reads_its_own_disease_only():
    for disease in DISEASES:
        reads = chapter_reads(disease)
        assert reads.diseases == {disease} and not reads.tables and not reads.version, (disease, reads)
        mine = Data.load(ROOT).cases_of(disease)
        assert set(mine["source"]) <= reads.sources


def test_review_and_selection_read_everything():
    from livingreview.book import Selection

    with recording() as reads:
        Review(Data.load(ROOT)).numbers()
    assert {"cases", "outcomes", "claims"} <= reads.tables and reads.version
    with recording() as reads:
        Selection(Data.load(ROOT)).numbers()
    assert {"records", "screening", "searches", "cases"} <= reads.tables


def test_reads_are_written_for_the_build(tmp_path, monkeypatch):
    from livingreview.datapkg import reads as reads_module

    target = tmp_path / "page.json"
    monkeypatch.setenv(reads_module.ENV_VAR, str(target))
    with recording():
        Data.load(ROOT).cases_of("LV")
        assert reads_module.read_record(target) == Reads(diseases={"LV"})
    assert reads_module.read_record(tmp_path / "never-written.json") is None


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


def _scopes() -> dict[str, Reads]:
    """The reads of the disease chapters (recorded), of a page reading everything, and of a page that only
    shows the version."""
    scopes = {d.lower(): chapter_reads(d) for d in DISEASES}
    scopes["all"] = Reads(tables={"cases", "outcomes", "claims", "appraisal", "certainty"}, version=True)
    scopes["version"] = Reads(version=True)
    return scopes


SCOPES = _scopes()


def _prints(root: Path) -> dict[str, str]:
    snap = Snapshot(root)
    return {name: snap.fingerprint(reads) for name, reads in SCOPES.items()}


def _changed(root: Path, before: dict[str, str]) -> set[str]:
    after = _prints(root)
    return {name for name in SCOPES if after[name] != before[name]}


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


def _edit_case(root: Path, disease: str, column: str, value=None) -> None:
    path = root / "data" / "cases.csv"
    fields, rows = _rows(path)
    row = next(r for r in rows if r["disease"] == disease)
    row[column] = value if value is not None else str(int(row[column] or 0) + 1)
    _write(path, fields, rows)


@pytest.mark.parametrize("disease", DISEASES)
def test_fingerprint_follows_the_rows_read(repo, disease):
    before = _prints(repo)
    _edit_case(repo, disease, "notes", "a new note")
    assert _changed(repo, before) == {disease.lower(), "all"}


def _change_first_row(repo: Path, table: str, column: str) -> tuple[dict[str, str], set[str]]:
    """Change one text cell of a table's first row; the row and the pages whose fingerprint changed."""
    fields, rows = _rows(repo / "data" / f"{table}.csv")
    before = _prints(repo)
    rows[0][column] += " changed"
    _write(repo / "data" / f"{table}.csv", fields, rows)
    return rows[0], _changed(repo, before)


def _owners(source: str) -> set[str]:
    return {d.lower() for d in DISEASES if source in SCOPES[d.lower()].sources}


@pytest.mark.parametrize(
    ("table", "column"), [("outcomes", "notes"), ("claims", "notes"), ("appraisal", "overall_reason")]
)
def test_fingerprint_follows_a_report_row(repo, table, column):
    """An outcome, a statement or an appraisal re-reads the chapter of its report's disease (and the pages
    reading everything)."""
    row, changed = _change_first_row(repo, table, column)
    assert _owners(row["source"]) and changed == _owners(row["source"]) | {"all"}


def test_fingerprint_follows_a_grade_judgement(repo):
    row, changed = _change_first_row(repo, "certainty", "reason")
    assert changed == {row["disease"].lower(), "all"}


def test_fingerprint_version_schema_code_bib(repo):
    versioned = {"all", "version"}
    before = _prints(repo)
    path = repo / "data" / "datapackage.json"
    package = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**package, "version": "9.9.9"}, indent=2), encoding="utf-8")
    assert _changed(repo, before) == versioned
    before = _prints(repo)
    _append(repo / "data" / "CHANGELOG.md", "\nmore\n")
    assert _changed(repo, before) == versioned
    before = _prints(repo)
    _append(repo / "CITATION.cff", "\n# the landing page's citation line comes from here\n")
    assert _changed(repo, before) == versioned
    before = _prints(repo)
    package["resources"][0]["schema"]["fields"][0]["description"] += " (edited)"
    path.write_text(json.dumps(package, indent=2), encoding="utf-8")
    assert _changed(repo, before) == set(SCOPES)
    package_dir = repo / "src" / "livingreview"
    deep = next(p for p in sorted(package_dir.rglob("*.py")) if p.parent != package_dir)
    for change in (
        lambda: _append(deep, "\n# comment\n"),  # a module of a subpackage counts as much as one at the top
        lambda: (package_dir / "new_module.py").write_text("X = 1\n"),
        lambda: (package_dir / "layer").mkdir() or (package_dir / "layer" / "__init__.py").write_text(""),
        lambda: (package_dir / "layer" / "__init__.py").write_text("Y = 2\n"),
        lambda: _append(repo / "references.bib", "\n"),
    ):
        before = _prints(repo)
        change()
        assert _changed(repo, before) == set(SCOPES)


def test_fingerprint_of_a_table_read_whole(repo):
    whole = Reads(tables={"records"})
    before = Snapshot(repo).fingerprint(whole)
    _append(repo / "data" / "screening.csv", "")  # unchanged bytes
    _edit_case(repo, "LV", "notes", "unrelated to the records")
    assert Snapshot(repo).fingerprint(whole) == before
    _append(repo / "data" / "records.csv", "R9999,1\n")
    assert Snapshot(repo).fingerprint(whole) != before


def test_fingerprint_ignores_formatting_and_falls_back_when_unparsable(repo):
    before = _prints(repo)
    path = repo / "data" / "cases.csv"
    fields, rows = _rows(path)
    _write(path, fields, rows, quoting=csv.QUOTE_ALL)  # same rows, other quoting
    path.write_text(path.read_text(encoding="utf-8").replace("\n", "\r\n"), encoding="utf-8", newline="")
    assert _changed(repo, before) == set()
    with path.open("a", encoding="utf-8") as fh:
        fh.write("a,ragged,row\n")
    scoped = {name for name, reads in SCOPES.items() if reads.diseases or reads.sources or reads.tables}
    assert _changed(repo, before) == scoped
    broken = _prints(repo)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("another\n")  # any further byte of a broken table changes every such page again
    assert _changed(repo, broken) == scoped


# --- soundness: a chapter depends on nothing its reads do not cover ----------------------------------------


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
def test_chapter_outputs_depend_only_on_rows_its_reads_cover(disease):
    data = Data.load(ROOT)
    reads = chapter_reads(disease, data)
    cases, outcomes, claims = data._cases, data._outcomes, data._claims
    # the rows the fingerprint of these reads covers (the rule of Snapshot._scoped_rows)
    keys = reads.sources
    covered = cases["disease"].isin(reads.diseases) | cases["source"].isin(keys) | cases["via"].isin(keys)
    linked = cases["source"].isin(keys) | cases["via"].isin(keys)
    reports = set(cases.loc[linked, "source"]) | keys
    other = dataclasses.replace(
        data,
        _cases=_perturb(cases, ~covered),
        _outcomes=_perturb(outcomes, ~outcomes["source"].isin(reports)),
        _claims=_perturb(claims, ~claims["source"].isin(keys)),
        _appraisal=_perturb(data._appraisal, ~data._appraisal["source"].isin(reports)),
        _certainty=_perturb(data._certainty, ~data._certainty["disease"].isin(reads.diseases)),
    )
    assert chapter_outputs(Chapter(disease, data)) == chapter_outputs(Chapter(disease, other))
    # not vacuous: perturbing the chapter's own rows does change what it shows
    own = dataclasses.replace(data, _cases=_perturb(cases, cases["disease"] == disease))
    assert Chapter(disease, data).numbers() != Chapter(disease, own).numbers()


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

    # (4) a change in the code (a comment in a module of a subpackage) re-executes every data page
    package_dir = root / "src" / "livingreview"
    deep = next(p for p in sorted(package_dir.rglob("*.py")) if p.parent != package_dir)
    with deep.open("a", encoding="utf-8") as fh:
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
