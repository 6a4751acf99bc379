"""The screening queue and the decisions that come back: which records of a round await title/abstract
screening (``livingreview screen export`` hands them to ASReview LAB or Rayyan), and the rows of
``screening.csv`` that a tool's export of decisions adds (``livingreview screen import``).

Every decision is checked before anything is written: its row matched to exactly one record (our record id,
then DOI, then PMID), a reason wherever the selection rules require one, no decision already in the ledger
overwritten, and the whole data package valid with the new rows (``validate_staged``). Nothing here writes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from livingreview.datapkg import ledger
from livingreview.datapkg.canonical_form import table_text
from livingreview.datapkg.csvfile import resource_records
from livingreview.datapkg.descriptor import require_descriptor, require_resource, resource_path
from livingreview.datapkg.problems import Problem
from livingreview.datapkg.screening_formats import TOOLS, Verdict, normalise_doi, read_export
from livingreview.datapkg.selection_rules import STAGE_ELIGIBILITY, STAGE_RETRIEVAL, STAGE_TA, needs_reason
from livingreview.datapkg.validate import validate_staged, validate_tree
from livingreview.errors import UserError

__all__ = ["STAGES", "ImportPlan", "Ledger", "plan_import"]

STAGES = (STAGE_TA, STAGE_RETRIEVAL, STAGE_ELIGIBILITY)
#: what a tool's include/exclude becomes at the retrieval stage (other stages keep include/exclude)
RETRIEVAL = {"include": "retrieved", "exclude": "not_retrieved"}
NOT_RETRIEVABLE = "not_retrievable"  # the one reason of a report not retrieved
MAX_NOTES = 600


@dataclass
class Ledger:
    """``records``, ``screening`` and ``searches`` of the checkout at ``root``, as rows of cell text."""

    root: Path

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        descriptor = require_descriptor(self.root)
        self.resources = {n: require_resource(descriptor, n) for n in ("records", "screening", "searches")}
        self.records, self.screening, self.searches = (
            resource_records(self.root, self.resources[n]) for n in ("records", "screening", "searches")
        )
        rows = [*self.records, *self.screening, *self.searches]
        self.rounds = sorted({r for row in rows if (r := ledger.round_of(row.get("round"))) is not None})

    def choose_round(self, round_: int | None) -> int:
        """``round_``, or the latest round when it is ``None``; UserError for a round the ledger lacks."""
        if not self.rounds:
            raise UserError("the ledger has no round yet")
        if round_ is None:
            return self.rounds[-1]
        if round_ not in self.rounds:
            raise UserError(f"there is no round {round_}; rounds: {', '.join(map(str, self.rounds))}")
        return round_

    def queue(self, round_: int | None = None) -> tuple[int, list[dict[str, str]]]:
        """The round and its database records that have no decision of that round yet, in ledger order."""
        r = self.choose_round(round_)
        waiting = set(ledger.awaiting_screening(self.records, self.screening, r))
        return r, [row for row in self.records if row["record_id"] in waiting]

    def reason_codes(self) -> list[str]:
        """The controlled list of reasons: the enum of ``screening.reason`` in the schema."""
        fields = self.resources["screening"]["schema"]["fields"]
        spec = next((f for f in fields if f["name"] == "reason"), {})
        return list(spec.get("constraints", {}).get("enum", []))

    @cached_property
    def index(self) -> dict[str, dict[str, str]]:
        """Record ids by record id, DOI (as compared) and PMID."""
        index: dict[str, dict[str, str]] = {"id": {}, "doi": {}, "pmid": {}}
        for row in self.records:
            index["id"][row["record_id"]] = row["record_id"]
            for key, value in (("doi", normalise_doi(row.get("doi", ""))), ("pmid", row.get("pmid", ""))):
                if value:
                    index[key].setdefault(value, row["record_id"])
        return index

    def find(self, v: Verdict) -> tuple[str | None, str]:
        """The record a row of an export is about, by our record id, then DOI, then PMID; or ``None`` and
        why no record was found."""
        tried = []
        for key, value in (("id", v.record_id), ("doi", v.doi), ("pmid", v.pmid)):
            if value:
                if value in self.index[key]:
                    return self.index[key][value], ""
                tried.append(f"{'record id' if key == 'id' else key.upper()} {value}")
        if not tried:
            return None, "no record id, DOI or PMID to find the record by"
        return None, f"no record of the ledger has {' or '.join(tried)}"


@dataclass
class ImportPlan:
    """What an import would add: the new rows of ``screening.csv`` (and the line of the file each came
    from), the rows skipped, the problems that refuse the import, and the new file texts."""

    path: str
    tool: str
    round: int
    stage: str
    rows: list[dict[str, str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    undecided: int = 0
    already: int = 0  # the same decision is in the ledger already
    problems: list[Problem] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.rows:
            out[row["decision"]] = out.get(row["decision"], 0) + 1
        return out


def plan_import(
    root: str | Path,
    path: str | Path,
    tool: str,
    stage: str = STAGE_TA,
    round_: int | None = None,
    reason_default: str | None = None,
) -> ImportPlan:
    """The rows an export of ``tool`` (see ``TOOLS``) adds at ``stage`` in ``round_`` (default: the latest),
    with ``reason_default`` for exclusions whose note names no reason; nothing is written."""
    if tool not in TOOLS:
        raise UserError(f"unknown tool {tool!r}; one of: {', '.join(TOOLS)}")
    if stage not in STAGES:
        raise UserError(f"unknown stage {stage!r}; one of: {', '.join(STAGES)}")
    book = Ledger(Path(root))
    codes = book.reason_codes()
    if reason_default is not None and reason_default not in codes:
        raise UserError(
            f"--reason-default {reason_default!r} is not a reason code; one of: {', '.join(codes)}"
        )
    plan = ImportPlan(str(path), tool, book.choose_round(round_), stage)
    verdicts, plan.problems = read_export(path, tool, codes)
    existing = {
        (row["record_id"], ledger.round_of(row["round"]), row["stage"]): row for row in book.screening
    }
    seen: dict[str, int] = {}

    def refuse(v: Verdict, column: str, message: str) -> None:
        plan.problems.append(Problem(plan.path, v.line, column, message))

    for v in verdicts:
        if v.decision is None:
            plan.undecided += 1
            continue
        rid, why = book.find(v)
        if rid is None:
            refuse(v, v.id_column, why)
            continue
        if rid in seen:
            refuse(v, v.id_column, f"{rid} is decided on line {seen[rid]} already; one decision per record")
            continue
        seen[rid] = v.line
        decision = RETRIEVAL[v.decision] if stage == STAGE_RETRIEVAL else v.decision
        reasons = v.reasons if v.decision == "exclude" else []
        if len(reasons) > 1:
            refuse(v, v.note_column, f"names {len(reasons)} reasons ({', '.join(reasons)}); give one")
            continue
        reason = reasons[0] if reasons else ""
        if v.decision == "exclude" and not reason:
            reason = reason_default or ""
        if decision == "not_retrieved" and not reason:
            reason = NOT_RETRIEVABLE
        if needs_reason(stage, decision) and not reason:
            refuse(
                v,
                v.note_column,
                f"{rid} is excluded at {stage} without a reason, which the selection rules require; "
                f"write a code of the controlled list ({', '.join(codes)}) or its label in "
                f"{v.note_column}, or give --reason-default",
            )
            continue
        old = existing.get((rid, plan.round, stage))
        if old is not None:
            if (old["decision"], old["reason"]) == (decision, reason):
                plan.already += 1
                continue
            was = old["decision"] + (f" ({old['reason']})" if old["reason"] else "")
            refuse(
                v,
                v.decision_column,
                f"conflict: {rid} already has the decision {was} at {stage} in round {plan.round}; an import "
                f"never overwrites a decision ({decision}{f' ({reason})' if reason else ''} given here)",
            )
            continue
        plan.rows.append(
            {
                "record_id": rid,
                "round": str(plan.round),
                "stage": stage,
                "decision": decision,
                "reason": reason,
                "notes": _notes(v.notes, tool),
            }
        )
        plan.lines.append(v.line)
    if plan.problems or not plan.rows:
        return plan
    res = book.resources["screening"]
    text, problems = table_text(res, [*book.screening, *plan.rows])
    if text is None:
        plan.problems += problems
        return plan
    plan.texts = {resource_path(res): text}
    staged = validate_staged(book.root, plan.texts)
    if staged:
        plan.problems += _explained(staged, plan, resource_path(res), text, set(validate_tree(book.root)))
    return plan


def _notes(note: str, tool: str) -> str:
    text = " ".join(note.split()) or f"Screened in {TOOLS[tool]}."
    return text if len(text) <= MAX_NOTES else text[: MAX_NOTES - 1] + "…"


def _explained(
    problems: list[Problem], plan: ImportPlan, relpath: str, text: str, before: set[Problem]
) -> list[Problem]:
    """The problems of the tree with the new rows, each new row's pointing back at its line of the file, and
    those that were there before the import said to be."""
    origin = {(row["record_id"], row["stage"]): line for row, line in zip(plan.rows, plan.lines, strict=True)}
    reader = csv.reader(io.StringIO(text))
    new_lines: dict[int, int] = {}
    start = 1
    for i, rec in enumerate(reader):
        if i and rec[1] == str(plan.round) and (rec[0], rec[2]) in origin:
            new_lines[start] = origin[(rec[0], rec[2])]
        start = reader.line_num + 1
    out = []
    for p in problems:
        if p in before:
            p = Problem(p.path, p.line, p.column, f"{p.message} (there before the import)")
        elif p.path == relpath and p.line in new_lines:
            p = Problem(
                p.path, p.line, p.column, f"{p.message} (the decision of {plan.path}:{new_lines[p.line]})"
            )
        out.append(p)
    return out
