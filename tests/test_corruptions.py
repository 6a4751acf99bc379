"""A corpus of corruptions: each breaks one thing in a copy of data/ + references.bib, and `livingreview
validate` must name the exact path:line:column, exit 1, print no traceback and leave every file
byte-identical; `fmt` must then refuse without touching a file or leave nothing for itself to fix.

Every corruption picks the rows it breaks by what they hold (a row with an age, a source with several case
groups...) and derives the expected message from those rows and from the schema, so the corpus does not
depend on which reports are in the data today."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from livingreview import cli
from livingreview.datapkg.bibfile import load_bib
from livingreview.datapkg.csvfile import to_csv_text
from livingreview.datapkg.review_rules import MAX_CYCLE_DOSE, MAX_DAILY_DOSE

ROOT = Path(__file__).resolve().parents[1]


def copy_tree(dest: Path) -> Path:
    shutil.copytree(ROOT / "data", dest / "data")
    shutil.copy2(ROOT / "references.bib", dest / "references.bib")
    return dest


def hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


class Table:
    """Edit one CSV of the copy by row id; lines are recomputed from the written text."""

    def __init__(self, root: Path, name: str):
        self.path = root / "data" / f"{name}.csv"
        self.rel = f"data/{name}.csv"
        records = list(csv.reader(io.StringIO(self.path.read_text(encoding="utf-8"))))
        self.header, self.rows = records[0], records[1:]

    def index(self, key: str) -> int:
        return next(i for i, r in enumerate(self.rows) if r[0] == key)

    def set(self, key: str, column: str, value: str) -> Table:
        self.rows[self.index(key)][self.header.index(column)] = value
        return self

    def get(self, key: str, column: str) -> str:
        return self.rows[self.index(key)][self.header.index(column)]

    def save(self) -> Table:
        self.path.write_text(to_csv_text(self.header, self.rows), encoding="utf-8", newline="")
        return self

    def line(self, key: str) -> int:
        reader = csv.reader(io.StringIO(self.path.read_text(encoding="utf-8")))
        end = 0
        for rec in reader:
            start, end = end + 1, reader.line_num
            if rec and rec[0] == key:
                return start
        raise KeyError(key)

    def first_key(self, **match: str) -> str:
        return self.find(lambda r: all(r[c] == v for c, v in match.items()))

    def dicts(self) -> list[dict[str, str]]:
        return [dict(zip(self.header, r, strict=True)) for r in self.rows]

    def find(self, predicate: Callable[[dict[str, str]], bool]) -> str:
        """The key of the first row (as a dict) for which ``predicate`` holds."""
        for r in self.dicts():
            if predicate(r):
                return r[self.header[0]]
        raise LookupError("no row of the data fits this corruption")

    def row(self, key: str) -> dict[str, str]:
        return dict(zip(self.header, self.rows[self.index(key)], strict=True))


def schema(root: Path, table: str, field: str) -> dict:
    """The constraints of a field in the copy's datapackage.json."""
    package = json.loads((root / "data/datapackage.json").read_text(encoding="utf-8"))
    res = next(r for r in package["resources"] if r["name"] == table)
    return next(f for f in res["schema"]["fields"] if f["name"] == field).get("constraints", {})


def number(value: float) -> str:
    """A number as the validator's messages write it."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def unused_key(root: Path) -> str:
    """A well-formed bib key that references.bib does not have."""
    keys = load_bib(root / "references.bib").keys
    return next(f"nobody{year}" for year in range(2000, 2100) if f"nobody{year}" not in keys)


def given(*fields: str) -> Callable[[dict[str, str]], bool]:
    return lambda r: all(r[f] for f in fields)


Corruption = Callable[[Path], tuple[str, str]]
CORRUPTIONS: dict[str, Corruption] = {}


def corruption(func: Corruption) -> Corruption:
    CORRUPTIONS[func.__name__] = func
    return func


def cell(root: Path, table: str, key: str, column: str, value: str, fragment: str) -> tuple[str, str]:
    t = Table(root, table).set(key, column, value).save()
    return f"{t.rel}:{t.line(key)}:{column}:", fragment


def cells(root: Path, table: str, key: str, values: dict[str, str], column: str, fragment: str):
    t = Table(root, table)
    for name, value in values.items():
        t.set(key, name, value)
    t.save()
    return f"{t.rel}:{t.line(key)}:{column}:", fragment


# ----------------------------------------------------------------------------------------- file level


@corruption
def empty_file(root):
    (root / "data/cases.csv").write_bytes(b"")
    return "data/cases.csv:1::", "empty"


@corruption
def binary_garbage(root):
    (root / "data/cases.csv").write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 20)
    return "data/cases.csv:1::", "UTF-8"


@corruption
def invalid_utf8(root):
    t = Table(root, "cases")
    key = t.rows[4][0]
    data = (root / "data/cases.csv").read_bytes()
    line = t.line(key)
    lines = data.split(b"\n")
    lines[line - 1] = lines[line - 1].replace(b",", b",\xff", 1)
    (root / "data/cases.csv").write_bytes(b"\n".join(lines))
    return f"data/cases.csv:{line}::", "not valid UTF-8"


@corruption
def nul_byte(root):
    p = root / "data/outcomes.csv"
    p.write_bytes(p.read_bytes().replace(b"\n", b"\n\x00", 1))
    return "data/outcomes.csv:2::", "NUL"


@corruption
def utf8_bom(root):
    p = root / "data/cases.csv"
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    return "data/cases.csv:1::", "byte order mark"


@corruption
def crlf_line_endings(root):
    p = root / "data/outcomes.csv"
    p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n"))
    return "data/outcomes.csv:1::", "CRLF"


@corruption
def no_final_newline(root):
    p = root / "data/outcomes.csv"
    p.write_bytes(p.read_bytes().rstrip(b"\n"))
    t = Table(root, "outcomes")
    return f"data/outcomes.csv:{t.line(t.rows[-1][0])}::", "no newline at the end"


@corruption
def semicolon_delimiter(root):
    t = Table(root, "cases")
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\n").writerows([t.header, *t.rows])
    t.path.write_text(buf.getvalue(), encoding="utf-8")
    return "data/cases.csv:1::", "separated by ';'"


@corruption
def tab_delimiter(root):
    t = Table(root, "outcomes")
    buf = io.StringIO()
    csv.writer(buf, delimiter="\t", lineterminator="\n").writerows([t.header, *t.rows])
    t.path.write_text(buf.getvalue(), encoding="utf-8")
    return "data/outcomes.csv:1::", "separated by tabs"


@corruption
def missing_cases_file(root):
    (root / "data/cases.csv").unlink()
    return "data/cases.csv:1::", "missing"


@corruption
def blank_line(root):
    p = root / "data/cases.csv"
    lines = p.read_text(encoding="utf-8").split("\n")
    lines.insert(5, "")
    p.write_text("\n".join(lines), encoding="utf-8")
    return "data/cases.csv:6::", "empty line"


@corruption
def unterminated_quote(root):
    p = root / "data/outcomes.csv"
    text = p.read_text(encoding="utf-8")
    line = text.count("\n") + 1
    p.write_text(text + 'X-x2000-x,x2000,,"a quote never closed\n', encoding="utf-8")
    return f"data/outcomes.csv:{line}::", "unterminated quoted field"


@corruption
def stray_quote(root):
    t = Table(root, "outcomes")
    p = root / "data/outcomes.csv"  # a quoted cell followed by more text: "abc"x
    lines = p.read_text(encoding="utf-8").split("\n")
    i = next(i for i, text in enumerate(lines[1:], 1) if re.search(r",([a-z]+),", text))
    line = t.line(next(r[0] for r in t.rows if lines[i].startswith(r[0] + ",")))
    lines[i] = re.sub(r",([a-z]+),", r',"\1"x,', lines[i], count=1)
    p.write_text("\n".join(lines), encoding="utf-8")
    return f"data/outcomes.csv:{line}::", "stray"


@corruption
def huge_field(root):
    t = Table(root, "cases")
    key = t.rows[2][0]
    line = t.line(key)
    t.set(key, "notes", "x, " * 70_000).save()
    return f"data/cases.csv:{line}::", "longer than"


@corruption
def huge_field_within_csv_limit(root):
    t = Table(root, "cases")
    limit = schema(root, "cases", "comorbidities")["maxLength"]
    return cell(root, "cases", t.rows[3][0], "comorbidities", "y" * 100_000, f"maximum is {limit}")


@corruption
def non_minimal_quoting(root):
    t = Table(root, "cases")
    key = t.find(lambda r: r["country"] and "," not in r["country"])
    value = t.get(key, "country")
    line = t.line(key)
    p = root / "data/cases.csv"
    lines = p.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = lines[line - 1].replace(f",{value},", f',"{value}",', 1)
    p.write_text("\n".join(lines), encoding="utf-8")
    return f"data/cases.csv:{line}::", "minimally quoted"


# ----------------------------------------------------------------------------------------- header / rows


@corruption
def missing_column(root):
    t = Table(root, "cases")
    j = t.header.index("n_male")
    t.header.pop(j)
    for r in t.rows:
        r.pop(j)
    t.save()
    return "data/cases.csv:1:n_male:", "missing from the header"


@corruption
def extra_column(root):
    t = Table(root, "outcomes")
    t.header.append("reviewer")
    for r in t.rows:
        r.append("me")
    t.save()
    return "data/outcomes.csv:1:reviewer:", "unknown column"


@corruption
def duplicated_column(root):
    t = Table(root, "cases")
    t.header.append("notes")
    for r in t.rows:
        r.append("")
    t.save()
    return "data/cases.csv:1:notes:", "appears 2 times"


@corruption
def reordered_columns(root):
    t = Table(root, "cases")
    t.header[1], t.header[2] = t.header[2], t.header[1]
    for r in t.rows:
        r[1], r[2] = r[2], r[1]
    t.save()
    return "data/cases.csv:1::", "schema order"


@corruption
def ragged_row_long(root):
    t = Table(root, "cases")
    key = t.rows[4][0]
    t.rows[4].append("surplus")
    t.save()
    k = len(t.header)
    return f"data/cases.csv:{t.line(key)}::", f"has {k + 1} fields but the header has {k}"


@corruption
def ragged_row_short(root):
    t = Table(root, "outcomes")
    key = t.rows[6][0]
    t.rows[6].pop()
    t.save()
    return f"data/outcomes.csv:{t.line(key)}::", "fields but the header has"


@corruption
def rows_unsorted(root):
    t = Table(root, "cases")
    t.rows[3], t.rows[4] = t.rows[4], t.rows[3]
    t.save()
    return f"data/cases.csv:{t.line(t.rows[4][0])}::", "not sorted by case_id"


@corruption
def duplicate_case_row(root):
    t = Table(root, "cases")
    original = t.rows[0]
    copy = list(original)
    ids = {r[0] for r in t.rows}
    copy[0] = next(
        f"{original[0][:-2]}{n:02d}" for n in range(99, 0, -1) if f"{original[0][:-2]}{n:02d}" not in ids
    )
    t.rows.insert(4, copy)
    t.save()
    return f"data/cases.csv:{t.line(copy[0])}::", f"duplicate of line {t.line(original[0])}"


# ----------------------------------------------------------------------------------------- schema


@corruption
def integer_type(root):
    return cell(root, "cases", Table(root, "cases").rows[5][0], "n_patients", "seven", "is not an integer")


@corruption
def integer_not_whole(root):
    return cell(root, "cases", Table(root, "cases").rows[5][0], "n_female", "2.5", "not a whole number")


@corruption
def number_type(root):
    return cell(
        root, "cases", Table(root, "cases").find(given("age_years")), "age_years", "4O", "not a number"
    )


@corruption
def decimal_comma(root):
    t = Table(root, "outcomes")
    return cell(root, "outcomes", t.find(given("value")), "value", "9,2", "decimal separator")


@corruption
def enum_value(root):
    t = Table(root, "cases")
    allowed = schema(root, "cases", "disease")["enum"]
    key = t.find(lambda r: r["disease"].lower() != r["disease"])
    wrong = t.get(key, "disease").lower()
    return cell(root, "cases", key, "disease", wrong, f"{wrong!r} is not one of {', '.join(allowed)}")


@corruption
def enum_outcomes(root):
    return cell(root, "outcomes", Table(root, "outcomes").rows[0][0], "timepoint", "later", "is not one of")


@corruption
def required_empty(root):
    assert schema(root, "cases", "locator").get("required")
    return cell(root, "cases", Table(root, "cases").rows[1][0], "locator", "", "locator is required")


@corruption
def unique_case_id(root):
    t = Table(root, "cases")
    key, dup = t.rows[0][0], t.rows[1][0]
    line = t.line(dup)
    t.set(dup, "case_id", key).save()
    return f"data/cases.csv:{line}:case_id:", f"duplicate case_id '{key}'"


@corruption
def pattern_source(root):
    t = Table(root, "cases")
    return cell(root, "cases", t.find(given("via")), "via", "Not A Key", "does not match the pattern")


@corruption
def pattern_outcome_id(root):
    t = Table(root, "outcomes")
    key = t.rows[0][0]
    t.set(key, "outcome_id", key + "_X").save()
    return f"data/outcomes.csv:{t.line(key + '_X')}:outcome_id:", "does not match the pattern"


@corruption
def minimum(root):
    low = schema(root, "cases", "n_patients")["minimum"]
    key = Table(root, "cases").rows[3][0]
    return cell(root, "cases", key, "n_patients", number(low - 1), f"below the minimum {number(low)}")


@corruption
def maximum(root):
    high = schema(root, "cases", "age_years")["maximum"]
    key = Table(root, "cases").find(given("age_years"))
    return cell(root, "cases", key, "age_years", number(high + 10), f"above the maximum {number(high)}")


@corruption
def max_length(root):
    limit = schema(root, "cases", "country")["maxLength"]
    key = Table(root, "cases").rows[0][0]
    return cell(root, "cases", key, "country", "y" * (limit + 1), f"the maximum is {limit}")


@corruption
def min_length(root):
    limit = schema(root, "outcomes", "locator")["minLength"]
    key = Table(root, "outcomes").rows[2][0]
    return cell(root, "outcomes", key, "locator", "p" * (limit - 1), f"at least {limit}")


@corruption
def non_canonical_number(root):
    t = Table(root, "cases")
    key = t.rows[0][0]
    return cell(root, "cases", key, "n_patients", t.get(key, "n_patients") + ".0", "not in canonical form")


@corruption
def whitespace_cell(root):
    t = Table(root, "cases")
    key = t.find(given("country"))
    return cell(root, "cases", key, "country", " " + t.get(key, "country"), "whitespace")


@corruption
def foreign_key(root):
    t = Table(root, "outcomes")
    case_ids = {r[0] for r in Table(root, "cases").rows}
    key = t.find(given("case_id"))
    stem = t.get(key, "case_id")[:-2]
    missing = next(f"{stem}{n:02d}" for n in range(99, 0, -1) if f"{stem}{n:02d}" not in case_ids)
    return cell(root, "outcomes", key, "case_id", missing, "is not a case_id in data/cases.csv")


@corruption
def claims_enum(root):
    t = Table(root, "claims")
    return cell(root, "claims", t.rows[0][0], "quantity", "not-a-quantity", "is not one of")


# ----------------------------------------------------------------------------------------- references


@corruption
def unknown_bib_key(root):
    t = Table(root, "cases")
    missing = unused_key(root)
    return cell(
        root, "cases", t.find(given("via")), "via", missing, f"{missing!r} is not a key in references.bib"
    )


@corruption
def unknown_bib_key_outcomes(root):
    t = Table(root, "outcomes")
    return cell(
        root, "outcomes", t.first_key(case_id=""), "source", unused_key(root), "not a key in references.bib"
    )


@corruption
def missing_bib(root):
    (root / "references.bib").unlink()
    return "references.bib:1::", "missing"


@corruption
def bib_parse_failure(root):
    p = root / "references.bib"
    text = p.read_text(encoding="utf-8")
    line = text.count("\n") + 2
    p.write_text(text + "\n@article{broken2020,\n  title = {never closed\n", encoding="utf-8")
    return f"references.bib:{line}::", "cannot parse"


@corruption
def bib_duplicate_key(root):
    p = root / "references.bib"
    key = next(iter(load_bib(p).entries))
    text = p.read_text(encoding="utf-8")
    line = text.count("\n") + 1
    p.write_text(
        text + f"@article{{{key},\n  author = {{X}}, title = {{Y}}, journal = {{Z}}, year = {{2022}}\n}}\n",
        encoding="utf-8",
    )
    return f"references.bib:{line}::", f"duplicate key '{key}'"


@corruption
def bib_missing_journal(root):
    p = root / "references.bib"
    entry = next(
        e
        for e in load_bib(p).entries.values()
        if "journal" in e.fields and not {"note", "booktitle", "publisher"} & e.fields.keys()
    )
    text = p.read_text(encoding="utf-8")
    start = text.index("{" + entry.key + ",")
    end = text.index("\n}", start)
    without = re.sub(r"\n\s*journal\s*=\s*\{[^\n]*\},?", "", text[start:end])
    assert without != text[start:end]
    p.write_text(text[:start] + without + text[end:], encoding="utf-8")
    return f"references.bib:{entry.line}:journal:", "has no journal"


@corruption
def bib_invalid_utf8(root):
    p = root / "references.bib"
    p.write_bytes(p.read_bytes().replace(b"\n", b"\n\xfe", 1))
    return "references.bib:2::", "not valid UTF-8"


@corruption
def missing_descriptor(root):
    (root / "data/datapackage.json").unlink()
    return "data/datapackage.json:1::", "missing"


@corruption
def broken_descriptor(root):
    p = root / "data/datapackage.json"
    text = p.read_text(encoding="utf-8")
    pos = text.index('"resources"')
    p.write_text(text[:pos] + "," + text[pos:], encoding="utf-8")
    return f"data/datapackage.json:{text[:pos].count(chr(10)) + 1}::", "not valid JSON"


@corruption
def descriptor_unknown_type(root):
    p = root / "data/datapackage.json"
    package = json.loads(p.read_text(encoding="utf-8"))
    package["resources"][0]["schema"]["fields"][1]["type"] = "geopoint"
    text = json.dumps(package, indent=2)
    p.write_text(text, encoding="utf-8")
    name = package["resources"][0]["schema"]["fields"][1]["name"]
    return (
        f"data/datapackage.json:{text[: text.index(chr(34) + name + chr(34))].count(chr(10)) + 1}::",
        "geopoint",
    )


# ----------------------------------------------------------------------------------------- case rules


@corruption
def responders_exceed(root):
    t = Table(root, "cases")
    key = t.find(given("n_patients"))
    n = int(t.get(key, "n_patients"))
    return cell(
        root,
        "cases",
        key,
        "n_responders",
        str(n + 1),
        f"{n + 1} responders but n_patients is {n} (responders cannot exceed patients)",
    )


@corruption
def improved_stable_worsened(root):
    t = Table(root, "cases")
    key = t.find(given("n_patients"))
    n = int(t.get(key, "n_patients"))
    return cell(root, "cases", key, "n_improved", str(n + 1), "n_improved + n_stable + n_worsened")


@corruption
def complete_partial(root):
    t = Table(root, "cases")
    key = t.find(given("n_patients"))
    n = int(t.get(key, "n_patients"))
    values = {"n_complete": str(n), "n_partial": "1"}
    return cells(root, "cases", key, values, "n_complete", f"n_complete + n_partial = {n + 1}")


@corruption
def male_female(root):
    t = Table(root, "cases")
    key = t.find(given("n_patients"))
    n = int(t.get(key, "n_patients"))
    return cell(root, "cases", key, "n_male", str(n + 1), "n_male + n_female")


@corruption
def relapsed_exceed(root):
    t = Table(root, "cases")
    key = t.find(given("n_patients"))
    n = int(t.get(key, "n_patients"))
    return cell(root, "cases", key, "n_relapsed", str(n + 1), f"n_relapsed is {n + 1}")


@corruption
def thrombophilic_exceed(root):
    t = Table(root, "cases")
    key = t.find(given("n_patients"))
    n = int(t.get(key, "n_patients"))
    return cell(root, "cases", key, "n_thrombophilic", str(n + 1), "cannot exceed")


@corruption
def serious_exceeds_any(root):
    key = Table(root, "cases").find(given("n_patients"))
    values = {"n_with_adverse_events": "0", "n_serious_adverse_events": "1"}
    fragment = "1 patients with serious adverse events but only 0"
    return cells(root, "cases", key, values, "n_serious_adverse_events", fragment)


@corruption
def age_below_min(root):
    t = Table(root, "cases")
    key = t.find(given("age_years", "age_stat"))
    age = float(t.get(key, "age_years"))
    values = {"age_min": number(age + 1), "age_max": number(age + 2)}
    return cells(root, "cases", key, values, "age_years", "below age_min")


@corruption
def dose_min_above_max(root):
    t = Table(root, "cases")
    key = t.find(given("dose_g_kg_max"))
    high = float(t.get(key, "dose_g_kg_max"))
    low = high + 0.5
    return cell(
        root,
        "cases",
        key,
        "dose_g_kg_min",
        number(low),
        f"dose_g_kg_min {number(low)} is greater than dose_g_kg_max {number(high)}",
    )


@corruption
def cycles_median_outside(root):
    t = Table(root, "cases")
    key = t.find(given("cycles_max"))
    median = number(float(t.get(key, "cycles_max")) + 1)
    return cell(root, "cases", key, "cycles_median", median, "outside cycles_min")


@corruption
def age_stat_without_age(root):
    t = Table(root, "cases")
    key = t.find(lambda r: not r["age_years"])
    return cell(root, "cases", key, "age_stat", "mean", "age_years is empty")


@corruption
def age_without_stat(root):
    t = Table(root, "cases")
    return cell(root, "cases", t.find(given("age_years")), "age_stat", "", "age_stat must say")


@corruption
def age_value_for_group(root):
    t = Table(root, "cases")
    key = t.find(lambda r: r["age_years"] and r["n_patients"] not in ("", "1"))
    return cell(root, "cases", key, "age_stat", "value", "single patient")


@corruption
def daily_dose_too_high(root):
    """One day per cycle, and a dose that is plausible per cycle but not in a single day."""
    t = Table(root, "cases")
    dose = MAX_DAILY_DOSE + 0.3
    key = t.find(lambda r: not r["dose_g_kg_min"] or float(r["dose_g_kg_min"]) <= dose)
    values = {"days_per_cycle_min": "1", "days_per_cycle_max": "1", "dose_g_kg_max": number(dose)}
    return cells(root, "cases", key, values, "dose_g_kg_max", f"above {MAX_DAILY_DOSE} g/kg/day")


@corruption
def cycle_dose_too_high(root):
    t = Table(root, "cases")
    key = t.find(given("dose_g_kg_max"))
    dose = number(MAX_CYCLE_DOSE + 1)
    return cell(root, "cases", key, "dose_g_kg_max", dose, f"above {number(MAX_CYCLE_DOSE)} g/kg")


@corruption
def year_in_future(root):
    t = Table(root, "cases")
    next_year = str(datetime.date.today().year + 1)
    return cell(root, "cases", t.find(given("year")), "year", next_year, "in the future")


@corruption
def case_id_prefix(root):
    t = Table(root, "cases")
    key = t.rows[0][0]
    row = t.row(key)
    other = next(d for d in schema(root, "cases", "disease")["enum"] if d != row["disease"])
    t.set(key, "disease", other).save()
    return f"data/cases.csv:{t.line(key)}:case_id:", f"expected '{other}-{row['source']}-NN'"


@corruption
def via_equals_source(root):
    t = Table(root, "cases")
    key = t.rows[0][0]
    return cell(root, "cases", key, "via", t.get(key, "source"), "via is the same as source")


@corruption
def source_disagrees_country(root):
    t = Table(root, "cases")
    sources = [r["source"] for r in t.dicts()]
    shared = next(s for s in sources if sources.count(s) > 1)
    last = [r["case_id"] for r in t.dicts() if r["source"] == shared][-1]
    country = "Atlantis" if t.get(last, "country") != "Atlantis" else "Utopia"
    return cell(root, "cases", last, "country", country, "all rows of one source must agree")


@corruption
def case_report_many_patients(root):
    t = Table(root, "cases")
    key = t.first_key(design="case_report")
    source = t.get(key, "source")
    others = sum(int(r["n_patients"]) for r in t.dicts() if r["source"] == source and r["case_id"] != key)
    t.set(key, "n_patients", "2").save()
    fragment = f"is a case_report but its rows add up to {others + 2} patients"
    return f"data/cases.csv:{t.line(key)}:design:", fragment


@corruption
def year_differs_from_bib(root):
    t = Table(root, "cases")
    bib = load_bib(root / "references.bib").entries
    key = t.find(lambda r: r["year"] and bib[r["source"]].year is not None)
    year = bib[t.get(key, "source")].year
    return cell(root, "cases", key, "year", str(year - 1), f"references.bib gives {year}")


@corruption
def steroid_dose_without_drug(root):
    t = Table(root, "cases")
    key = t.find(lambda r: r["steroid_drug"] and (r["steroid_mg_day_before"] or r["steroid_mg_day_after"]))
    return cell(root, "cases", key, "steroid_drug", "", "steroid_drug must name")


# ----------------------------------------------------------------------------------------- outcome rules


@corruption
def outcome_source_without_cases(root):
    t = Table(root, "outcomes")
    case_sources = {r["source"] for r in Table(root, "cases").dicts()}
    other = next(k for k in load_bib(root / "references.bib").entries if k not in case_sources)
    key = t.find(lambda r: not r["case_id"])
    return cell(root, "outcomes", key, "source", other, "has no rows in data/cases.csv")


@corruption
def outcome_case_other_source(root):
    t = Table(root, "outcomes")
    key = t.find(given("case_id"))
    source = t.get(key, "source")
    cases = Table(root, "cases")
    other = cases.find(lambda r: r["source"] != source)
    fragment = f"belongs to source {cases.get(other, 'source')!r}"
    return cell(root, "outcomes", key, "case_id", other, fragment)


@corruption
def outcome_id_prefix(root):
    t = Table(root, "outcomes")
    key = t.find(given("case_id"))
    row = t.row(key)
    disease = Table(root, "cases").get(row["case_id"], "disease")
    other = next(d for d in schema(root, "cases", "disease")["enum"] if d != disease)
    new = other + key[len(disease) :]
    t.set(key, "outcome_id", new).save()
    return f"data/outcomes.csv:{t.line(new)}:outcome_id:", f"must start with '{disease}-{row['source']}-'"


@corruption
def outcome_duplicate_measure(root):
    t = Table(root, "outcomes")
    rows = t.dicts()
    same = ("source", "case_id", "arm", "timepoint")
    a, b = next(
        (a, b)
        for a in rows
        for b in rows
        if a is not b and all(a[c] == b[c] for c in same) and a["measure"] != b["measure"]
    )
    t.set(b["outcome_id"], "measure", a["measure"]).save()
    line_a, line_b = t.line(a["outcome_id"]), t.line(b["outcome_id"])
    first, second = sorted((line_a, line_b))
    return f"data/outcomes.csv:{second}:measure:", f"as line {first}"


@corruption
def sd_without_mean(root):
    t = Table(root, "outcomes")
    return cell(root, "outcomes", t.first_key(statistic="percent"), "sd", "3", "sd belongs to a mean")


@corruption
def percent_above_100(root):
    t = Table(root, "outcomes")
    return cell(
        root, "outcomes", t.first_key(statistic="percent"), "value", "120", "120 percent is above 100"
    )


@corruption
def count_not_whole(root):
    t = Table(root, "outcomes")
    return cell(root, "outcomes", t.first_key(statistic="count"), "value", "1.5", "whole number")


@corruption
def count_above_n(root):
    t = Table(root, "outcomes")
    key = t.find(lambda r: r["statistic"] == "count" and r["n"])
    n = int(t.get(key, "n"))
    return cell(root, "outcomes", key, "value", str(n + 1), f"count {n + 1} is more than n {n}")


@corruption
def p_value_on_before(root):
    t = Table(root, "outcomes")
    return cell(
        root, "outcomes", t.first_key(timepoint="before"), "p_value", "0.05", "belongs on the 'after' row"
    )


# ------------------------------------------------------------------------------ search and selection


def _screening_line(t: Table, rid: str, stage: str) -> int:
    reader = csv.reader(io.StringIO(t.path.read_text(encoding="utf-8")))
    end = 0
    for rec in reader:
        start, end = end + 1, reader.line_num
        if rec and rec[0] == rid and rec[t.header.index("stage")] == stage:
            return start
    raise KeyError((rid, stage))


def _screening(root, predicate) -> tuple[Table, int, dict[str, str]]:
    """The screening table, the index of the first decision for which ``predicate`` holds, and that row."""
    t = Table(root, "screening")
    i, row = next((i, r) for i, r in enumerate(t.dicts()) if predicate(r))
    return t, i, row


@corruption
def exclusion_without_reason(root):
    t, i, row = _screening(
        root,
        lambda r: (
            r["stage"] == "3_eligibility" and r["decision"] == "exclude" and r["reason"] != "same_patients"
        ),
    )
    t.rows[i][t.header.index("reason")] = ""
    t.save()
    return (
        f"data/screening.csv:{_screening_line(t, row['record_id'], row['stage'])}:reason:",
        "needs a reason",
    )


@corruption
def same_patients_without_link(root):
    t, i, row = _screening(root, lambda r: r["reason"] == "same_patients")
    t.rows[i][t.header.index("linked_record")] = ""
    t.save()
    line = _screening_line(t, row["record_id"], row["stage"])
    return f"data/screening.csv:{line}:linked_record:", "needs linked_record"


@corruption
def included_without_role(root):
    t, i, row = _screening(root, lambda r: r["stage"] == "3_eligibility" and r["decision"] == "include")
    t.rows[i][t.header.index("role")] = ""
    t.save()
    return f"data/screening.csv:{_screening_line(t, row['record_id'], row['stage'])}:role:", "needs a role"


@corruption
def unknown_reason_code(root):
    t, i, row = _screening(root, lambda r: r["reason"])
    t.rows[i][t.header.index("reason")] = "boring"
    t.save()
    line = _screening_line(t, row["record_id"], row["stage"])
    return f"data/screening.csv:{line}:reason:", "is not one of wrong_disease"


@corruption
def search_count_mismatch(root):
    t = Table(root, "searches")
    key = t.rows[0][0]
    t.set(key, "n_results", str(int(t.get(key, "n_results")) + 1)).save()
    return f"data/searches.csv:{t.line(key)}:n_results:", "lists"


@corruption
def result_of_unknown_record(root):
    t = Table(root, "search_results")
    known = {r[0] for r in Table(root, "records").rows}
    t.rows[0][t.header.index("record_id")] = next(
        f"R{n:04d}" for n in range(9999, 0, -1) if f"R{n:04d}" not in known
    )
    t.save()
    return (
        f"data/search_results.csv:{t.line(t.rows[0][0])}:record_id:",
        "is not a record_id in data/records.csv",
    )


@corruption
def record_bib_key_missing_from_bib(root):
    t = Table(root, "records")
    key = t.rows[0][0]
    t.set(key, "bib_key", unused_key(root)).save()
    return f"data/records.csv:{t.line(key)}:bib_key:", "not a key in references.bib"


@corruption
def case_source_not_an_included_record(root):
    t = Table(root, "records")
    keys = [r["bib_key"] for r in t.dicts()]
    cases = Table(root, "cases")
    source = next(r["source"] for r in cases.dicts() if keys.count(r["source"]) == 1)
    t.set(t.first_key(bib_key=source), "bib_key", "").save()
    cid = cases.first_key(source=source)
    return f"data/cases.csv:{cases.line(cid)}:source:", "is not a record included as primary"


@corruption
def retrieval_before_screening(root):
    t, i, row = _screening(root, lambda r: r["stage"] == "1_title_abstract" and r["decision"] == "include")
    t.rows[i][t.header.index("decision")] = "exclude"
    t.save()
    line = _screening_line(t, row["record_id"], "2_retrieval")
    return f"data/screening.csv:{line}:stage:", "was not included at title"


# ----------------------------------------------------------------------------------------- the tests


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_corpus_is_large_enough():
    assert len(CORRUPTIONS) >= 40


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corruption_is_reported(name, tmp_path, capsys):
    root = copy_tree(tmp_path)
    location, fragment = CORRUPTIONS[name](root)
    before = hashes(root)
    code, output = run_cli(["--root", str(root), "validate"], capsys)
    assert code == 1, output
    assert "Traceback" not in output
    assert "internal error" not in output
    matching = [line for line in output.splitlines() if line.startswith(location)]
    assert matching, f"expected {location} in:\n{output}"
    assert any(fragment in line for line in matching), f"expected {fragment!r} at {location} in:\n{output}"
    assert hashes(root) == before, "validate modified a file"
    code, fmt_output = run_cli(["--root", str(root), "fmt", "--check"], capsys)
    assert code in (0, 1) and "Traceback" not in fmt_output and "internal error" not in fmt_output
    assert hashes(root) == before, "fmt --check modified a file"
    # fmt itself never damages data: it refuses (files untouched) or writes a canonical form that a second
    # fmt leaves alone and in which validate finds nothing left for fmt to fix
    code, fmt_output = run_cli(["--root", str(root), "fmt"], capsys)
    assert code in (0, 1) and "Traceback" not in fmt_output and "internal error" not in fmt_output
    if code == 1:
        assert hashes(root) == before, "a refusing fmt modified a file"
    else:
        assert run_cli(["--root", str(root), "fmt", "--check"], capsys)[0] == 0
        _, after = run_cli(["--root", str(root), "validate"], capsys)
        assert "livingreview fmt" not in after, after
