"""A new row for ``cases.csv`` or ``outcomes.csv`` before it is written: the id proposed for it, the values
its report's other rows already have, the rows it would duplicate, what ``validate`` finds in the tree with it
added, and the new text of every file it changes (the table, ``references.bib`` and, for a report new to the
review, its record and decisions in the ledger and its appraisal). Nothing here writes into the tree;
``livingreview add`` asks for the values and writes the files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from livingreview.datapkg import ledger
from livingreview.datapkg.bib_entry import NewEntry, parse_entries
from livingreview.datapkg.bibfile import entry_fields
from livingreview.datapkg.canonical_form import canonical_number, table_text
from livingreview.datapkg.csvfile import resource_records
from livingreview.datapkg.descriptor import require_descriptor, require_resource, resource_path
from livingreview.datapkg.schema_checks import cell_problems
from livingreview.datapkg.validate import validate_staged
from livingreview.errors import UserError
from livingreview.paths import BIBFILE

__all__ = ["ID_FIELD", "SOURCE_LEVEL", "NewRow"]

ID_FIELD = {"cases": "case_id", "outcomes": "outcome_id"}
#: fields every row of one source shares (the validator insists); a new row of the source proposes its value
SOURCE_LEVEL = ("via", "design", "country", "year")


def _table_text(res: dict, rows: list[dict[str, str]]) -> str:
    """The canonical text of a resource's file holding ``rows``; UserError when it cannot be written."""
    text, problems = table_text(res, rows)
    if text is None:
        raise UserError("nothing was written:\n" + "\n".join(str(p) for p in problems))
    return text


@dataclass
class NewRow:
    """A row to add to ``resource_name`` ("cases" or "outcomes") of the tree at ``root``, with what is
    already there: the descriptor, the table's rows (as dicts of cell text) and the keys of references.bib."""

    root: Path
    resource_name: str = "cases"
    #: the appraisal of a report new to the review, written with its first case group (appraisal.csv)
    appraisal: dict[str, str] | None = None

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.descriptor = require_descriptor(self.root)
        self.resource = require_resource(self.descriptor, self.resource_name)
        self.fields = list(self.resource["schema"]["fields"])
        self.specs = {f["name"]: f for f in self.fields}
        self.relpath = resource_path(self.resource)
        self.rows = resource_records(self.root, self.resource)
        self.bib_keys = set(entry_fields(self.root / BIBFILE))

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
            cases = resource_records(self.root, require_resource(self.descriptor, "cases"))
        except (UserError, OSError):
            return ""
        diseases = sorted({r["disease"] for r in cases if r.get("source") == source})
        return diseases[0] if len(diseases) == 1 else ""

    def normalise(self, name: str, text: str) -> str:
        """Input clean-up only: trimmed text, enum values matched regardless of case, canonical numbers."""
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
        return "; ".join(cell_problems(self.specs[name], value)) or None

    def duplicate_problems(self, row: dict[str, str]) -> list[str]:
        """The rows the new one repeats: the same id, or the same values in every other field."""
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

    def tree_problems(self, row: dict[str, str], bib_entry: NewEntry | None) -> list[str]:
        """validate_tree on a temporary copy of the tree with the row (and the reference) added."""
        return [str(p) for p in validate_staged(self.root, self.staged(row, bib_entry))]

    def staged(self, row: dict[str, str], bib_entry: NewEntry | None) -> dict[str, str]:
        """{relative path: new text} of the files the row (and the reference) change."""
        texts = {}
        if bib_entry is not None:
            bib_path = self.root / BIBFILE
            old = bib_path.read_text(encoding="utf-8") if bib_path.is_file() else ""
            sep = "" if not old or old.endswith("\n") else "\n"
            texts[BIBFILE] = old + sep + bib_entry.text
        texts[self.relpath] = _table_text(self.resource, [*self.rows, row])
        texts.update(self._ledger_texts(row, bib_entry))
        if self.appraisal is not None:
            res = require_resource(self.descriptor, "appraisal")
            rows = resource_records(self.root, res)
            texts[resource_path(res)] = _table_text(res, [*rows, {**self.appraisal, "source": row["source"]}])
        return texts

    def needs_appraisal(self, row: dict[str, str]) -> bool:
        """Whether the row's report is not appraised yet (a case group's report must be)."""
        names = {r["name"] for r in self.descriptor["resources"]}
        if self.resource_name != "cases" or "appraisal" not in names or not row.get("source"):
            return False
        appraised = resource_records(self.root, require_resource(self.descriptor, "appraisal"))
        return row["source"] not in {r.get("source") for r in appraised}

    def _ledger_texts(self, row: dict[str, str], bib_entry: NewEntry | None) -> dict[str, str]:
        """A case group from a report not yet in the ledger also adds the report to records.csv and its
        decisions (retrieved, included) to screening.csv: every source is an included record."""
        names = {r["name"]: r for r in self.descriptor["resources"]}
        if self.resource_name != "cases" or not {"records", "screening", "searches"} <= set(names):
            return {}
        key = row.get("source", "")
        tables = {
            name: resource_records(self.root, names[name]) for name in ("records", "screening", "searches")
        }
        if not key or ledger.is_included(key, tables["records"], tables["screening"]):
            return {}
        fields = entry_fields(self.root / BIBFILE).get(key, {})
        if bib_entry is not None and bib_entry.key == key:
            fields = parse_entries(bib_entry.text, "the new reference")[0][2]
        record, decisions = ledger.submission_rows(
            key, row.get("disease", ""), fields, tables["records"], tables["searches"]
        )
        out = {}
        for name, new in (("records", [record]), ("screening", decisions)):
            out[resource_path(names[name])] = _table_text(names[name], [*tables[name], *new])
        return out

    def line_of(self, row: dict[str, str]) -> int:
        """The line the row will have in its file (rows are sorted by id)."""
        key = ID_FIELD[self.resource_name]
        ids = sorted([r.get(key, "") for r in self.rows] + [row[key]])
        return ids.index(row[key]) + 2
