"""``livingreview add``: add one case group (or, with ``--outcome``, one outcome measure).

Values come from one option per schema field (``--case-id``, ``--n-patients``, ...), or, when stdin is a
terminal, from prompts asked field by field (description, allowed values, unit, a proposed ``case_id``;
an empty answer means unknown for optional fields; a bad answer is asked again with the reason). Everything
the prompts and options say comes from ``data/datapackage.json``.

Before anything is written the new row is checked: the whole tree, with the row (and a new reference) added,
is copied to a temporary directory and run through ``livingreview.validate.validate_tree``; duplicates (the
same id, or a row identical but for its id) and unknown source keys are refused. Only then are the files
written, atomically and in canonical form, so that ``git diff`` shows just the new line(s). A refusal prints
``file:line:column: what is wrong``, exits 1 and leaves every file byte-identical.

A new reference can come with the row: pasted BibTeX (``--bibtex`` / ``--bibtex-file``) or a manual record
(``--bib-key``, ``--bib-authors``, ``--bib-title``, ``--bib-journal``, ``--bib-year``, ``--bib-volume``,
``--bib-pages``).

``python -m livingreview.cli.add --issue-form`` prints the GitHub issue form
(``.github/ISSUE_TEMPLATE/case-submission.yml``) generated from the same schema.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livingreview.errors import UserError

DATA_DIR = "data"
DESCRIPTOR = "datapackage.json"
BIBFILE = "references.bib"
KEY_PATTERN = re.compile(r"^[a-z][a-z]*[0-9]{4}[a-z]?$")
#: fields asked first, so that a default id can be proposed from them
PROMPT_FIRST = {
    "cases": ("disease", "source", "via", "case_id"),
    "outcomes": ("source", "case_id", "domain", "measure", "timepoint", "outcome_id"),
}
#: fields every row of one source shares (the validator insists); prompts propose the source's value
SOURCE_LEVEL = ("via", "design", "country", "year")
ID_FIELD = {"cases": "case_id", "outcomes": "outcome_id"}
#: unit of a field, derived from its name (the schema's descriptions say the same in words)
_UNITS = (
    (re.compile(r"^dose_g_kg_"), "g/kg body weight per cycle"),
    (re.compile(r"^days_per_cycle_"), "days per cycle"),
    (re.compile(r"^interval_weeks_"), "weeks (monthly = 4; days / 7 rounded to 2 decimals)"),
    (re.compile(r"^age_(years|min|max)$"), "years"),
    (re.compile(r"_mg_day_"), "mg/day"),
    (re.compile(r"_months$"), "months"),
    (re.compile(r"^cycles_"), "cycles"),
    (re.compile(r"^n(_|$)"), "patients"),
)
_BIB_MANUAL = ("key", "authors", "title", "journal", "year", "volume", "pages")

Prompt = Callable[[str], str]


# --------------------------------------------------------------------------------------------
# the schema


def load_descriptor(root: Path) -> dict:
    path = Path(root) / DATA_DIR / DESCRIPTOR
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"{DATA_DIR}/{DESCRIPTOR}: not found under {Path(root).resolve()} (see --root)"
        ) from None
    except ValueError as exc:
        raise UserError(f"{DATA_DIR}/{DESCRIPTOR}: not valid JSON ({exc})") from None


def get_resource(descriptor: dict, name: str) -> dict:
    for res in descriptor.get("resources", []):
        if res.get("name") == name:
            return res
    raise UserError(f"{DATA_DIR}/{DESCRIPTOR} has no resource {name!r}")


def fields_of(resource: dict) -> list[dict]:
    return list(resource["schema"]["fields"])


def unit_of(name: str) -> str | None:
    for pattern, unit in _UNITS:
        if pattern.search(name):
            return unit
    return None


def is_required(spec: dict) -> bool:
    return bool(spec.get("constraints", {}).get("required"))


def option_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def constraint_text(spec: dict) -> str:
    """Type and constraints in words, e.g. 'integer ≥ 1' or 'one of: LCV, CLE'."""
    c = spec.get("constraints", {})
    parts = [spec.get("type", "string")]
    if "enum" in c:
        parts = ["one of: " + ", ".join(c["enum"])]
    if "minimum" in c and "maximum" in c:
        parts.append(f"{c['minimum']}–{c['maximum']}")
    elif "minimum" in c:
        parts.append(f"≥ {c['minimum']}")
    elif "maximum" in c:
        parts.append(f"≤ {c['maximum']}")
    if "maxLength" in c:
        parts.append(f"at most {c['maxLength']} characters")
    return ", ".join(parts)


def help_text(spec: dict) -> str:
    """The option's help: the schema description, allowed values, unit, required or not."""
    text = spec.get("description", "").strip()
    text += f" [{constraint_text(spec)}"
    unit = unit_of(spec["name"])
    if unit and spec.get("type") in ("integer", "number"):
        text += f"; unit: {unit}"
    if "example" in spec:
        text += f"; e.g. {spec['example']}"
    text += "; required]" if is_required(spec) else "; optional: empty = unknown]"
    return text.replace("%", "%%")


# --------------------------------------------------------------------------------------------
# command line


def _schema_for_options() -> dict | None:
    """The descriptor the options are made from: the repository around the current directory."""
    from livingreview.paths import find_root

    try:
        return load_descriptor(find_root("."))
    except (FileNotFoundError, UserError):
        return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Add one case group to data/cases.csv (with --outcome: one measure to data/outcomes.csv). Give every "
        "value as an option, or run it in a terminal without them to be asked field by field. Nothing is "
        "written unless the whole data package is valid with the new row."
    )
    parser.add_argument("--outcome", action="store_true", help="add a row to data/outcomes.csv instead")
    parser.add_argument("--no-input", action="store_true", help="never prompt, even in a terminal")
    parser.add_argument("--dry-run", action="store_true", help="check and show the row; write nothing")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation before writing")
    descriptor = _schema_for_options()
    seen: dict[str, argparse.Action] = {}
    if descriptor is not None:
        for res_name in ("cases", "outcomes"):
            try:
                res = get_resource(descriptor, res_name)
            except UserError:
                continue
            group = parser.add_argument_group(
                f"{res_name} fields (data/{res['path']})"
                if res_name == "cases"
                else "outcome fields (--outcome)"
            )
            for spec in fields_of(res):
                if spec["name"] in seen:  # shared by both tables (source, case_id, locator, notes)
                    seen[spec["name"]].help += " With --outcome: " + help_text(spec)
                    continue
                seen[spec["name"]] = group.add_argument(
                    option_name(spec["name"]),
                    dest=f"field_{spec['name']}",
                    metavar="|".join(spec["constraints"]["enum"])
                    if "enum" in spec.get("constraints", {})
                    else spec.get("type", "string").upper(),
                    help=help_text(spec),
                )
    bib = parser.add_argument_group("new reference (when the source is not yet in references.bib)")
    bib.add_argument("--bibtex", metavar="TEXT", help="the BibTeX entry, pasted: '@article{key, ...}'")
    bib.add_argument("--bibtex-file", metavar="FILE", help="a file holding the BibTeX entry")
    bib.add_argument(
        "--bib-key", metavar="KEY", help="bib key: first author + year, lowercase ASCII, e.g. kofler2021"
    )
    bib.add_argument("--bib-authors", metavar="TEXT", help="authors as 'Last, F. and Last, F.'")
    bib.add_argument("--bib-title", metavar="TEXT", help="title of the report")
    bib.add_argument("--bib-journal", metavar="TEXT", help="journal")
    bib.add_argument("--bib-year", metavar="YEAR", help="publication year")
    bib.add_argument("--bib-volume", metavar="TEXT", help="volume")
    bib.add_argument("--bib-pages", metavar="TEXT", help="pages, e.g. 1003--1004")


def run(args: argparse.Namespace) -> int:
    root = Path(args.root)
    res_name = "outcomes" if args.outcome else "cases"
    given = {k[len("field_") :]: v for k, v in vars(args).items() if k.startswith("field_") and v is not None}
    bib = BibInput(
        bibtex=args.bibtex,
        bibtex_file=args.bibtex_file,
        manual={k: getattr(args, f"bib_{k}") for k in _BIB_MANUAL if getattr(args, f"bib_{k}") is not None},
    )
    interactive = not args.no_input and _stdin_is_tty()
    adder = Adder(root, res_name, out=sys.stdout)
    return adder.add(
        given, bib, prompt=input if interactive else None, dry_run=args.dry_run, confirm=not args.yes
    )


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):
        return False


# --------------------------------------------------------------------------------------------
# adapters to livingreview.datapkg.csvfile, livingreview.datapkg.bibfile and livingreview.datapkg.validate


def read_rows(path: Path, relpath: str) -> list[dict[str, str]]:
    from livingreview.cli.check_release import table_rows

    return table_rows(path, relpath)


def canonical_table_text(resource: dict, rows: list[dict[str, str]], relpath: str) -> str:
    """The canonical text of a table holding ``rows`` (livingreview.datapkg.csvfile); Refused when impossible."""
    import numpy as np

    from livingreview.datapkg import csvfile as canonical

    schema = resource["schema"]
    names = [f["name"] for f in schema["fields"]]
    columns = [np.array([r.get(n, "") for r in rows], dtype=object) for n in names]
    table = canonical.RawTable(relpath, names, columns, np.arange(2, len(rows) + 2, dtype=np.int64))
    text, problems = canonical.canonical_text(table, schema["fields"], schema.get("primaryKey") or names[:1])
    if text is None:
        raise Refused("nothing was written:\n" + "\n".join(str(p) for p in problems))
    return text


def write_text_atomic(path: Path, text: str) -> None:
    from livingreview.datapkg import csvfile as canonical

    canonical.write_atomic(path, text)


def bib_entries(path: Path) -> dict[str, dict[str, str]]:
    from livingreview.datapkg import bibfile as bib

    return {k: dict(e.fields) for k, e in bib.load_bib(path).entries.items()} if path.is_file() else {}


def parse_bibtex(text: str, where: str) -> list[tuple[str, str, dict[str, str]]]:
    """Entries of a BibTeX string as (type, key, fields); Refused when it does not parse."""
    from livingreview.datapkg import bibfile as bib

    parsed = bib.parse_bib(text, where)
    problems = [f"{where}: line {line}: {message}" for line, message in parsed.errors + parsed.failures]
    problems += [f"{where}: line {line}: duplicate key {key!r}" for key, line, _ in parsed.duplicates]
    if problems:
        raise Refused("\n".join(problems))
    return [(e.entry_type, e.key, dict(e.fields)) for e in parsed.entries.values()]


def validate_tree(root: Path) -> list[Any]:
    from livingreview.datapkg.validate import validate_tree as validate

    return list(validate(root))


def check_value(spec: dict, value: str) -> str | None:
    """What is wrong with one cell value of a field (type, enum, pattern, length, range), or None.

    Uses the validator's own cell check, so a prompt and ``livingreview validate`` always agree."""
    from livingreview.datapkg import validate

    messages, *_ = validate._column_messages({**spec, "constraints": spec.get("constraints", {})}, value)
    return "; ".join(messages) or None


def problem_text(problem: Any) -> str:
    return str(problem)


# --------------------------------------------------------------------------------------------
# references


@dataclass
class BibInput:
    bibtex: str | None = None
    bibtex_file: str | None = None
    manual: dict[str, str] = field(default_factory=dict)

    def given(self) -> bool:
        return bool(self.bibtex or self.bibtex_file or self.manual)


def _braced(value: str) -> str:
    return "{" + value.strip() + "}"


def render_entry(entry_type: str, key: str, fields: dict[str, str]) -> str:
    """One entry in the layout of references.bib (two-space indent, names padded to 7)."""
    lines = [f"@{entry_type.lower()}{{{key},"]
    items = [(k, v) for k, v in fields.items() if str(v).strip()]
    for i, (name, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"  {name.lower():<7} = {_braced(str(value))}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def build_bib_entry(bib: BibInput, option_prefix: str = "--") -> tuple[str, str] | None:
    """(key, entry text) from the bib options, or None when none was given. UserError when malformed."""
    sources = [n for n, v in (("--bibtex", bib.bibtex), ("--bibtex-file", bib.bibtex_file)) if v]
    if len(sources) > 1 or (sources and bib.manual):
        raise UserError("give the new reference one way: --bibtex, --bibtex-file, or the --bib-* options")
    if bib.bibtex_file:
        try:
            text = Path(bib.bibtex_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"--bibtex-file {bib.bibtex_file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UserError(f"--bibtex-file {bib.bibtex_file}: not UTF-8 text") from None
        return _entry_from_bibtex(text, "--bibtex-file")
    if bib.bibtex:
        return _entry_from_bibtex(bib.bibtex, "--bibtex")
    if bib.manual:
        missing = [f"--bib-{k}" for k in _BIB_MANUAL if not (bib.manual.get(k) or "").strip()]
        if missing:
            raise UserError(f"a manual reference needs {', '.join(missing)} as well")
        key = bib.manual["key"].strip()
        _check_key(key, "--bib-key")
        year = bib.manual["year"].strip()
        if not re.fullmatch(r"[12][0-9]{3}", year):
            raise UserError(f"--bib-year: {year!r} is not a year (e.g. 2021)")
        if not key.endswith(year) and not re.fullmatch(re.escape(year) + "[a-z]", key[-5:]):
            raise UserError(f"--bib-key {key}: the key must end with the year {year} (firstauthorYEAR)")
        fields = {
            "author": bib.manual["authors"],
            "title": bib.manual["title"],
            "journal": bib.manual["journal"],
            "year": year,
            "volume": bib.manual["volume"],
            "pages": bib.manual["pages"],
        }
        return key, render_entry("article", key, fields)
    return None


def _check_key(key: str, where: str) -> None:
    if not KEY_PATTERN.match(key):
        raise UserError(
            f"{where}: bib key {key!r} is not firstauthorYEAR in lowercase ASCII with an optional letter "
            "suffix (e.g. kofler2021, kofler2021b)"
        )


def _entry_from_bibtex(text: str, where: str) -> tuple[str, str]:
    entries = parse_bibtex(text, where)
    if len(entries) != 1:
        raise UserError(f"{where}: expected exactly one BibTeX entry, found {len(entries)}")
    entry_type, key, fields = entries[0]
    _check_key(key, f"{where} {key}")
    missing = [f for f in ("author", "title", "year") if not (fields.get(f) or "").strip()]
    if missing:
        raise UserError(f"{where} {key}: the entry lacks {', '.join(missing)}")
    return key, render_entry(entry_type, key, fields)


# --------------------------------------------------------------------------------------------
# adding a row


class Refused(UserError):
    """The row is not added; the message lists why."""


@dataclass
class Adder:
    root: Path
    resource_name: str = "cases"
    out: Any = None

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.descriptor = load_descriptor(self.root)
        self.resource = get_resource(self.descriptor, self.resource_name)
        self.fields = fields_of(self.resource)
        self.specs = {f["name"]: f for f in self.fields}
        self.path = self.root / DATA_DIR / self.resource["path"]
        self.relpath = f"{DATA_DIR}/{self.resource['path']}"
        self.rows = read_rows(self.path, self.relpath) if self.path.is_file() else []
        self.bib_keys = set(bib_entries(self.root / BIBFILE))
        self.out = self.out or sys.stdout

    # -- helpers ------------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    def column_of(self, name: str) -> int:
        return [f["name"] for f in self.fields].index(name) + 1

    def where(self, name: str, row: dict[str, str] | None = None) -> str:
        """``file:line:field`` of a field of the new row (the line it will have once added)."""
        line = self.line_of(row) if row and row.get(ID_FIELD[self.resource_name]) else "new row"
        return f"{self.relpath}:{line}:{name}: ({option_name(name)})"

    def next_id(self, values: dict[str, str]) -> str | None:
        """The id proposed from the fields given so far."""
        source = values.get("source", "").strip()
        if self.resource_name == "cases":
            disease = values.get("disease", "").strip()
            if not (disease and source):
                return None
            seqs = [
                int(m.group(1))
                for r in self.rows
                if (m := re.fullmatch(rf"[A-Za-z]+-{re.escape(source)}-([0-9]+)", r.get("case_id", "")))
            ]
            return f"{disease}-{source}-{max(seqs, default=0) + 1:02d}"
        case_id = values.get("case_id", "").strip()
        disease = case_id.split("-")[0] if case_id else self._disease_of_source(source)
        measure = re.sub(r"[^a-z0-9]+", "-", values.get("measure", "").lower()).strip("-")
        timepoint = values.get("timepoint", "").strip()
        if not (disease and source and measure and timepoint):
            return None
        return f"{disease}-{source}-{measure}-{timepoint}"

    def _id_hint(self, row: dict[str, str]) -> str:
        proposed = self.next_id(row) if self.resource_name == "cases" else None
        return (
            f"use {proposed}"
            if proposed and proposed != row.get(ID_FIELD[self.resource_name])
            else "choose another"
        )

    def source_default(self, name: str, values: dict[str, str]) -> str | None:
        """For report-level fields (design, country, year, via), the value the source's other rows have."""
        if self.resource_name != "cases" or name not in SOURCE_LEVEL:
            return None
        known = [r.get(name, "") for r in self.rows if r.get("source") == values.get("source")]
        return known[0] if known and known[0] else None

    def _disease_of_source(self, source: str) -> str:
        try:
            res = get_resource(self.descriptor, "cases")
            cases = read_rows(self.root / DATA_DIR / res["path"], f"{DATA_DIR}/{res['path']}")
        except (UserError, OSError):
            return ""
        diseases = sorted({r["disease"] for r in cases if r.get("source") == source})
        return diseases[0] if len(diseases) == 1 else ""

    def normalise(self, name: str, text: str) -> str:
        """Input clean-up only: trimmed text, enum values matched regardless of case, canonical numbers."""
        from livingreview.datapkg.csvfile import canonical_number

        spec = self.specs[name]
        value = str(text).strip()
        if spec.get("type") in ("integer", "number") and value:
            value = canonical_number(value, integer=spec["type"] == "integer") or value
        enum = spec.get("constraints", {}).get("enum")
        if enum and value:
            match = [e for e in enum if e.lower() == value.lower()]
            if len(match) == 1:
                value = match[0]
        return value

    def quick_check(self, name: str, value: str) -> str | None:
        """Why a single value cannot be right (livingreview.datapkg.validate's cell check), or None."""
        return check_value(self.specs[name], value)

    # -- checks on the whole row ----------------------------------------------------------------

    def duplicate_problems(self, row: dict[str, str]) -> list[str]:
        id_field = ID_FIELD[self.resource_name]
        problems = []
        for line, other in enumerate(self.rows, start=2):
            if other.get(id_field) == row[id_field]:
                problems.append(
                    f"{self.relpath}:{line}:{id_field}: {id_field} {row[id_field]} already "
                    f"exists; ids are never reused ({self._id_hint(row)})"
                )
            elif all(other.get(f, "") == row.get(f, "") for f in self.specs if f != id_field):
                problems.append(
                    f"{self.relpath}:{line}:: the new row repeats {other.get(id_field)} "
                    f"(identical in every field but {id_field})"
                )
        return problems

    def source_problems(self, row: dict[str, str], new_key: str | None) -> list[str]:
        keys = self.bib_keys | ({new_key} if new_key else set())
        problems = []
        for name in ("source", "via"):
            key = row.get(name, "")
            if name in self.specs and key and key not in keys:
                problems.append(
                    f"{self.where(name, row)} {key!r} is not a key in {BIBFILE}; add the reference "
                    "with --bibtex, --bibtex-file or --bib-key/--bib-authors/--bib-title/--bib-journal/"
                    "--bib-year/--bib-volume/--bib-pages"
                )
        return problems

    def tree_problems(self, row: dict[str, str], bib_entry: tuple[str, str] | None) -> list[str]:
        """validate_tree on a temporary copy of the tree with the row (and the reference) added."""
        with tempfile.TemporaryDirectory(prefix="livingreview-add-") as tmp:
            copy = Path(tmp)
            self._materialise(copy, row, bib_entry)
            problems = validate_tree(copy)
            texts = []
            for p in problems:
                path = Path(str(p.path))
                if path.is_absolute() and path.is_relative_to(copy):
                    path = path.relative_to(copy)
                texts.append(f"{path.as_posix()}:{p.line}:{p.column}: {p.message}")
            return texts

    def staged(self, row: dict[str, str], bib_entry: tuple[str, str] | None) -> dict[str, str]:
        """{relative path: new text} of the files the row (and the reference) change."""
        texts = {}
        if bib_entry is not None:
            bib_path = self.root / BIBFILE
            old = bib_path.read_text(encoding="utf-8") if bib_path.is_file() else ""
            sep = "" if not old or old.endswith("\n") else "\n"
            texts[BIBFILE] = old + sep + bib_entry[1]
        texts[self.relpath] = canonical_table_text(self.resource, [*self.rows, row], self.relpath)
        texts.update(self._ledger_texts(row, bib_entry))
        return texts

    def _ledger_texts(self, row: dict[str, str], bib_entry: tuple[str, str] | None) -> dict[str, str]:
        """A case group from a report not yet in the ledger also adds the report to records.csv and its
        decisions (retrieved, included) to screening.csv: every source is an included record."""
        from livingreview.datapkg import ledger

        names = {r["name"]: r for r in self.descriptor["resources"]}
        if self.resource_name != "cases" or not {"records", "screening", "searches"} <= set(names):
            return {}
        key = row.get("source", "")
        tables = {}
        for name in ("records", "screening", "searches"):
            path = self.root / DATA_DIR / names[name]["path"]
            tables[name] = read_rows(path, f"{DATA_DIR}/{names[name]['path']}") if path.is_file() else []
        if not key or ledger.is_included(key, tables["records"], tables["screening"]):
            return {}
        fields = bib_entries(self.root / BIBFILE).get(key, {})
        if bib_entry is not None and bib_entry[0] == key:
            fields = dict(parse_bibtex(bib_entry[1], "the new reference")[0][2])
        record, decisions = ledger.submission_rows(
            key, row.get("disease", ""), fields, tables["records"], tables["searches"]
        )
        out = {}
        for name, new in (("records", [record]), ("screening", decisions)):
            rel = f"{DATA_DIR}/{names[name]['path']}"
            out[rel] = canonical_table_text(names[name], [*tables[name], *new], rel)
        return out

    def _materialise(self, dest: Path, row: dict[str, str], bib_entry: tuple[str, str] | None) -> None:
        shutil.copytree(self.root / DATA_DIR, dest / DATA_DIR)
        if (self.root / BIBFILE).is_file():
            shutil.copy2(self.root / BIBFILE, dest / BIBFILE)
        for rel, text in self.staged(row, bib_entry).items():
            write_text_atomic(dest / rel, text)

    def line_of(self, row: dict[str, str]) -> int:
        key = ID_FIELD[self.resource_name]
        ids = sorted([r.get(key, "") for r in self.rows] + [row[key]])
        return ids.index(row[key]) + 2

    # -- the whole procedure ---------------------------------------------------------------------

    def add(
        self,
        given: dict[str, str],
        bib: BibInput | None = None,
        prompt: Prompt | None = None,
        dry_run: bool = False,
        confirm: bool = True,
    ) -> int:
        """Add one row. ``prompt`` (e.g. ``input``) asks for missing values; without it they must be given."""
        bib = bib or BibInput()
        unknown = sorted(set(given) - set(self.specs))
        if unknown:
            what = "outcome" if self.resource_name == "outcomes" else "case group"
            raise Refused(f"not a field of a {what}: {', '.join(option_name(n) for n in unknown)}")
        before = self.tree_problems_now()
        if before:
            raise Refused(
                "the data package is already invalid; fix it first (livingreview validate):\n"
                + "\n".join(before)
            )
        values = {name: self.normalise(name, value) for name, value in given.items()}
        bib_entry = build_bib_entry(bib)
        if prompt is not None:
            values, bib_entry = self.ask_all(values, bib_entry, prompt, ask_optional=not given)
        else:
            id_field = ID_FIELD[self.resource_name]
            if not values.get(id_field) and (proposed := self.next_id(values)):
                values[id_field] = proposed
                self.say(f"{id_field}: {proposed} (proposed; give {option_name(id_field)} to choose another)")
            missing = [n for n, s in self.specs.items() if is_required(s) and not values.get(n)]
            if missing:
                raise Refused(
                    "missing required option(s): "
                    + ", ".join(option_name(n) for n in missing)
                    + " (see `livingreview add --help`; run it in a terminal to be asked instead)"
                )
        row = {name: values.get(name, "") for name in self.specs}
        problems = self.row_problems(row, bib_entry)
        if problems and prompt is not None:
            row, bib_entry = self.fix_interactively(row, bib_entry, problems, prompt)
            problems = []
        if problems:
            raise Refused("nothing was written:\n" + "\n".join(problems))
        return self.finish(row, bib_entry, prompt if confirm else None, dry_run)

    def tree_problems_now(self) -> list[str]:
        return [problem_text(p) for p in validate_tree(self.root)]

    def row_problems(self, row: dict[str, str], bib_entry: tuple[str, str] | None) -> list[str]:
        problems = [
            f"{self.where(n, row)} {why}" for n in self.specs if (why := self.quick_check(n, row.get(n, "")))
        ]
        problems += self.duplicate_problems(row)
        if bib_entry is not None and bib_entry[0] in self.bib_keys:
            problems.append(
                f"{BIBFILE}: {bib_entry[0]!r} is already a key; drop the new reference or pick a free key"
            )
        problems += self.source_problems(row, bib_entry[0] if bib_entry else None)
        if problems:
            return problems
        line = self.line_of(row)
        out = []
        for text in self.tree_problems(row, bib_entry):
            if text.startswith(f"{self.relpath}:{line}:"):
                text += " (the new row)"
            out.append(text)
        return out

    def finish(
        self, row: dict[str, str], bib_entry: tuple[str, str] | None, prompt: Prompt | None, dry_run: bool
    ) -> int:
        id_field = ID_FIELD[self.resource_name]
        shown = [f"  {n}: {v}" for n, v in row.items() if v]
        self.say(f"New row for {self.relpath}:")
        self.say("\n".join(shown))
        if bib_entry is not None:
            self.say(f"New reference for {BIBFILE}:\n{bib_entry[1]}")
        if dry_run:
            self.say("Dry run: the row is valid; nothing was written.")
            return 0
        if prompt is not None:
            answer = _ask(prompt, "Write it? [Y/n] ").strip().lower()
            if answer not in ("", "y", "yes"):
                self.say("Nothing was written.")
                return 1
        # the reference first: a row whose source is missing would be worse than an unused entry
        for rel, text in sorted(self.staged(row, bib_entry).items(), key=lambda item: item[0] != BIBFILE):
            write_text_atomic(self.root / rel, text)
        self.say(f"Added {row[id_field]} to {self.relpath} (line {self.line_of(row)}).")
        if bib_entry is not None:
            self.say(f"Added {bib_entry[0]} to {BIBFILE}.")
        self.say(
            "Next: `make test`, `livingreview diff`, bump the version in data/datapackage.json and "
            "CITATION.cff "
            "and add a data/CHANGELOG.md entry (`livingreview check-release` says which), then open "
            "a pull request."
        )
        return 0

    # -- prompting ------------------------------------------------------------------------------

    def prompt_order(self) -> list[str]:
        first = [n for n in PROMPT_FIRST.get(self.resource_name, ()) if n in self.specs]
        return first + [n for n in self.specs if n not in first]

    def ask_all(
        self, values: dict[str, str], bib_entry: tuple[str, str] | None, prompt: Prompt, ask_optional: bool
    ) -> tuple[dict[str, str], tuple[str, str] | None]:
        values = dict(values)
        order = [
            n for n in self.prompt_order() if n not in values and (ask_optional or is_required(self.specs[n]))
        ]
        if order:
            self.say(
                f"Adding a row to {self.relpath}. Answer each question; an empty answer means unknown "
                "(optional fields only). Ctrl-C stops without writing anything."
            )
        for number, name in enumerate(order, start=1):
            values[name] = self.ask_field(name, values, prompt, f"[{number}/{len(order)}]")
            if name == "source" and values[name] not in self.bib_keys and bib_entry is None:
                bib_entry = self.ask_bib(values[name], prompt)
        return values, bib_entry

    def ask_field(
        self, name: str, values: dict[str, str], prompt: Prompt, counter: str = "", reason: str = ""
    ) -> str:
        spec = self.specs[name]
        required = is_required(spec)
        self.say("")
        self.say(f"{counter} {name} — {'required' if required else 'optional, empty = unknown'}".strip())
        self.say(f"  {spec.get('description', '')}")
        enum = spec.get("constraints", {}).get("enum")
        if enum:
            self.say(f"  Allowed values: {', '.join(enum)}")
        else:
            self.say(f"  Type: {constraint_text(spec)}")
        unit = unit_of(name)
        if unit and spec.get("type") in ("integer", "number"):
            self.say(f"  Unit: {unit}")
        default = (
            self.next_id(values)
            if name == ID_FIELD[self.resource_name]
            else self.source_default(name, values)
        )
        if reason:
            self.say(f"  ✗ {reason}")
        while True:
            suffix = f" [{default}]" if default else ""
            answer = self.normalise(name, _ask(prompt, f"{name}{suffix}: "))
            if not answer and default:
                answer = default
            why = self.quick_check(name, answer)
            if why is None and name in ("source", "via") and answer:
                why = None if KEY_PATTERN.match(answer) else f"{answer!r} is not a bib key like kofler2021"
            if why is None:
                return answer
            self.say(f"  ✗ {why}; try again")

    def ask_bib(self, key: str, prompt: Prompt) -> tuple[str, str]:
        self.say(f"\n'{key}' is not in {BIBFILE} yet. Paste its BibTeX entry and finish with an empty line,")
        self.say("or just press Enter to type the reference field by field.")
        while True:
            lines: list[str] = []
            while True:
                line = _ask(prompt, "bibtex> " if not lines else "...... ")
                if not line.strip():
                    break
                lines.append(line)
            try:
                if lines:
                    entry = _entry_from_bibtex("\n".join(lines), "BibTeX")
                else:
                    manual = {"key": key}
                    for part in _BIB_MANUAL[1:]:
                        manual[part] = _ask(prompt, f"{part}: ").strip()
                    entry = build_bib_entry(BibInput(manual=manual))
                    assert entry is not None
            except UserError as exc:
                self.say(f"  ✗ {exc}; try again")
                continue
            if entry[0] != key:
                self.say(f"  ✗ the entry's key is {entry[0]!r}, but the source is {key!r}; try again")
                continue
            return entry

    def fix_interactively(
        self, row: dict[str, str], bib_entry: tuple[str, str] | None, problems: list[str], prompt: Prompt
    ) -> tuple[dict[str, str], tuple[str, str] | None]:
        """Re-ask the fields the problems point at until the row is valid (or the user gives up)."""
        for _ in range(20):
            self.say("\nThe row is not valid yet:")
            for p in problems:
                self.say(f"  ✗ {p}")
            names: list[str] = []
            for p in problems:
                names += [n for n in self.fields_in(p) if n not in names]
            if not names:
                raise Refused("nothing was written:\n" + "\n".join(problems))
            for name in names:
                reason = next((p for p in problems if name in self.fields_in(p)), "")
                row[name] = self.ask_field(name, row, prompt, reason=reason)
                if (
                    name == "source"
                    and row[name] not in self.bib_keys
                    and (bib_entry is None or bib_entry[0] != row[name])
                ):
                    bib_entry = self.ask_bib(row[name], prompt)
            problems = self.row_problems(row, bib_entry)
            if not problems:
                return row, bib_entry
        raise Refused("nothing was written:\n" + "\n".join(problems))

    def fields_in(self, problem: str) -> list[str]:
        """The fields of the new row a problem is about: its column, else the fields its message names."""
        m = re.match(r"^[^:]*:[^:]*:([A-Za-z_]*):", problem)
        if m and m.group(1) in self.specs:
            return [m.group(1)]
        return [n for n in self.specs if re.search(rf"\b{re.escape(n)}\b", problem)]


def _ask(prompt: Prompt, text: str) -> str:
    try:
        return prompt(text)
    except EOFError:
        raise UserError("input ended before every question was answered; nothing was written") from None


# --------------------------------------------------------------------------------------------
# the GitHub issue form, generated from the schema


_TEXTAREA_MIN_LENGTH = 300


def issue_form(descriptor: dict) -> str:
    """``.github/ISSUE_TEMPLATE/case-submission.yml``: one form element per field of cases.csv."""
    import yaml

    cases = get_resource(descriptor, "cases")
    body: list[dict[str, Any]] = [
        {
            "type": "markdown",
            "attributes": {
                "value": (
                    "Thank you for submitting a published case treated with IVIG. One form = one "
                    "**case group** "
                    "(a patient, or the patients of one report who share disease, subgroup and IVIG "
                    "regimen). "
                    "Leave a field empty when the report does not say; never guess. How to code each field: "
                    "CONTRIBUTING.md, 'How to code each field'. This form is generated from "
                    "data/datapackage.json (`python -m livingreview.cli.add --issue-form`)."
                )
            },
        },
        {
            "type": "textarea",
            "id": "reference",
            "attributes": {
                "label": "Reference (BibTeX or full citation with DOI)",
                "description": "The primary report; if you read it through a review, cite the review too.",
                "render": "bibtex",
            },
            "validations": {"required": True},
        },
    ]
    for spec in fields_of(cases):
        c = spec.get("constraints", {})
        description = spec.get("description", "")
        unit = unit_of(spec["name"])
        if unit and spec.get("type") in ("integer", "number"):
            description += f" Unit: {unit}."
        if "enum" not in c:
            description += f" ({constraint_text(spec)})"
        attributes: dict[str, Any] = {"label": spec["name"], "description": description}
        if "enum" in c:
            element = {
                "type": "dropdown",
                "id": spec["name"],
                "attributes": {**attributes, "options": list(c["enum"])},
            }
        elif spec.get("type") == "string" and c.get("maxLength", 0) >= _TEXTAREA_MIN_LENGTH:
            element = {"type": "textarea", "id": spec["name"], "attributes": attributes}
        else:
            if "example" in spec:
                attributes["placeholder"] = str(spec["example"])
            element = {"type": "input", "id": spec["name"], "attributes": attributes}
        required = bool(c.get("required"))
        if spec["name"] == "case_id":  # maintainers assign it when they add the case
            required = False
            element["attributes"]["description"] += " Leave empty if unsure: the maintainers assign it."
        element["validations"] = {"required": required}
        body.append(element)
    body.append(
        {
            "type": "checkboxes",
            "id": "scope",
            "attributes": {
                "label": "Scope",
                "options": [
                    {
                        "label": (
                            "Human patients with one of the five diseases, treated with "
                            "intravenous immunoglobulin"
                        ),
                        "required": True,
                    },
                    {
                        "label": (
                            "Published (journal article, letter or conference abstract with a citable source)"
                        ),
                        "required": True,
                    },
                    {
                        "label": "These patients are not already in data/cases.csv (not a duplicate report)",
                        "required": True,
                    },
                ],
            },
        }
    )
    form = {
        "name": "Case submission",
        "description": "Submit a published case (group) of IVIG treatment for the living review",
        "title": "[case] <disease> <firstauthorYEAR>",
        "labels": ["case-submission"],
        "body": body,
    }
    header = (
        "# GENERATED from data/datapackage.json by `python -m livingreview.cli.add --issue-form`; "
        "do not edit.\n"
        "# tests/test_github_files.py fails when this file and the schema disagree.\n"
    )
    return header + yaml.safe_dump(form, sort_keys=False, allow_unicode=True, width=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m livingreview.cli.add")
    parser.add_argument("--root", default=".")
    parser.add_argument("--issue-form", action="store_true", help="print the GitHub issue form")
    args = parser.parse_args(argv)
    if not args.issue_form:
        parser.print_help()
        return 0
    sys.stdout.write(issue_form(load_descriptor(Path(args.root))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
