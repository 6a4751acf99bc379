"""The screening queue as the CSV dataset ASReview LAB reads: one row per record awaiting screening.

ASReview wants an integer ``record_id``: it gets the number of our id (``R0457`` -> ``457``), and our id
travels in ``lr_record_id`` so that ``livingreview screen import`` finds the record again; the ledger holds
no abstracts, so ``abstract`` is empty; ``keywords`` are the diseases the record was found for; the empty
``included`` column is the label ASReview fills in (1 relevant, 0 irrelevant).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from livingreview.datapkg.csvfile import to_csv_text

__all__ = ["ASREVIEW_COLUMNS", "asreview_csv"]

ASREVIEW_COLUMNS = (
    "record_id",
    "lr_record_id",
    "title",
    "abstract",
    "authors",
    "year",
    "doi",
    "pmid",
    "url",
    "keywords",
    "included",
)


def asreview_csv(records: Iterable[Mapping[str, str]]) -> str:
    """Rows of ``records.csv`` (cell text) as an ASReview LAB dataset."""
    rows = []
    for r in records:
        address = r.get("address", "")
        rows.append(
            [
                str(int(r["record_id"].lstrip("R"))),
                r["record_id"],
                r.get("title", ""),
                "",
                r.get("first_author", ""),
                r.get("year", ""),
                r.get("doi", ""),
                r.get("pmid", ""),
                address if address.startswith("http") else "",
                "; ".join(k for k in r.get("diseases", "").split(";") if k),
                "",
            ]
        )
    return to_csv_text(ASREVIEW_COLUMNS, rows)
