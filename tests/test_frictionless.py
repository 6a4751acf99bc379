"""The Frictionless reference implementation accepts the shipped package, and agrees with our validator on
schema corruptions (type, enum, required, unique, foreign key)."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import frictionless
import pytest

from livingreview.datapkg.csvfile import to_csv_text
from livingreview.datapkg.validate import validate_tree

ROOT = Path(__file__).resolve().parents[1]


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copy2(ROOT / "references.bib", tmp_path / "references.bib")
    return tmp_path


def _frictionless(path: Path) -> frictionless.Report:
    return frictionless.validate(str(path))


def test_frictionless_accepts_shipped_package():
    report = _frictionless(ROOT / "data/datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "message"])


def test_frictionless_accepts_shipped_tables(tmp_path):
    report = _frictionless(_copy(tmp_path) / "data/datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "message"])
    assert validate_tree(tmp_path) == []


UNKNOWN_CASE_ID = object()  # stands for a well-formed case_id that cases.csv does not have


def _unknown_case_id(root: Path) -> str:
    records = list(csv.reader(io.StringIO((root / "data/cases.csv").read_text(encoding="utf-8"))))
    j = records[0].index("case_id")
    ids = {r[j] for r in records[1:]}
    stem = records[1][j][:-2]
    return next(f"{stem}{n:02d}" for n in range(99, 0, -1) if f"{stem}{n:02d}" not in ids)


def _set(root: Path, table: str, row: int, column: str, value: str) -> None:
    path = root / "data" / f"{table}.csv"
    records = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    records[row][records[0].index(column)] = value
    path.write_text(to_csv_text(records[0], records[1:]), encoding="utf-8")


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "ftype"),
    [
        ("cases", 3, "n_patients", "many", "type-error"),
        ("cases", 5, "age_years", "forty", "type-error"),
        ("cases", 2, "disease", "Lupus", "constraint-error"),
        ("outcomes", 4, "statistic", "sum", "constraint-error"),
        ("cases", 6, "locator", "", "constraint-error"),
        ("cases", 4, "n_male", "-1", "constraint-error"),
        ("outcomes", 1, "case_id", UNKNOWN_CASE_ID, "foreign-key"),
    ],
)
def test_agreement_on_cell_corruptions(tmp_path, table, row, column, value, ftype):
    root = _copy(tmp_path)
    _set(root, table, row, column, _unknown_case_id(root) if value is UNKNOWN_CASE_ID else value)
    report = _frictionless(root / "data/datapackage.json")
    theirs = {(r, f) for r, f, t in report.flatten(["rowNumber", "fieldName", "type"]) if t == ftype}
    assert (row + 1, column) in theirs or (ftype == "foreign-key" and (row + 1, None) in theirs)
    ours = {(p.line, p.column) for p in validate_tree(root) if p.path == f"data/{table}.csv"}
    assert (row + 1, column) in ours
    # every schema error frictionless finds in the corrupted table, we find too
    all_theirs = {(r, f or column) for r, f, t in report.flatten(["rowNumber", "fieldName", "type"]) if r}
    assert all_theirs <= ours


def test_agreement_on_duplicate_primary_key(tmp_path):
    root = _copy(tmp_path)
    path = root / "data/cases.csv"
    records = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    records[3][0] = records[2][0]
    path.write_text(to_csv_text(records[0], records[1:]), encoding="utf-8")
    report = _frictionless(root / "data/datapackage.json")
    theirs = {r for r, t in report.flatten(["rowNumber", "type"]) if t in ("unique-error", "primary-key")}
    assert 4 in theirs
    ours = {p.line for p in validate_tree(root) if p.column == "case_id" and "duplicate" in p.message}
    assert ours == {4}
