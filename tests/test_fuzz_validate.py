"""Property-based fuzzing: validate_tree never raises, whatever the bytes of the data files.

Derandomised and database-less, so CI runs are reproducible; about 10 s in total."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livingreview.datapkg.problems import Problem
from livingreview.datapkg.validate import validate_tree

ROOT = Path(__file__).resolve().parents[1]
CASES = (ROOT / "data/cases.csv").read_text(encoding="utf-8")
OUTCOMES = (ROOT / "data/outcomes.csv").read_text(encoding="utf-8")
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _tree(tmp: Path) -> Path:
    if not (tmp / "data").exists():
        shutil.copytree(ROOT / "data", tmp / "data")
        shutil.copy2(ROOT / "references.bib", tmp / "references.bib")
    return tmp


def _check(root: Path, rel: str, data: bytes) -> None:
    target = root / rel
    original = target.read_bytes()
    target.write_bytes(data)
    try:
        problems = validate_tree(root)
        assert all(isinstance(p, Problem) and p.line >= 1 for p in problems)
        assert problems == sorted(problems)
        assert target.read_bytes() == data
    finally:
        target.write_bytes(original)


@FUZZ
@given(data=st.binary(max_size=2000))
def test_random_bytes(tmp_path, data):
    root = _tree(tmp_path)
    _check(root, "data/cases.csv", data)


@FUZZ
@given(data=st.binary(max_size=1000))
def test_random_bytes_bib_and_descriptor(tmp_path, data):
    root = _tree(tmp_path)
    _check(root, "references.bib", data)
    _check(root, "data/datapackage.json", data)


edits = st.lists(
    st.tuples(
        st.sampled_from(["delete", "duplicate", "insert"]),
        st.integers(min_value=0),
        st.integers(min_value=1, max_value=40),
        st.sampled_from([",", ";", "\t", '"', "\n", "\r", " ", "x", "\ufeff", "\x00", "é"]),
    ),
    min_size=1,
    max_size=8,
)


def _apply(text: str, ops) -> str:
    for op, pos, length, char in ops:
        if not text:
            break
        pos %= len(text)
        if op == "delete":
            text = text[:pos] + text[pos + length :]
        elif op == "duplicate":
            text = text[:pos] + text[pos : pos + length] + text[pos:]
        else:
            text = text[:pos] + char * (length % 3 + 1) + text[pos:]
    return text


@FUZZ
@given(ops=edits, which=st.sampled_from(["data/cases.csv", "data/outcomes.csv"]))
def test_text_mutations(tmp_path, ops, which):
    root = _tree(tmp_path)
    text = CASES if which == "data/cases.csv" else OUTCOMES
    _check(root, which, _apply(text, ops).encode("utf-8", "surrogatepass"))


@FUZZ
@given(delim=st.sampled_from([";", "\t", "|", " "]), swap_all=st.booleans())
def test_swapped_delimiters(tmp_path, delim, swap_all):
    root = _tree(tmp_path)
    text = CASES.replace(",", delim) if swap_all else CASES.replace(",", delim, 30)
    _check(root, "data/cases.csv", text.encode("utf-8"))


cell_values = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "NA", "1e400", "-0", "1,5", "LV", "case_report", '"', "\n"]),
)


@FUZZ
@given(
    changes=st.lists(
        st.tuples(st.integers(min_value=0), st.integers(min_value=0), cell_values), min_size=1, max_size=12
    ),
    which=st.sampled_from(["data/cases.csv", "data/outcomes.csv"]),
)
def test_random_cells(tmp_path, changes, which):
    root = _tree(tmp_path)
    text = CASES if which == "data/cases.csv" else OUTCOMES
    rows = list(csv.reader(io.StringIO(text)))
    for r, c, value in changes:
        row = rows[1 + r % (len(rows) - 1)]
        row[c % len(row)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    _check(root, which, buf.getvalue().encode("utf-8", "surrogatepass"))
