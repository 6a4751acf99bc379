"""A corpus of corruptions: each breaks one thing in a copy of data/ + references.bib, and `livingreview
validate` must name the exact path:line:column, exit 1, print no traceback and leave every file
byte-identical."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from livingreview import cli
from livingreview.datapkg.csvfile import to_csv_text

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
        for r in self.rows:
            if all(r[self.header.index(c)] == v for c, v in match.items()):
                return r[0]
        raise KeyError(match)


def bib_line(root: Path, key: str) -> int:
    text = (root / "references.bib").read_text(encoding="utf-8")
    return text[: text.index("{" + key + ",")].count("\n") + 1


Corruption = Callable[[Path], tuple[str, str]]
CORRUPTIONS: dict[str, Corruption] = {}


def corruption(func: Corruption) -> Corruption:
    CORRUPTIONS[func.__name__] = func
    return func


def cell(root: Path, table: str, key: str, column: str, value: str, fragment: str) -> tuple[str, str]:
    t = Table(root, table).set(key, column, value).save()
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
    p.write_text(text + 'SjS-rist2011-x-overall,rist2011,,"Summary paragraph 3\n', encoding="utf-8")
    return f"data/outcomes.csv:{line}::", "unterminated quoted field"


@corruption
def stray_quote(root):
    t = Table(root, "outcomes")
    line = t.line(t.rows[3][0])
    p = root / "data/outcomes.csv"  # a quoted cell followed by more text: "abc"x
    lines = p.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = re.sub(r",([a-z]+),", r',"\1"x,', lines[line - 1], count=1)
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
    return cell(root, "cases", t.rows[3][0], "comorbidities", "y" * 100_000, "maximum is 500")


@corruption
def non_minimal_quoting(root):
    t = Table(root, "cases")
    country = t.header.index("country")
    key = next(r[0] for r in t.rows if r[country] and "," not in r[country])
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
    i = t.index(t.first_key(source="rist2011"))
    copy = list(t.rows[i])
    copy[0] = copy[0][:-2] + "99"
    t.rows.insert(i + 4, copy)
    t.save()
    return f"data/cases.csv:{t.line(copy[0])}::", f"duplicate of line {t.line(t.rows[i][0])}"


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
        root, "cases", Table(root, "cases").first_key(age_stat="mean"), "age_years", "4O", "not a number"
    )


@corruption
def decimal_comma(root):
    return cell(
        root,
        "outcomes",
        Table(root, "outcomes").first_key(statistic="mean"),
        "value",
        "9,2",
        "decimal separator",
    )


@corruption
def enum_value(root):
    return cell(
        root,
        "cases",
        Table(root, "cases").first_key(disease="LV"),
        "disease",
        "lv",
        "'lv' is not one of LCV, CLE, LV, SSc, SjS",
    )


@corruption
def enum_outcomes(root):
    return cell(root, "outcomes", Table(root, "outcomes").rows[0][0], "timepoint", "later", "is not one of")


@corruption
def required_empty(root):
    return cell(root, "cases", Table(root, "cases").rows[1][0], "locator", "", "locator is required")


@corruption
def unique_case_id(root):
    t = Table(root, "cases")
    key = t.first_key(source="rist2011")
    dup = t.rows[t.index(key) + 1][0]
    t.set(dup, "case_id", key).save()
    return f"data/cases.csv:{t.line(key) + 1}:case_id:", f"duplicate case_id '{key}'"


@corruption
def pattern_source(root):
    t = Table(root, "cases")
    return cell(root, "cases", t.first_key(via="gao2022"), "via", "Gao 2022", "does not match the pattern")


@corruption
def pattern_outcome_id(root):
    t = Table(root, "outcomes")
    key = t.rows[0][0]
    t.set(key, "outcome_id", key + "_X").save()
    return f"data/outcomes.csv:{t.line(key + '_X')}:outcome_id:", "does not match the pattern"


@corruption
def minimum(root):
    return cell(root, "cases", Table(root, "cases").rows[3][0], "n_patients", "0", "below the minimum 1")


@corruption
def maximum(root):
    t = Table(root, "cases")
    return cell(root, "cases", t.first_key(age_stat="mean"), "age_years", "130", "above the maximum 120")


@corruption
def max_length(root):
    return cell(
        root, "cases", Table(root, "cases").rows[0][0], "country", "Republic of " * 6, "the maximum is 60"
    )


@corruption
def min_length(root):
    return cell(root, "outcomes", Table(root, "outcomes").rows[2][0], "locator", "p1", "at least 3")


@corruption
def non_canonical_number(root):
    t = Table(root, "cases")
    key = t.first_key(year="2011")
    return cell(root, "cases", key, "n_patients", t.get(key, "n_patients") + ".0", "not in canonical form")


@corruption
def whitespace_cell(root):
    t = Table(root, "cases")
    return cell(root, "cases", t.rows[6][0], "country", " " + t.get(t.rows[6][0], "country"), "whitespace")


@corruption
def foreign_key(root):
    t = Table(root, "outcomes")
    key = t.first_key(source="sanges2017")
    return cell(root, "outcomes", key, "case_id", "SSc-sanges2017-07", "is not a case_id in data/cases.csv")


@corruption
def claims_enum(root):
    t = Table(root, "claims")
    return cell(root, "claims", t.first_key(quantity="patients"), "quantity", "patient", "is not one of")


# ----------------------------------------------------------------------------------------- references


@corruption
def unknown_bib_key(root):
    return cell(
        root,
        "cases",
        Table(root, "cases").first_key(via="gao2022"),
        "via",
        "smith2020",
        "'smith2020' is not a key in references.bib",
    )


@corruption
def unknown_bib_key_outcomes(root):
    t = Table(root, "outcomes")
    return cell(
        root, "outcomes", t.first_key(case_id=""), "source", "smith2020", "not a key in references.bib"
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
    text = p.read_text(encoding="utf-8")
    line = text.count("\n") + 1
    p.write_text(
        text + "@article{gao2022,\n  author = {X}, title = {Y}, journal = {Z}, year = {2022}\n}\n",
        encoding="utf-8",
    )
    return f"references.bib:{line}::", "duplicate key 'gao2022'"


@corruption
def bib_missing_journal(root):
    p = root / "references.bib"
    line = bib_line(root, "kofler2021")
    text = p.read_text(encoding="utf-8")
    start = text.index("{kofler2021,")
    end = text.index("\n}", start)
    entry = re.sub(r"\n\s*journal\s*=\s*\{[^\n]*\},?", "", text[start:end])
    p.write_text(text[:start] + entry + text[end:], encoding="utf-8")
    return f"references.bib:{line}:journal:", "has no journal"


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
    key = t.first_key(source="kofler2021")
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
    key = t.first_key(source="ozden2020")
    return cell(
        root,
        "cases",
        key,
        "n_improved",
        str(int(t.get(key, "n_patients")) + 1),
        "n_improved + n_stable + n_worsened",
    )


@corruption
def complete_partial(root):
    t = Table(root, "cases")
    key = t.first_key(source="kofler2021")
    t.set(key, "n_complete", "20").set(key, "n_partial", "10").save()
    return f"data/cases.csv:{t.line(key)}:n_complete:", "n_complete + n_partial = 30"


@corruption
def male_female(root):
    t = Table(root, "cases")
    key = t.first_key(source="kim2015")
    return cell(root, "cases", key, "n_male", "5", "n_male + n_female")


@corruption
def relapsed_exceed(root):
    t = Table(root, "cases")
    return cell(root, "cases", t.first_key(source="vieira2016"), "n_relapsed", "2", "n_relapsed is 2")


@corruption
def thrombophilic_exceed(root):
    t = Table(root, "cases")
    return cell(root, "cases", t.first_key(source="monshi2014"), "n_thrombophilic", "12", "cannot exceed")


@corruption
def serious_exceeds_any(root):
    t = Table(root, "cases")
    key = t.first_key(source="pitarch2005")
    return cell(root, "cases", key, "n_serious_adverse_events", "1", "with serious adverse events but only 0")


@corruption
def age_below_min(root):
    t = Table(root, "cases")
    return cell(root, "cases", t.first_key(source="kofler2021"), "age_years", "40", "below age_min")


@corruption
def dose_min_above_max(root):
    t = Table(root, "cases")
    return cell(
        root,
        "cases",
        t.first_key(source="kreuter2004"),
        "dose_g_kg_min",
        "1.8",
        "dose_g_kg_min 1.8 is greater than dose_g_kg_max 1.5",
    )


@corruption
def cycles_median_outside(root):
    t = Table(root, "cases")
    return cell(root, "cases", t.first_key(source="kofler2021"), "cycles_median", "50", "outside cycles_min")


@corruption
def age_stat_without_age(root):
    t = Table(root, "cases")
    key = t.first_key(source="ravat2002")
    return cell(root, "cases", key, "age_stat", "mean", "age_years is empty")


@corruption
def age_without_stat(root):
    t = Table(root, "cases")
    return cell(root, "cases", t.first_key(source="kim2015"), "age_stat", "", "age_stat must say")


@corruption
def age_value_for_group(root):
    t = Table(root, "cases")
    return cell(root, "cases", t.first_key(source="bounfour2013"), "age_stat", "value", "single patient")


@corruption
def daily_dose_too_high(root):
    t = Table(root, "cases")
    key = t.first_key(source="ravat2002", dose_g_kg_max="1")
    return cell(root, "cases", key, "dose_g_kg_max", "2.8", "above 2.5 g/kg/day")


@corruption
def cycle_dose_too_high(root):
    t = Table(root, "cases")
    return cell(root, "cases", t.first_key(source="kofler2021"), "dose_g_kg_max", "4", "above 3 g/kg")


@corruption
def year_in_future(root):
    t = Table(root, "cases")
    return cell(root, "cases", t.first_key(source="kofler2021"), "year", "2099", "in the future")


@corruption
def case_id_prefix(root):
    t = Table(root, "cases")
    key = t.first_key(source="singh2020")
    t.set(key, "disease", "LCV").save()
    return f"data/cases.csv:{t.line(key)}:case_id:", "expected 'LCV-singh2020-NN'"


@corruption
def via_equals_source(root):
    t = Table(root, "cases")
    return cell(root, "cases", t.first_key(source="kim2015"), "via", "kim2015", "via is the same as source")


@corruption
def source_disagrees_country(root):
    t = Table(root, "cases")
    keys = [r[0] for r in t.rows if r[t.header.index("source")] == "rist2011"]
    return cell(root, "cases", keys[-1], "country", "Germany", "all rows of one source must agree")


@corruption
def case_report_many_patients(root):
    t = Table(root, "cases")
    key = t.first_key(source="yoshioka2018")
    t.set(key, "n_patients", "2").save()
    return f"data/cases.csv:{t.line(key)}:design:", "is a case_report but its rows add up to 2 patients"


@corruption
def year_differs_from_bib(root):
    t = Table(root, "cases")
    key = t.first_key(source="schanz2003")
    return cell(root, "cases", key, "year", "2004", "references.bib gives 2003")


@corruption
def steroid_dose_without_drug(root):
    t = Table(root, "cases")
    return cell(root, "cases", t.first_key(source="singh2020"), "steroid_drug", "", "steroid_drug must name")


# ----------------------------------------------------------------------------------------- outcome rules


@corruption
def outcome_source_without_cases(root):
    t = Table(root, "outcomes")
    key = t.first_key(source="rist2011")
    return cell(root, "outcomes", key, "source", "gao2022", "has no rows in data/cases.csv")


@corruption
def outcome_case_other_source(root):
    t = Table(root, "outcomes")
    key = t.first_key(source="sanges2017")
    cases = Table(root, "cases")
    return cell(
        root, "outcomes", key, "case_id", cases.first_key(source="rist2011"), "belongs to source 'rist2011'"
    )


@corruption
def outcome_id_prefix(root):
    t = Table(root, "outcomes")
    key = t.first_key(source="sanges2017")
    new = "SjS" + key[3:]
    t.set(key, "outcome_id", new).save()
    return f"data/outcomes.csv:{t.line(new)}:outcome_id:", "must start with 'SSc-sanges2017-'"


@corruption
def outcome_duplicate_measure(root):
    t = Table(root, "outcomes")
    a = t.first_key(source="rist2011", timepoint="overall")
    b = t.rows[t.index(a) + 1][0]
    t.set(b, "measure", t.get(a, "measure")).save()
    return f"data/outcomes.csv:{t.line(b)}:measure:", f"as line {t.line(a)}"


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
    key = t.first_key(statistic="count", n="19")
    return cell(root, "outcomes", key, "value", "20", "count 20 is more than n 19")


@corruption
def p_value_on_before(root):
    t = Table(root, "outcomes")
    return cell(
        root, "outcomes", t.first_key(timepoint="before"), "p_value", "0.05", "belongs on the 'after' row"
    )


# ------------------------------------------------------------------------------ search and selection


def _first_included(root) -> tuple[Table, str]:
    t = Table(root, "screening")
    rid = next(r[0] for r in t.rows if r[t.header.index("stage")] == "3_eligibility" and r[3] == "include")
    return t, rid


def _screening_line(t: Table, rid: str, stage: str) -> int:
    reader = csv.reader(io.StringIO(t.path.read_text(encoding="utf-8")))
    end = 0
    for rec in reader:
        start, end = end + 1, reader.line_num
        if rec and rec[0] == rid and rec[2] == stage:
            return start
    raise KeyError((rid, stage))


@corruption
def exclusion_without_reason(root):
    t = Table(root, "screening")
    i = next(
        i
        for i, r in enumerate(t.rows)
        if r[2] == "3_eligibility" and r[3] == "exclude" and r[4] != "same_patients"
    )
    rid = t.rows[i][0]
    t.rows[i][4] = ""
    t.save()
    return f"data/screening.csv:{_screening_line(t, rid, '3_eligibility')}:reason:", "needs a reason"


@corruption
def same_patients_without_link(root):
    t = Table(root, "screening")
    i = next(i for i, r in enumerate(t.rows) if r[4] == "same_patients")
    rid = t.rows[i][0]
    t.rows[i][t.header.index("linked_record")] = ""
    t.save()
    return f"data/screening.csv:{_screening_line(t, rid, t.rows[i][2])}:linked_record:", "needs linked_record"


@corruption
def included_without_role(root):
    t, rid = _first_included(root)
    t.rows[next(i for i, r in enumerate(t.rows) if r[0] == rid and r[2] == "3_eligibility")][
        t.header.index("role")
    ] = ""
    t.save()
    return f"data/screening.csv:{_screening_line(t, rid, '3_eligibility')}:role:", "needs a role"


@corruption
def unknown_reason_code(root):
    t = Table(root, "screening")
    i = next(i for i, r in enumerate(t.rows) if r[4])
    rid, stage = t.rows[i][0], t.rows[i][2]
    t.rows[i][4] = "boring"
    t.save()
    return f"data/screening.csv:{_screening_line(t, rid, stage)}:reason:", "is not one of wrong_disease"


@corruption
def search_count_mismatch(root):
    t = Table(root, "searches")
    key = t.rows[0][0]
    t.set(key, "n_results", str(int(t.get(key, "n_results")) + 1)).save()
    return f"data/searches.csv:{t.line(key)}:n_results:", "lists"


@corruption
def result_of_unknown_record(root):
    t = Table(root, "search_results")
    t.rows[0][t.header.index("record_id")] = "R9999"
    t.save()
    return "data/search_results.csv:2:record_id:", "is not a record_id in data/records.csv"


@corruption
def record_bib_key_missing_from_bib(root):
    t = Table(root, "records")
    key = t.first_key(record_id=t.rows[0][0])
    t.set(key, "bib_key", "nobody2024").save()
    return f"data/records.csv:{t.line(key)}:bib_key:", "not a key in references.bib"


@corruption
def case_source_not_an_included_record(root):
    t = Table(root, "records")
    key = next(r[0] for r in t.rows if r[t.header.index("bib_key")] == "singh2020")
    t.set(key, "bib_key", "").save()
    cases = Table(root, "cases")
    cid = cases.first_key(source="singh2020")
    return f"data/cases.csv:{cases.line(cid)}:source:", "is not a record included as primary"


@corruption
def retrieval_before_screening(root):
    t = Table(root, "screening")
    i = next(i for i, r in enumerate(t.rows) if r[2] == "1_title_abstract" and r[3] == "include")
    rid = t.rows[i][0]
    t.rows[i][3] = "exclude"
    t.save()
    return f"data/screening.csv:{_screening_line(t, rid, '2_retrieval')}:stage:", "was not included at title"


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
