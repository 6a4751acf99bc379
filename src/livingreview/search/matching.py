"""Deduplication against the ledger: is a fetched PubMed record already one of ``records.csv``?

A record matches, in this order, by PMID (the ``pmid`` column, or a PubMed address), by PMC id (the
``pmcid`` column, or a PMC address), by DOI (case-insensitive, without ``doi:`` or a resolver prefix), and
last by normalised title plus publication year (both known and equal; titles of at least ``MIN_TITLE``
characters after normalisation, so that "Correction" or "Letter" never match). The first record of the
ledger that matches wins; records added earlier in the same run are matched too. Matching only reads: the
ledger is never changed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from livingreview.search.pubmed_xml import Article

__all__ = ["MIN_TITLE", "Ledger", "normalise_doi", "normalise_title"]

#: a normalised title shorter than this is too generic to identify a paper with its year
MIN_TITLE = 20
_PMID_ADDRESS = re.compile(
    r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)([0-9]{1,9})(?![0-9])"
)
_PMC_ADDRESS = re.compile(r"ncbi\.nlm\.nih\.gov/(?:pmc/)?articles/(PMC[0-9]+)(?![0-9])", re.IGNORECASE)
_DOI_PREFIX = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)", re.IGNORECASE)
_NOT_WORD = re.compile(r"[\W_]+")


def normalise_doi(doi: str) -> str:
    """``10.1000/ABC.`` and ``https://doi.org/10.1000/abc`` are both ``10.1000/abc``; "" if not a DOI."""
    text = _DOI_PREFIX.sub("", doi.strip()).strip().rstrip(".").casefold()
    return text if re.fullmatch(r"10\.[0-9]{4,9}/\S+", text) else ""


def normalise_title(title: str) -> str:
    """Case folded, accents stripped, every run of punctuation and whitespace one space."""
    decomposed = unicodedata.normalize("NFKD", title)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", plain.casefold()).strip()


def _pmid(row: Mapping[str, str]) -> str:
    if row.get("pmid", "").strip():
        return row["pmid"].strip()
    found = _PMID_ADDRESS.search(row.get("address", ""))
    return found.group(1) if found else ""


def _pmcid(row: Mapping[str, str]) -> str:
    if row.get("pmcid", "").strip():
        return row["pmcid"].strip().upper()
    found = _PMC_ADDRESS.search(row.get("address", ""))
    return found.group(1).upper() if found else ""


def _title_key(title: str, year: str) -> tuple[str, str] | None:
    normal = normalise_title(title)
    return (normal, year.strip()) if len(normal) >= MIN_TITLE and year.strip() else None


class Ledger:
    """The identifiers of the ledger's records, to look fetched records up in."""

    def __init__(self, records: Iterable[Mapping[str, str]] = ()) -> None:
        self.by_pmid: dict[str, str] = {}
        self.by_pmcid: dict[str, str] = {}
        self.by_doi: dict[str, str] = {}
        self.by_title: dict[tuple[str, str], str] = {}
        for row in records:
            self.add(
                row["record_id"],
                pmid=_pmid(row),
                pmcid=_pmcid(row),
                doi=row.get("doi", ""),
                title=row.get("title", ""),
                year=row.get("year", ""),
            )

    def add(self, record_id: str, *, pmid: str, pmcid: str, doi: str, title: str, year: str) -> None:
        """Index one record (the first record with an identifier keeps it)."""
        for index, key in (
            (self.by_pmid, pmid),
            (self.by_pmcid, pmcid.upper()),
            (self.by_doi, normalise_doi(doi)),
            (self.by_title, _title_key(title, year)),
        ):
            if key:
                index.setdefault(key, record_id)  # type: ignore[arg-type]

    def add_article(self, record_id: str, article: Article) -> None:
        self.add(
            record_id,
            pmid=article.pmid,
            pmcid=article.pmcid,
            doi=article.doi,
            title=article.title,
            year=article.year,
        )

    def match(self, article: Article) -> tuple[str, str] | None:
        """``(record_id, how)`` of the ledger record the article is, ``how`` one of pmid, pmcid, doi,
        title+year; ``None`` for a record the ledger does not have."""
        for how, index, key in (
            ("pmid", self.by_pmid, article.pmid),
            ("pmcid", self.by_pmcid, article.pmcid.upper()),
            ("doi", self.by_doi, normalise_doi(article.doi)),
            ("title+year", self.by_title, _title_key(article.title, article.year)),
        ):
            if key and key in index:
                return index[key], how  # type: ignore[index]
        return None
