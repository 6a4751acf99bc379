"""What a screening tool's CSV export says about each record: ASReview LAB's labels and notes, or Rayyan's
inclusion and exclusion-reason notes, read as verdicts (include, exclude or undecided) with reason codes of
the schema's controlled list and the identifiers that find the record in the ledger.

ASReview LAB labels are binary (``asreview_label``, ``included`` or ``label_included``: 1 include, 0 exclude,
blank undecided); the reason of an exclusion is a code of the list, or its label, written in the note
(``asreview_note``). Rayyan packs decisions into its ``notes`` column as ``RAYYAN-INCLUSION: {"Name"=>
"Included"}`` (one entry per reviewer; "Maybe" is undecided) and ``RAYYAN-EXCLUSION-REASONS: a,b``, each
reason a code or a label (case and ``_``/``-``/space are ignored). Nothing here touches the ledger.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from livingreview.datapkg.csvfile import read_table
from livingreview.datapkg.prisma_flow import REASON_LABELS
from livingreview.datapkg.problems import Problem

__all__ = ["TOOLS", "Verdict", "normalise_doi", "read_export", "reason_codes"]

TOOLS = {"asreview": "ASReview LAB", "rayyan": "Rayyan"}
LABEL_COLUMNS = ("asreview_label", "included", "label_included")
ID_COLUMNS = ("lr_record_id", "record_id", "key")
NOTE_COLUMN = {"asreview": "asreview_note", "rayyan": "notes"}
ASREVIEW_LABELS = {"1": "include", "1.0": "include", "0": "exclude", "0.0": "exclude", "": None, "-1": None}
RAYYAN_LABELS = {"included": "include", "excluded": "exclude", "maybe": None}
RECORD_ID = re.compile(r"R[0-9]{4}")
PMID_IN_TEXT = re.compile(r"(?:PMID\s*:?\s*|pubmed\.ncbi\.nlm\.nih\.gov/|/pubmed/)([0-9]{1,9})\b", re.I)


@dataclass
class Verdict:
    """One row of a tool's export: where it is, what was decided, why, and how to find its record."""

    line: int
    decision: str | None  # "include", "exclude" or None (undecided)
    reasons: list[str] = field(default_factory=list)  # codes of the controlled list
    notes: str = ""
    record_id: str = ""  # our id, when the export carries it
    doi: str = ""
    pmid: str = ""
    id_column: str = ""  # the column our id came from (or the first identifier column there is)
    note_column: str = ""  # where the reason is written
    decision_column: str = ""  # where the decision is written


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


def reason_codes(codes: Iterable[str]) -> dict[str, str]:
    """Each accepted spelling of a reason (its code, or its label in the flow diagram), normalised -> code."""
    out: dict[str, str] = {}
    for code in codes:
        out[_norm(code)] = code
        if code in REASON_LABELS:
            out[_norm(REASON_LABELS[code])] = code
    return out


def _reasons_in_note(note: str, spellings: dict[str, str]) -> list[str]:
    """The codes a free-text note names (a code or a label anywhere in it), in the order of the list."""
    text = " " + _norm(re.sub(r"[^A-Za-z0-9_\-\s]", " ", note)) + " "
    found = {code for spelling, code in spellings.items() if f" {spelling} " in text}
    return [code for code in dict.fromkeys(spellings.values()) if code in found]


def normalise_doi(text: str) -> str:
    """A DOI as compared: lower case, without ``doi:`` or the resolver's address."""
    doi = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", text.strip(), flags=re.I)
    return doi.lower()


def read_export(path: str | Path, tool: str, codes: Iterable[str]) -> tuple[list[Verdict], list[Problem]]:
    """The verdict of every row of ``tool``'s CSV export at ``path`` (named as given in messages), and the
    problems of the rows that cannot be read: an unknown label or reason, reviewers who disagree."""
    name = str(path)
    table, problems = read_table(path, name, fast=False)
    if table is None:
        return [], problems
    problems = [
        Problem(name, line, "", f"row has {n} fields but the header has {len(table.header)}")
        for line, n in table.ragged
    ]
    header = [h.strip().lstrip("\ufeff") for h in table.header]
    spellings = reason_codes(codes)
    note_column = NOTE_COLUMN[tool]
    label_column = next((c for c in LABEL_COLUMNS if c in header), None)
    if tool == "asreview" and label_column is None:
        problems.append(
            Problem(name, 1, "", f"no label column: an ASReview export has one of {LABEL_COLUMNS}")
        )
        return [], problems
    if tool == "rayyan" and note_column not in header:
        problems.append(Problem(name, 1, "", "no 'notes' column: Rayyan keeps its decisions there"))
        return [], problems
    columns = [col.tolist() for col in table.columns]
    verdicts = []
    for i, line in enumerate(table.lines.tolist()):
        row = {h: str(c[i]).strip() for h, c in zip(header, columns, strict=True)}
        v = Verdict(int(line), None, note_column=note_column, decision_column=label_column or note_column)
        _identify(v, row, header)
        note = row.get(note_column, "")
        if tool == "asreview":
            label = row[label_column]
            if label not in ASREVIEW_LABELS:
                problems.append(Problem(name, v.line, label_column, f"label {label!r} is not 1, 0 or empty"))
                continue
            v.decision = ASREVIEW_LABELS[label]
            v.reasons = _reasons_in_note(note, spellings)
            v.notes = note
        else:
            why = _rayyan(v, note, spellings)
            if why:
                problems.append(Problem(name, v.line, note_column, why))
                continue
        verdicts.append(v)
    return verdicts, problems


def _identify(v: Verdict, row: dict[str, str], header: list[str]) -> None:
    v.id_column = next((c for c in ID_COLUMNS if c in header), "")
    for column in ID_COLUMNS:
        if RECORD_ID.fullmatch(row.get(column, "")):
            v.record_id, v.id_column = row[column], column
            break
    v.doi = normalise_doi(row.get("doi", ""))
    pmid = row.get("pmid", "") or row.get("pubmed_id", "")
    if not pmid:
        found = PMID_IN_TEXT.search(" ".join(row.get(c, "") for c in ("url", "urls", "notes", "n1")))
        pmid = found.group(1) if found else ""
    v.pmid = pmid.lstrip("0") if pmid.isdigit() else ""


def _rayyan(v: Verdict, note: str, spellings: dict[str, str]) -> str | None:
    """Fill ``v`` from Rayyan's notes; the problem when they cannot be read."""
    parts = [p.strip() for p in note.split("|")]
    inclusion = next((p for p in parts if p.upper().startswith("RAYYAN-INCLUSION:")), "")
    votes = re.findall(r'"([^"]*)"\s*=>\s*"([^"]*)"', inclusion)
    unknown = [f"{who}: {what}" for who, what in votes if what.lower() not in RAYYAN_LABELS]
    if unknown:
        return f"unknown Rayyan decision ({'; '.join(unknown)}); expected Included, Excluded or Maybe"
    decisions = {RAYYAN_LABELS[what.lower()] for _, what in votes}
    if {"include", "exclude"} <= decisions:
        shown = ", ".join(f"{who}: {what}" for who, what in votes)
        return f"reviewers disagree ({shown}); resolve the conflict in Rayyan first"
    v.decision = None if None in decisions or not decisions else decisions.pop()
    given = next((p for p in parts if p.upper().startswith("RAYYAN-EXCLUSION-REASONS:")), "")
    labels = [x.strip() for x in given.split(":", 1)[1].split(",")] if given else []
    labels = [x for x in labels if x]
    bad = [x for x in labels if _norm(x) not in spellings]
    if bad and v.decision == "exclude":
        accepted = ", ".join(sorted(set(spellings.values())))
        return (
            f"unknown exclusion reason {', '.join(repr(x) for x in bad)}; use a code of the controlled list "
            f"({accepted}) or its label"
        )
    v.reasons = list(dict.fromkeys(spellings[_norm(x)] for x in labels if _norm(x) in spellings))
    v.notes = " | ".join(p for p in parts if p and not p.upper().startswith("RAYYAN-"))
    return None
