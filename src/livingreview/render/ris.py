"""The search and selection ledger as RIS: every record of ``data/records.csv`` with its screening decisions
and identifiers in the notes, for reference managers, Rayyan or ASReview LAB; and the screening queue (records
awaiting screening) with only their identifiers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd
import rispy

from livingreview.datapkg.frames import load_table

__all__ = ["queue_ris", "records_ris"]


def _text(value: object) -> str:
    """A cell as text: empty for a missing value (NA, None)."""
    return "" if value is None or pd.isna(value) else str(value)


def _identifiers(r: Mapping) -> list[str]:
    """``PMID 123`` and ``PMC456``, as far as the ledger knows them."""
    pmid, pmcid = _text(r.get("pmid")), _text(r.get("pmcid"))
    return ([f"PMID {pmid}"] if pmid else []) + ([pmcid] if pmcid else [])


def _entry(r: Mapping, notes: list[str]) -> dict[str, object]:
    """One record as a rispy entry: ID = record_id, TI, AU (the first author the ledger has), PY, JO, DO,
    UR = the address read, KW = the diseases, N1 = ``notes``."""
    address = _text(r.get("address"))
    entry: dict[str, object] = {
        "type_of_reference": "JOUR",
        "id": _text(r["record_id"]),
        "title": _text(r["title"]),
        "authors": [_text(r.get("first_author"))] if _text(r.get("first_author")) else [],
        "year": _text(r.get("year")),
        "journal_name": _text(r.get("journal")),
        "doi": _text(r.get("doi")),
        "urls": [address] if address.startswith("http") else [],
        "notes": notes,
        "keywords": [k for k in _text(r.get("diseases")).split(";") if k],
    }
    return {k: v for k, v in entry.items() if v not in ([], "")}


def records_ris(root: str | Path) -> str:
    """Every record of ``data/records.csv`` as RIS text, decisions and identifiers in notes."""
    records = load_table(root, "records")
    screening = load_table(root, "screening")
    decisions = {
        rid: "; ".join(
            f"round {r.round} {r.stage.split('_', 1)[1]}: {r.decision}"
            + (f" ({r.reason})" if pd.notna(r.reason) else "")
            + (f" [{r.role}]" if pd.notna(r.role) else "")
            for r in group.itertuples(index=False)
        )
        for rid, group in screening.groupby("record_id", sort=False)
    }
    entries = []
    for r in records.to_dict("records"):
        notes = [
            f"identified: round {r['round']}, {r['identified_by']} ({r['identified_through']}), "
            f"{r['date_identified']}",
            *_identifiers(r),
        ]
        if r["record_id"] in decisions:
            notes.append(decisions[r["record_id"]])
        if _text(r["bib_key"]):
            notes.append(f"cited as {r['bib_key']}")
        entries.append(_entry(r, notes))
    return rispy.dumps(entries)


def queue_ris(records: Iterable[Mapping]) -> str:
    """Records awaiting screening (rows of ``records.csv``) as RIS, with their PMID and PMCID in N1."""
    return rispy.dumps([_entry(r, _identifiers(r)) for r in records])
