"""The versioning rule (livingreview.cli.check_release), on trees built in temporary directories."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from livingreview.cli import check_release as release

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("version", "kind", "expected"),
    [
        ("1.0.0", "patch", "1.0.1"),
        ("1.0.3", "minor", "1.1.0"),
        ("1.4.2", "major", "2.0.0"),
        ("0.9.9", "minor", "0.10.0"),
    ],
)
def test_next_version(version, kind, expected):
    assert release.next_version(version, kind) == expected
    assert release.bump_kind(version, expected) == kind


@pytest.mark.parametrize(
    ("before", "after"), [("1.0.0", "1.2.0"), ("1.0.0", "3.0.0"), ("1.1.0", "1.0.0"), ("1.0.0", "1.0.0")]
)
def test_not_a_single_step(before, after):
    assert release.bump_kind(before, after) is None


@pytest.mark.parametrize("text", ["1.0", "v1.0.0", "01.0.0", "1.0.0-rc1", ""])
def test_parse_version_rejects(text):
    assert release.parse_version(text) is None


@pytest.fixture
def trees(tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    for tree in (before, after):
        release.export_tree(ROOT, "HEAD", tree)
    return before, after


def _bump(after: Path, version: str, heading: str | None = None, body: str = "- Something.") -> None:
    import re

    desc = after / "data" / "datapackage.json"
    desc.write_text(re.sub(r'"version": "[^"]+"', f'"version": "{version}"', desc.read_text(), count=1))
    cff = after / "CITATION.cff"
    cff.write_text(re.sub(r"(?m)^version: .*$", f"version: {version}", cff.read_text()))
    log = after / "data" / "CHANGELOG.md"
    head, sep, rest = log.read_text(encoding="utf-8").partition("\n## ")
    heading = heading or f"## {version} — 2026-12-01"
    log.write_text(f"{head}\n{heading}\n\n{body}\n{sep}{rest}", encoding="utf-8")


def test_identical_trees_need_nothing(trees):
    changes = release.compare_trees(*trees)
    assert changes.kind() is None
    assert release.check_release(*trees, changes) == []


def test_changelog_only_edit_is_not_a_data_change(trees):
    before, after = trees
    log = after / "data" / "CHANGELOG.md"
    log.write_text(log.read_text(encoding="utf-8") + "\nTypo fixed.\n", encoding="utf-8")
    assert release.compare_trees(before, after).kind() is None


def test_reformatting_is_a_patch(trees):
    before, after = trees
    path = after / "data" / "cases.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    changes = release.compare_trees(before, after)
    assert changes.tables["cases"].reformatted and changes.kind() == "patch"


def test_added_reference_alone_is_minor(trees):
    before, after = trees
    with (after / "references.bib").open("a", encoding="utf-8") as fh:
        fh.write(
            "@article{doe2020,\n  author = {Doe, J.},\n  title = {T},\n  journal = {J},\n  year = {2020}\n}\n"
        )
    changes = release.compare_trees(before, after)
    assert changes.bib_added == ["doe2020"] and changes.kind() == "minor"


def test_removed_row_is_a_patch_and_is_listed(trees):
    before, after = trees
    path = after / "data" / "outcomes.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")
    changes = release.compare_trees(before, after)
    assert len(changes.tables["outcomes"].removed) == 1 and changes.kind() == "patch"
    _bump(after, release.next_version(changes.version_before, "patch"))
    assert release.check_release(before, after) == []


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("## 1.0.1 - 2026-12-01", "em dash"),
        ("## 1.0.2 — 2026-12-01", "is for 1.0.2"),
        ("## 1.0.1 — 2026-13-45", "not a valid date"),
    ],
)
def test_bad_changelog_entries(trees, heading, expected):
    before, after = trees
    path = after / "data" / "cases.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("India", "Nepal", 1), encoding="utf-8")
    _bump(after, "1.0.1", heading)
    problems = release.check_release(before, after)
    assert any(expected in p for p in problems), problems


def test_empty_changelog_entry_and_citation_mismatch(trees):
    before, after = trees
    path = after / "data" / "cases.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("India", "Nepal", 1), encoding="utf-8")
    _bump(after, "1.0.1", body="")
    cff = after / "CITATION.cff"
    cff.write_text(cff.read_text().replace("version: 1.0.1", "version: 1.0.0"))
    problems = release.check_release(before, after)
    assert any("is empty" in p for p in problems)
    assert any(p.startswith("CITATION.cff:") and "'1.0.0'" in p for p in problems)


def test_missing_citation(trees):
    before, after = trees
    (after / "CITATION.cff").unlink()
    assert any("CITATION.cff: file not found" in p for p in release.check_release(before, after))


def test_new_field_is_major(trees):
    import json

    before, after = trees
    desc_path = after / "data" / "datapackage.json"
    desc = json.loads(desc_path.read_text(encoding="utf-8"))
    desc["resources"][0]["schema"]["fields"][1]["constraints"]["enum"].append("XYZ")
    desc_path.write_text(json.dumps(desc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    changes = release.compare_trees(before, after)
    assert changes.kind() == "major" and "cases: constraints of 'disease' changed" in changes.schema


def test_unknown_ref_is_a_user_error(tmp_path):
    from livingreview.errors import UserError

    with pytest.raises(UserError, match="not found"):
        release.resolve_base(ROOT, "no-such-ref-xyz")
    shutil.rmtree(tmp_path, ignore_errors=True)
