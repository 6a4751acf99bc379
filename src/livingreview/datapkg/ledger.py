"""The search and selection ledger (``records.csv``, ``screening.csv``) as plain rows: its rounds, the records
still awaiting screening, and what a contributor's new report adds to it, so that every source of the evidence
tables is an included record."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping

#: how a report added with ``livingreview add`` was identified (PRISMA 2020: other methods)
SUBMISSION = "contributor_submission"
#: how a record returned by a search of a bibliographic index was identified
DATABASE = "database"


def next_record_id(records: list[dict[str, str]]) -> str:
    numbers = [int(r["record_id"][1:]) for r in records if re.fullmatch(r"R[0-9]{4}", r.get("record_id", ""))]
    return f"R{max(numbers, default=0) + 1:04d}"


def round_of(value: object) -> int | None:
    """A round as a number: ``"1"``, ``1`` and ``1.0`` are round 1; empty or missing (NA) is ``None``."""
    try:
        return int(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None


def latest_round(*tables: Iterable[Mapping]) -> int | None:
    """The latest round of any row of these tables (records, searches, screening); ``None`` if none."""
    rounds = [r for table in tables for row in table if (r := round_of(row.get("round"))) is not None]
    return max(rounds, default=None)


def open_round(records: list[dict[str, str]], searches: list[dict[str, str]]) -> int:
    """The round a new submission belongs to: the one after the latest recorded round (the next update)."""
    latest = latest_round(records, searches)
    return 0 if latest is None else latest + 1


def awaiting_screening(records: Iterable[Mapping], screening: Iterable[Mapping], round_: int) -> list[str]:
    """The database records first identified in ``round_`` that have no decision of that round yet, in ledger
    order: the queue of title/abstract screening. Only the latest round may have such records (the selection
    rules say so); the flow diagram counts them as awaiting screening."""
    decided = {row["record_id"] for row in screening if round_of(row.get("round")) == round_}
    return [
        row["record_id"]
        for row in records
        if str(row.get("identified_by", "")) == DATABASE
        and round_of(row.get("round")) == round_
        and row["record_id"] not in decided
    ]


def is_included(key: str, records: list[dict[str, str]], screening: list[dict[str, str]]) -> bool:
    ids = {r["record_id"] for r in records if r.get("bib_key") == key}
    return any(
        s["record_id"] in ids and s["stage"] == "3_eligibility" and s["decision"] == "include"
        for s in screening
    )


def _title(title: str, key: str) -> str:
    plain = title.replace("{", "").replace("}", "").strip()
    return plain if len(plain) >= 3 else f"{plain} [{key}]".strip()


def submission_rows(
    key: str,
    disease: str,
    bib: dict[str, str],
    records: list[dict[str, str]],
    searches: list[dict[str, str]],
    today: datetime.date | None = None,
) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The record and the screening decisions (retrieved, included as primary) of a submitted report."""
    record_id = next_record_id(records)
    rnd = str(open_round(records, searches))
    doi = bib.get("doi", "").strip()
    authors = bib.get("author", "")
    first = authors.split(" and ")[0].split(",")[0].strip() if authors else ""
    year = bib.get("year", "").strip()
    record = {
        "record_id": record_id,
        "round": rnd,
        "date_identified": (today or datetime.date.today()).isoformat(),
        "identified_by": SUBMISSION,
        "identified_through": "livingreview add",
        "address": f"https://doi.org/{doi}" if doi else "submitted by a contributor (see the pull request)",
        "doi": doi,
        "title": _title(bib.get("title", ""), key),
        "first_author": first.replace("{", "").replace("}", ""),
        "year": year if re.fullmatch(r"[0-9]{4}", year) else "",
        "journal": bib.get("journal", "").replace("{", "").replace("}", ""),
        "diseases": disease,
        "bib_key": key,
    }
    decisions = [
        {
            "record_id": record_id,
            "round": rnd,
            "stage": "2_retrieval",
            "decision": "retrieved",
            "notes": "Submitted with its data by a contributor.",
        },
        {
            "record_id": record_id,
            "round": rnd,
            "stage": "3_eligibility",
            "decision": "include",
            "role": "primary",
            "notes": "Added with livingreview add; check against the protocol in review.",
        },
    ]
    return record, decisions
