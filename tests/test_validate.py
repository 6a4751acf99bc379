"""validate on the shipped data, fmt round trips and refusals, the reader's fast path, the bib loader."""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from livingreview import cli
from livingreview.datapkg.bibfile import bib_problems, load_bib, parse_bib
from livingreview.datapkg.canonical_form import canonical_number
from livingreview.datapkg.csvfile import read_records, read_table, to_csv_text, write_atomic
from livingreview.datapkg.problems import Problem
from livingreview.datapkg.validate import validate_tree

ROOT = Path(__file__).resolve().parents[1]
CSVS = ("data/cases.csv", "data/outcomes.csv")


def copy_tree(dest: Path) -> Path:
    shutil.copytree(ROOT / "data", dest / "data")
    shutil.copy2(ROOT / "references.bib", dest / "references.bib")
    return dest


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_shipped_data_is_valid():
    assert validate_tree(ROOT) == []


def test_cli_ok_line(capsys):
    assert cli.main(["--root", str(ROOT), "validate"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("data/ OK: ") and " case groups, " in out and " references, version " in out


def test_cli_as_subprocess(tmp_path):
    root = copy_tree(tmp_path)
    (root / "data/cases.csv").write_bytes(b"\xff\xfegarbage")
    proc = subprocess.run(
        [sys.executable, "-m", "livingreview", "--root", str(root), "validate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0].startswith("data/cases.csv:1::")
    assert proc.stdout.splitlines()[-1] == "1 problem in 1 file"


def test_problems_sorted_and_formatted(tmp_path):
    root = copy_tree(tmp_path)
    (root / "data/outcomes.csv").write_bytes(b"")
    (root / "references.bib").unlink()
    problems = validate_tree(root)
    assert problems == sorted(problems)
    assert [str(p) for p in problems][:2] == [
        "data/outcomes.csv:1:: is empty; it needs at least the header line",
        "references.bib:1:: file is missing",
    ]


def test_shipped_data_is_canonical(capsys):
    assert cli.main(["--root", str(ROOT), "fmt", "--check"]) == 0


def test_fmt_on_canonical_data_changes_nothing(tmp_path, capsys):
    root = copy_tree(tmp_path)
    before = digest(root)
    assert cli.main(["--root", str(root), "fmt"]) == 0
    assert digest(root) == before


def _mangle(text: str, seed: int) -> bytes:
    """Shuffle rows and columns' cell form (not their values), CRLF, BOM, number spelling, whitespace."""
    rng = random.Random(seed)
    lines = text.split("\n")
    header, body = lines[0], [line for line in lines[1:] if line]
    rng.shuffle(body)
    body = [line.replace(",2,", ",2.0,", 1).replace(",4,", ", +4.00 ,", 1) for line in body]
    return b"\xef\xbb\xbf" + "\r\n".join([header, *body]).encode("utf-8") + b"\r\n"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fmt_restores_canonical_bytes(tmp_path, seed, capsys):
    root = copy_tree(tmp_path)
    originals = {rel: (root / rel).read_bytes() for rel in CSVS}
    for rel in CSVS:
        (root / rel).write_bytes(_mangle(originals[rel].decode("utf-8"), seed))
    assert cli.main(["--root", str(root), "validate"]) == 1
    assert cli.main(["--root", str(root), "fmt", "--check"]) == 1
    assert "would be reformatted" in capsys.readouterr().out
    assert cli.main(["--root", str(root), "fmt"]) == 0
    for rel in CSVS:
        assert (root / rel).read_bytes() == originals[rel]
    assert validate_tree(root) == []


def test_fmt_reorders_columns(tmp_path, capsys):
    root = copy_tree(tmp_path)
    original = (root / "data/outcomes.csv").read_bytes()
    table, _ = read_table(root / "data/outcomes.csv", "data/outcomes.csv")
    order = list(reversed(range(len(table.header))))
    rows = zip(*(table.columns[j] for j in order), strict=True)
    (root / "data/outcomes.csv").write_text(
        to_csv_text([table.header[j] for j in order], rows), encoding="utf-8"
    )
    assert cli.main(["--root", str(root), "fmt"]) == 0
    assert (root / "data/outcomes.csv").read_bytes() == original


def _year_in_words(data: bytes) -> bytes:
    """The first year given in cases.csv written as a word (not a number, so fmt cannot canonicalise it)."""
    records = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    header, rows = records[0], records[1:]
    row = next(r for r in rows if r[header.index("year")])
    row[header.index("year")] = "twenty"
    return to_csv_text(header, rows).encode("utf-8")


@pytest.mark.parametrize(
    ("damage", "location"),
    [
        (lambda b: b.replace(b",", b";"), "data/cases.csv:1::"),
        (lambda b: b[: b.index(b"\n") // 2] + b"\xff" + b[b.index(b"\n") // 2 :], "data/cases.csv:1::"),
        (
            lambda b: b.replace(b"\n", b",extra\n", 3),
            "data/cases.csv:1:extra:",
        ),  # header and two rows too long
        (lambda b: b.replace(b"case_id,", b"", 1), "data/cases.csv:1:case_id:"),
        (_year_in_words, ":year:"),
    ],
)
def test_fmt_refuses_and_leaves_bytes(tmp_path, capsys, damage, location):
    root = copy_tree(tmp_path)
    path = root / "data/cases.csv"
    path.write_bytes(damage(path.read_bytes()))
    (root / "data/outcomes.csv").write_bytes(_mangle((root / "data/outcomes.csv").read_text(), 1))
    before = digest(root)
    assert cli.main(["--root", str(root), "fmt"]) == 1
    out = capsys.readouterr().out
    assert location in out and "nothing was written" in out and "Traceback" not in out
    assert digest(root) == before  # not even the fixable outcomes.csv was touched


def test_write_atomic_leaves_no_temp(tmp_path):
    target = tmp_path / "x.csv"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


@pytest.mark.parametrize(
    ("text", "integer", "expected"),
    [
        ("2", False, "2"),
        ("2.0", False, "2"),
        ("+3.570", False, "3.57"),
        ("1e2", False, "100"),
        ("-0.0", False, "0"),
        ("007", True, "7"),
        ("2.0", True, "2"),
        ("2.5", True, None),
        (".5", False, "0.5"),
        ("nan", False, None),
        ("inf", False, None),
        ("1,5", False, None),
        ("", False, None),
        ("1e999999", False, None),
        (" 4 ", False, "4"),
        ("0.000100", False, "0.0001"),
    ],
)
def test_canonical_number(text, integer, expected):
    assert canonical_number(text, integer) == expected


def _table_view(table):
    return (
        table.header,
        [list(c) for c in table.columns],
        table.lines.tolist(),
        table.ragged,
        table.blank_lines,
        bool(table.bad_quoting),
    )


@pytest.mark.parametrize("mutation", ["none", "multiline", "ragged", "quoted", "blank", "short"])
def test_fast_path_agrees_with_exact_path(tmp_path, mutation):
    text = (ROOT / "data/cases.csv").read_text(encoding="utf-8")
    lines = text.split("\n")
    before = list(lines)
    if mutation == "multiline":  # line breaks inside quoted cells: an existing one, and a last cell made so
        quoted = next(i for i, line in enumerate(lines[1:], 1) if ',"' in line)
        lines[quoted] = re.sub(r',"([^"]{2})', ',"\\1\n', lines[quoted], count=1)
        plain_end = next(i for i, line in enumerate(lines[1:], 1) if not line.endswith('"') and i != quoted)
        lines[plain_end] = lines[plain_end].rsplit(",", 1)[0] + ',"note\nwith a break"'
    elif mutation == "ragged":
        lines[4] += ",x"
    elif mutation == "quoted":  # a cell quoted that needs no quotes
        design = next(v for v in ("case_report", "case_series") if f",{v}," in text)
        i = next(i for i, line in enumerate(lines[1:], 1) if f",{design}," in line)
        lines[i] = lines[i].replace(f",{design},", f',"{design}",', 1)
    elif mutation == "blank":
        lines.insert(7, "")
    elif mutation == "short":
        lines[8] = lines[8].split(",", 1)[1]
    assert (lines != before) == (mutation != "none")
    path = tmp_path / "cases.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    exact, p1 = read_table(path, "data/cases.csv", fast=False)
    fast, p2 = read_table(path, "data/cases.csv", fast=True)
    assert p1 == p2 == []
    assert _table_view(exact) == _table_view(fast)


def test_fast_path_is_taken_for_clean_data(tmp_path):
    table, _ = read_table(ROOT / "data/cases.csv", "data/cases.csv", fast=True)
    assert table.fast and table.lines.tolist() == list(range(2, 2 + table.nrows))


def test_problem_str():
    assert str(Problem("data/cases.csv", 12, "n_responders", "x")) == "data/cases.csv:12:n_responders: x"


def test_bib_loader_on_shipped_file():
    bib = load_bib(ROOT / "references.bib")
    assert bib.ok and bib_problems(bib) == []
    # a source of a case group with a year: its entry exists, gives the same year and starts on its line
    case = next(r for r in read_records(ROOT / "data/cases.csv", "data/cases.csv") if r["year"])
    entry = bib.entries[case["source"]]
    assert entry.year == int(case["year"]) and entry.line >= 1
    heading = (ROOT / "references.bib").read_text(encoding="utf-8").splitlines()[entry.line - 1]
    assert heading.startswith("@") and f"{{{case['source']}," in heading


def test_bib_loader_reports_failures_and_duplicates(capsys):
    bib = parse_bib(
        "@article{a2000,\n author={A}, title={T}, year={2000}, journal={J}}\n"
        "@article{a2000,\n author={B}, title={T}, year={2000}, journal={J}}\n"
        "@book{b2001,\n title={T}, year={2001}}\n"
        "@article{c2002,\n title={never closed\n"
    )
    assert list(bib.entries) == ["a2000", "b2001"]
    assert bib.duplicates == [("a2000", 3, 1)]
    assert [line for line, _ in bib.failures] == [7]
    fields = sorted((p.line, p.column) for p in bib_problems(bib))
    assert fields == [(3, ""), (5, "author"), (5, "journal"), (7, "")]
    assert capsys.readouterr().err == ""  # bibtexparser's log lines are captured, not printed


def test_validate_never_writes(tmp_path):
    root = copy_tree(tmp_path)
    for rel in CSVS:
        (root / rel).write_bytes(_mangle((root / rel).read_text(), 5))
    before = digest(root)
    assert validate_tree(root)
    assert digest(root) == before


def test_checks_are_vectorised_over_many_rows(tmp_path):
    """Problems in a large file are found on the fast path with the right lines."""
    root = copy_tree(tmp_path)
    path = root / "data/cases.csv"
    table, _ = read_table(path, "data/cases.csv")
    header = table.header
    rows = [list(r) for r in zip(*table.columns, strict=True)]
    big = []
    for i in range(3000):
        for r in rows:
            r2 = list(r)
            r2[0] = f"{r[0]}{i:05d}"
            big.append(r2)
    big.sort(key=lambda r: r[0])
    # the pattern forbids the long ids; that is one problem per row, found on the fast path, quickly
    path.write_text(to_csv_text(header, big), encoding="utf-8")
    problems = validate_tree(root)
    by_col = {p.column for p in problems}
    assert "case_id" in by_col
    lines = sorted(p.line for p in problems if p.column == "case_id" and "pattern" in p.message)
    assert lines == list(range(2, 2 + len(big)))
    assert np.all(np.diff(lines) == 1)
