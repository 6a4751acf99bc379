"""PubMed through NCBI E-utilities, with Biopython's ``Bio.Entrez``: esearch on the history server over a date
window, efetch in batches, and a window split in halves while PubMed has too many records in it to list.

``Bio.Entrez`` keeps to NCBI's rate limits (3 requests a second, 10 with an API key) and retries failed
connections and server errors; whatever still fails becomes a ``UserError`` saying what happened (no network,
an HTTP error, the rate limit, a malformed or truncated answer). The raw body of every answer is kept as its
SHA-256, in order, for the run's audit trail. Requests go through ``Bio.Entrez.urlopen``, which tests replace
to replay recorded answers.
"""

from __future__ import annotations

import datetime
import hashlib
import http.client
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.error import HTTPError, URLError

from Bio import Entrez

from livingreview.errors import UserError
from livingreview.search.pubmed_xml import (
    Article,
    BadResponse,
    NCBIError,
    SearchPage,
    parse_efetch,
    parse_esearch,
)

__all__ = ["ESEARCH_LIMIT", "PubMed", "client_from_environment", "search_window"]

#: esearch lists at most this many PMIDs of one search: a window with as many records or more is split
ESEARCH_LIMIT = 10_000
#: what E-utilities is told the requests come from
TOOL = "livingreview"
NOTHING_WRITTEN = "nothing was written"


def client_from_environment(env: Mapping[str, str], report: Callable[[str], None] | None = None) -> PubMed:
    """A client with the contact address (``NCBI_EMAIL``, required) and API key (``NCBI_API_KEY``, optional)
    of the environment."""
    email = env.get("NCBI_EMAIL", "").strip()
    if not email or "@" not in email:
        raise UserError(
            "set NCBI_EMAIL to a contact e-mail address: NCBI asks every E-utilities client for one "
            "(NCBI_API_KEY is optional and allows 10 instead of 3 requests a second); " + NOTHING_WRITTEN
        )
    return PubMed(email=email, api_key=env.get("NCBI_API_KEY", "").strip() or None, report=report)


@dataclass
class PubMed:
    """A PubMed session: who asks (``email``, ``api_key``) and the SHA-256 of every answer received."""

    email: str
    api_key: str | None = None
    report: Callable[[str], None] | None = None
    hashes: list[str] = field(default_factory=list)

    def _say(self, text: str) -> None:
        if self.report is not None:
            self.report(text)

    def _call(self, what: str, send: Callable[..., object], **params: object) -> bytes:
        """The raw body of one request; UserError for every way it can fail."""
        params.update(email=self.email, tool=TOOL)
        if self.api_key:
            params["api_key"] = self.api_key
        try:
            handle = send(**params)
            try:
                data = handle.read()  # type: ignore[attr-defined]
            finally:
                handle.close()  # type: ignore[attr-defined]
        except HTTPError as exc:
            if exc.code == 429:
                raise UserError(
                    f"NCBI refused {what} with HTTP 429 (too many requests) after {Entrez.max_tries} tries: "
                    "its rate limit; wait a few minutes and run again (an NCBI_API_KEY allows more "
                    "requests); " + NOTHING_WRITTEN
                ) from None
            raise UserError(
                f"NCBI answered {what} with HTTP {exc.code} ({exc.reason}); try again later; "
                + NOTHING_WRITTEN
            ) from None
        except URLError as exc:
            raise UserError(
                f"cannot reach NCBI E-utilities for {what} ({exc.reason}); check the network connection; "
                + NOTHING_WRITTEN
            ) from None
        except http.client.IncompleteRead:
            raise UserError(f"the answer to {what} was cut off (truncated); " + NOTHING_WRITTEN) from None
        except (http.client.HTTPException, OSError) as exc:
            raise UserError(
                f"the connection to NCBI E-utilities failed during {what} ({type(exc).__name__}: {exc}); "
                + NOTHING_WRITTEN
            ) from None
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.hashes.append(hashlib.sha256(data).hexdigest())
        return data

    @staticmethod
    def _parsed(what: str, parse: Callable[[bytes], object], data: bytes):
        try:
            return parse(data)
        except NCBIError as exc:
            raise UserError(f"NCBI answered {what} with an error: {exc}; " + NOTHING_WRITTEN) from None
        except BadResponse as exc:
            raise UserError(f"the answer to {what} is not usable: {exc}; " + NOTHING_WRITTEN) from None

    def esearch(self, term: str, datetype: str, start: datetime.date, end: datetime.date) -> SearchPage:
        """The records whose ``datetype`` date lies in ``start``..``end`` (both included), on the history
        server, with their PMIDs in PubMed's order."""
        what = f"esearch {start.isoformat()}..{end.isoformat()}"
        data = self._call(
            what,
            Entrez.esearch,
            db="pubmed",
            term=term,
            usehistory="y",
            datetype=datetype,
            mindate=start.strftime("%Y/%m/%d"),
            maxdate=end.strftime("%Y/%m/%d"),
            retmax=ESEARCH_LIMIT - 1,
        )
        page: SearchPage = self._parsed(what, parse_esearch, data)
        if page.count < ESEARCH_LIMIT and len(page.ids) != page.count:
            raise UserError(
                f"the answer to {what} is incomplete: Count is {page.count} but it lists {len(page.ids)} "
                "PMIDs; " + NOTHING_WRITTEN
            )
        self._say(f"{what}: {page.count} found")
        return page

    def efetch(self, page: SearchPage, batch_size: int) -> list[Article]:
        """Every record of ``page`` from the history server, ``batch_size`` at a time, in the order of
        ``page.ids``; UserError unless exactly those records came back."""
        fetched: dict[str, Article] = {}
        for start in range(0, page.count, batch_size):
            what = f"efetch of records {start + 1}-{min(start + batch_size, page.count)} of {page.count}"
            data = self._call(
                what,
                Entrez.efetch,
                db="pubmed",
                webenv=page.webenv,
                query_key=page.query_key,
                retstart=start,
                retmax=batch_size,
                retmode="xml",
            )
            for article in self._parsed(what, parse_efetch, data):
                fetched.setdefault(article.pmid, article)
            self._say(f"{what}: received")
        missing = [pmid for pmid in page.ids if pmid not in fetched]
        extra = sorted(set(fetched) - set(page.ids))
        if missing or extra:
            detail = f"missing PMID {', '.join(missing[:5])}" if missing else f"unexpected PMID {extra[0]}"
            raise UserError(
                f"efetch returned {len(fetched)} records for the {page.count} PMIDs esearch listed "
                f"({detail}); the answer is incomplete; " + NOTHING_WRITTEN
            )
        return [fetched[pmid] for pmid in page.ids]


def search_window(
    client: PubMed, term: str, datetype: str, start: datetime.date, end: datetime.date
) -> list[tuple[datetime.date, datetime.date, SearchPage]]:
    """The esearch answers covering ``start``..``end``, oldest part first: the window itself, or, while PubMed
    has ``ESEARCH_LIMIT`` records or more in a part, that part split in halves (recursively)."""
    page = client.esearch(term, datetype, start, end)
    if page.count < ESEARCH_LIMIT:
        return [(start, end, page)]
    if start >= end:
        raise UserError(
            f"PubMed has {page.count} records for {start.isoformat()} alone, more than esearch can list "
            f"({ESEARCH_LIMIT - 1} at most); narrow the query; " + NOTHING_WRITTEN
        )
    middle = start + (end - start) // 2
    return search_window(client, term, datetype, start, middle) + search_window(
        client, term, datetype, middle + datetime.timedelta(days=1), end
    )
