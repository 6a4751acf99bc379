"""The search and selection ledger as RIS: every record of ``data/records.csv`` with its screening decisions
and identifiers in the notes, for reference managers, Rayyan or ASReview LAB."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import rispy

from livingreview.datapkg.frames import load_table

__all__ = ["records_ris"]


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
    for r in records.itertuples(index=False):
        entry: dict[str, object] = {"type_of_reference": "JOUR", "id": r.record_id, "title": r.title}
        if pd.notna(r.first_author):
            entry["authors"] = [r.first_author]
        if pd.notna(r.year):
            entry["year"] = str(r.year)
        if pd.notna(r.journal):
            entry["journal_name"] = r.journal
        if pd.notna(r.doi):
            entry["doi"] = r.doi
        entry["urls"] = [r.address] if str(r.address).startswith("http") else []
        notes = [
            f"identified: round {r.round}, {r.identified_by} ({r.identified_through}), {r.date_identified}"
        ]
        if pd.notna(r.pmid):
            notes.append(f"PMID {r.pmid}")
        if pd.notna(r.pmcid):
            notes.append(r.pmcid)
        if r.record_id in decisions:
            notes.append(decisions[r.record_id])
        if pd.notna(r.bib_key):
            notes.append(f"cited as {r.bib_key}")
        entry["notes"] = notes
        entry["keywords"] = str(r.diseases).split(";")
        entries.append({k: v for k, v in entry.items() if v not in ([], "")})
    return rispy.dumps(entries)
