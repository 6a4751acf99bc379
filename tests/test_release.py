"""The versioning rule (livingreview.datapkg.release_rules), the tree comparison it rests on
(livingreview.datapkg.compare) and the changelog parser, on trees built in temporary directories."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from livingreview.cli.git import export_tree, resolve_base
from livingreview.datapkg import changelog
from livingreview.datapkg.compare import compare_trees
from livingreview.datapkg.release_rules import bump_kind, check_release, next_version, parse_version
from livingreview.errors import UserError

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
    assert next_version(version, kind) == expected
    assert bump_kind(version, expected) == kind


@pytest.mark.parametrize(
    ("before", "after"), [("1.0.0", "1.2.0"), ("1.0.0", "3.0.0"), ("1.1.0", "1.0.0"), ("1.0.0", "1.0.0")]
)
def test_not_a_single_step(before, after):
    assert bump_kind(before, after) is None


@pytest.mark.parametrize("text", ["1.0", "v1.0.0", "01.0.0", "1.0.0-rc1", ""])
def test_parse_version_rejects(text):
    assert parse_version(text) is None


# --- the changelog --------------------------------------------------------------------------------------


def test_changelog_entries_and_latest_entry():
    text = (
        "# Changelog\n\nIntro.\n\n## 1.2.0 - 2027-01-09\n\n## 1.2.0 — 2027-01-05\n\n- x\n- y\n\n"
        "## 1.1.0 — 2026-12-01\n"
    )
    entries = changelog.entries(text)
    assert [(e.line, e.version, e.date) for e in entries] == [
        (5, None, None),  # a hyphen, not an em dash: not a well-formed heading
        (7, "1.2.0", "2027-01-05"),
        (12, "1.1.0", "2026-12-01"),
    ]
    assert entries[1].body == ("- x", "- y") and entries[2].body == ()
    assert changelog.latest_entry(text) == ("1.2.0", "2027-01-05")  # the newest well-formed entry
    with pytest.raises(ValueError, match="no '## <version>"):
        changelog.latest_entry("# Changelog\n")


def test_shipped_changelog_has_an_entry_for_the_data_version():
    version, date = changelog.latest_entry((ROOT / "data" / "CHANGELOG.md").read_text(encoding="utf-8"))
    assert version == json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))["version"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", date)


# --- two trees ------------------------------------------------------------------------------------------


@pytest.fixture
def trees(tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    for tree in (before, after):
        export_tree(ROOT, "HEAD", tree)
    return before, after


def _version(tree: Path) -> str:
    return json.loads((tree / "data" / "datapackage.json").read_text(encoding="utf-8"))["version"]


def _bump(after: Path, version: str, heading: str | None = None, body: str = "- Something.") -> None:
    desc = after / "data" / "datapackage.json"
    desc.write_text(re.sub(r'"version": "[^"]+"', f'"version": "{version}"', desc.read_text(), count=1))
    cff = after / "CITATION.cff"
    cff.write_text(re.sub(r"(?m)^version: .*$", f"version: {version}", cff.read_text()))
    log = after / "data" / "CHANGELOG.md"
    head, sep, rest = log.read_text(encoding="utf-8").partition("\n## ")
    heading = heading or f"## {version} — 2026-12-01"
    log.write_text(f"{head}\n{heading}\n\n{body}\n{sep}{rest}", encoding="utf-8")


def _correct_a_case(after: Path) -> None:
    """A correction: the country of the first case group that gives one."""
    path = after / "data" / "cases.csv"
    text = path.read_text(encoding="utf-8")
    header = text.split("\n", 1)[0].split(",")
    j = header.index("country")
    line = next(line for line in text.split("\n")[1:] if ',"' not in line and line.split(",")[j])
    fields = line.split(",")
    fields[j] = "Atlantis" if fields[j] != "Atlantis" else "Utopia"
    path.write_text(text.replace(line, ",".join(fields), 1), encoding="utf-8")


def test_identical_trees_need_nothing(trees):
    changes = compare_trees(*trees)
    assert changes.kind() is None
    assert check_release(*trees, changes) == []


def test_changelog_only_edit_is_not_a_data_change(trees):
    before, after = trees
    log = after / "data" / "CHANGELOG.md"
    log.write_text(log.read_text(encoding="utf-8") + "\nTypo fixed.\n", encoding="utf-8")
    assert compare_trees(before, after).kind() is None


def test_reformatting_is_a_patch(trees):
    before, after = trees
    path = after / "data" / "cases.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    changes = compare_trees(before, after)
    assert changes.tables["cases"].reformatted and changes.kind() == "patch"


def test_added_reference_alone_is_minor(trees):
    before, after = trees
    key = "doe2020"
    assert f"{{{key}," not in (before / "references.bib").read_text(encoding="utf-8")
    with (after / "references.bib").open("a", encoding="utf-8") as fh:
        fh.write(f"@article{{{key},\n  author = {{Doe, J.}},\n  title = {{T}},\n")
        fh.write("  journal = {J},\n  year = {2020}\n}\n")
    changes = compare_trees(before, after)
    assert changes.bib_added == [key] and changes.kind() == "minor"


def test_removed_row_is_a_patch_and_is_listed(trees):
    before, after = trees
    path = after / "data" / "outcomes.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")
    changes = compare_trees(before, after)
    assert len(changes.tables["outcomes"].removed) == 1 and changes.kind() == "patch"
    _bump(after, next_version(changes.version_before, "patch"))
    assert check_release(before, after) == []


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("## {patch} - 2026-12-01", "em dash"),
        ("## {beyond} — 2026-12-01", "is for {beyond}"),
        ("## {patch} — 2026-13-45", "not a valid date"),
    ],
)
def test_bad_changelog_entries(trees, heading, expected):
    before, after = trees
    patch = next_version(_version(before), "patch")
    versions = {"patch": patch, "beyond": next_version(patch, "patch")}
    _correct_a_case(after)
    _bump(after, patch, heading.format(**versions))
    problems = check_release(before, after)
    assert any(expected.format(**versions) in p for p in problems), problems
    assert not any("bump" in p for p in problems), problems  # the version itself is right


def test_empty_changelog_entry_and_citation_mismatch(trees):
    before, after = trees
    base = _version(before)
    patch = next_version(base, "patch")
    _correct_a_case(after)
    _bump(after, patch, body="")
    cff = after / "CITATION.cff"
    cff.write_text(cff.read_text().replace(f"version: {patch}", f"version: {base}"))
    problems = check_release(before, after)
    assert any("is empty" in p for p in problems)
    assert any(p.startswith("CITATION.cff:") and f"'{base}'" in p for p in problems)


def test_missing_citation(trees):
    before, after = trees
    (after / "CITATION.cff").unlink()
    assert any("CITATION.cff: file not found" in p for p in check_release(before, after))


def test_new_allowed_value_is_major(trees):
    before, after = trees
    desc_path = after / "data" / "datapackage.json"
    desc = json.loads(desc_path.read_text(encoding="utf-8"))
    res, field = next(
        (r, f) for r in desc["resources"] for f in r["schema"]["fields"] if "enum" in f.get("constraints", {})
    )
    field["constraints"]["enum"].append("XYZ")
    desc_path.write_text(json.dumps(desc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    changes = compare_trees(before, after)
    assert (
        changes.kind() == "major"
        and f"{res['name']}: constraints of '{field['name']}' changed" in changes.schema
    )


def test_unknown_ref_is_a_user_error():
    with pytest.raises(UserError, match="not found"):
        resolve_base(ROOT, "no-such-ref-xyz")
