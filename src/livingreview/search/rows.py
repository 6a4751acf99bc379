"""The rows one run of a saved search adds: its search (``searches.csv``), its results
(``search_results.csv``), its new records (``records.csv``) and its audit row (``search_runs.csv``), laid out
as the schema wants them. A value the schema would refuse (a title over the length limit, a DOI PubMed wrote
with a space) is shortened or left out, and the record's notes say so; nothing is guessed.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import platform
from collections.abc import Sequence
from dataclasses import dataclass

import Bio

from livingreview.datapkg import ledger
from livingreview.datapkg.frames import DISEASES
from livingreview.datapkg.schema_checks import cell_problems
from livingreview.errors import UserError
from livingreview.search.pubmed_xml import Article

__all__ = [
    "RunFacts",
    "pubmed_address",
    "record_row",
    "result_rows",
    "run_row",
    "search_row",
    "tool_versions",
]

#: a record found by a query written for every disease is screened for every chapter
ALL_DISEASES = ";".join(DISEASES)


def pubmed_address(pmid: str) -> str:
    return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"


def tool_versions() -> dict[str, str]:
    """The versions of livingreview, Biopython and Python making the run."""
    try:
        own = importlib.metadata.version("livingreview")
    except importlib.metadata.PackageNotFoundError:
        own = "0+unknown"
    return {
        "livingreview_version": own,
        "biopython_version": Bio.__version__,
        "python_version": platform.python_version(),
    }


def utc_text(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fit(row: dict[str, str], fields: Sequence[dict]) -> dict[str, str]:
    """``row`` with each value the schema refuses shortened (too long) or left out (optional), noted."""
    notes = []
    for spec in fields:
        name, value = spec["name"], row.get(spec["name"], "")
        if not value or not cell_problems(spec, value):
            continue
        limit = spec.get("constraints", {}).get("maxLength")
        if limit and len(value) > limit and not cell_problems(spec, value[: limit - 1].rstrip() + "…"):
            row[name] = value[: limit - 1].rstrip() + "…"
            notes.append(f"{name} shortened to {limit} characters")
        elif not spec.get("constraints", {}).get("required"):
            row[name] = ""
            notes.append(f"PubMed's {name} {value[:80]!r} left out ({cell_problems(spec, value)[0]})")
        else:
            raise UserError(f"cannot record {name} {value[:80]!r}: {cell_problems(spec, value)[0]}")
    if notes:
        row["notes"] = "; ".join([row["notes"], *notes] if row.get("notes") else notes)[:600]
    return row


def record_row(
    record_id: str, round_: int, date: str, source: str, article: Article, fields: Sequence[dict]
) -> dict[str, str]:
    """The ledger row of a record the run found first (``fields``: the schema of records.csv)."""
    row = {
        "record_id": record_id,
        "round": str(round_),
        "date_identified": date,
        "identified_by": ledger.DATABASE,
        "identified_through": source,
        "address": pubmed_address(article.pmid),
        "pmid": article.pmid,
        "doi": article.doi.strip(),
        "pmcid": article.pmcid.strip().upper(),
        "title": article.title or f"[No title in PubMed: PMID {article.pmid}]",
        "first_author": article.first_author,
        "year": article.year,
        "journal": article.journal,
        "diseases": ALL_DISEASES,
        "bib_key": "",
        "notes": "",
    }
    return _fit(row, fields)


def result_rows(search_id: str, results: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """``(pmid, record_id)`` of every result, in rank order, as rows of search_results.csv."""
    return [
        {"search_id": search_id, "rank": str(rank), "address": pubmed_address(pmid), "record_id": record_id}
        for rank, (pmid, record_id) in enumerate(results, start=1)
    ]


@dataclass(frozen=True)
class RunFacts:
    """What a run did, for its rows of searches.csv and search_runs.csv."""

    search_id: str
    round: int
    source: str
    query: str
    translation: str
    datetype: str
    window: tuple[datetime.date, datetime.date]
    found: int
    fetched: int
    new: int
    known: int
    started: datetime.datetime
    finished: datetime.datetime
    hashes: tuple[str, ...]
    notes: tuple[str, ...] = ()


def search_row(facts: RunFacts) -> dict[str, str]:
    start, end = facts.window
    return {
        "search_id": facts.search_id,
        "round": str(facts.round),
        "searched_in": facts.source,
        "disease": "",
        "query": facts.query,
        "run_date": utc_text(facts.started)[:10],
        "n_results": str(facts.fetched),
        "notes": (
            f"NCBI E-utilities (esearch, efetch) by livingreview search: entry date ({facts.datetype}) "
            f"{start.isoformat()} to {end.isoformat()}; the run is in search_runs.csv"
        ),
    }


def run_row(facts: RunFacts) -> dict[str, str]:
    start, end = facts.window
    return {
        "search_id": facts.search_id,
        "searched_in": facts.source,
        "query": facts.query,
        "query_translation": facts.translation,
        "datetype": facts.datetype,
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "n_found": str(facts.found),
        "n_fetched": str(facts.fetched),
        "n_new": str(facts.new),
        "n_known": str(facts.known),
        **tool_versions(),
        "started_utc": utc_text(facts.started),
        "finished_utc": utc_text(facts.finished),
        "response_sha256": ";".join(facts.hashes),
        "notes": "; ".join(facts.notes)[:1000],
    }
