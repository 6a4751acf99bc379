"""E-utilities' XML answers as plain values: an ``eSearchResult`` (esearch) and a ``PubmedArticleSet``
(efetch, ``retmode=xml``), parsed with the standard library so that a malformed or truncated answer is caught
here, with where it broke, instead of being half read.

Only what the ledger needs is read: the count, the PMIDs in order, the history-server keys and the query
translation of a search; the PMID, title, first author, year, journal, DOI and PMC id of an article.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

__all__ = ["Article", "BadResponse", "NCBIError", "SearchPage", "parse_efetch", "parse_esearch"]


class BadResponse(ValueError):
    """The answer is not what the E-utilities documentation says it is (malformed, truncated, incomplete)."""


class NCBIError(ValueError):
    """NCBI answered with an error message of its own (``<ERROR>``)."""


@dataclass(frozen=True)
class SearchPage:
    """One esearch answer with ``usehistory=y``: ``count`` records match, ``ids`` lists their PMIDs in
    PubMed's order, ``webenv``/``query_key`` name the result set on the history server."""

    count: int
    ids: tuple[str, ...]
    webenv: str
    query_key: str
    translation: str
    messages: tuple[str, ...] = field(default=())  # PubMed's ErrorList/WarningList (e.g. a phrase not found)


@dataclass(frozen=True)
class Article:
    """The citation of one PubMed record, as its efetch XML shows it ("" where it shows nothing)."""

    pmid: str
    title: str
    first_author: str = ""
    year: str = ""
    journal: str = ""
    doi: str = ""
    pmcid: str = ""


def _root(data: bytes, expected: str) -> ET.Element:
    if not data.strip():
        raise BadResponse("the answer is empty")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        raise BadResponse(f"the XML is malformed or truncated (line {line}, column {column})") from None
    errors = [_text(e) for e in root.iter("ERROR")]
    if root.tag == "ERROR" or any(errors):
        raise NCBIError("; ".join(e for e in errors if e) or "an unspecified error")
    if root.tag != expected:
        raise BadResponse(f"expected <{expected}> but the answer is <{root.tag}>")
    return root


def _text(node: ET.Element | None) -> str:
    """The text of an element, its inline markup (``<i>``, ``<sup>``) flattened and whitespace collapsed."""
    return " ".join("".join(node.itertext()).split()) if node is not None else ""


def _required(root: ET.Element, tag: str) -> str:
    node = root.find(tag)
    if node is None or not _text(node):
        raise BadResponse(f"<{root.tag}> has no <{tag}>")
    return _text(node)


def parse_esearch(data: bytes) -> SearchPage:
    """An ``eSearchResult``; ``BadResponse``/``NCBIError`` when it is not a complete one."""
    root = _root(data, "eSearchResult")
    count_text = _required(root, "Count")
    if not count_text.isdigit():
        raise BadResponse(f"<Count> is {count_text!r}, not a number")
    id_list = root.find("IdList")
    if id_list is None:
        raise BadResponse("<eSearchResult> has no <IdList>")
    ids = tuple(_text(node) for node in id_list.findall("Id"))
    if not all(i.isdigit() for i in ids):
        raise BadResponse("<IdList> holds an <Id> that is not a PMID")
    messages = tuple(
        f"{node.tag}: {_text(node)}"
        for parent in ("ErrorList", "WarningList")
        for node in root.findall(f"{parent}/*")
        if _text(node)
    )
    return SearchPage(
        count=int(count_text),
        ids=ids,
        webenv=_required(root, "WebEnv"),
        query_key=_required(root, "QueryKey"),
        translation=_text(root.find("QueryTranslation")),
        messages=messages,
    )


_YEAR = re.compile(r"\b(1[89][0-9]{2}|2[01][0-9]{2})\b")


def _year(date: ET.Element | None) -> str:
    if date is None:
        return ""
    year = _text(date.find("Year"))
    if year.isdigit():
        return year
    found = _YEAR.search(_text(date.find("MedlineDate")))
    return found.group(1) if found else ""


def _first_author(authors: ET.Element | None) -> str:
    first = authors.find("Author") if authors is not None else None
    if first is None:
        return ""
    return _text(first.find("LastName")) or _text(first.find("CollectiveName"))


def _article_id(ids: ET.Element | None, kind: str) -> str:
    for node in ids.findall("ArticleId") if ids is not None else []:
        if node.get("IdType") == kind and _text(node):
            return _text(node)
    return ""


def _journal_article(node: ET.Element) -> Article:
    citation = node.find("MedlineCitation")
    if citation is None:
        raise BadResponse("a <PubmedArticle> has no <MedlineCitation>")
    pmid = _required(citation, "PMID")
    article = citation.find("Article")
    if article is None:
        raise BadResponse(f"PMID {pmid} has no <Article>")
    ids = node.find("PubmedData/ArticleIdList")  # the record's own ids, not those of its reference list
    doi = _article_id(ids, "doi") or next(
        (_text(e) for e in article.findall("ELocationID") if e.get("EIdType") == "doi"), ""
    )
    return Article(
        pmid=pmid,
        title=_text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle")),
        first_author=_first_author(article.find("AuthorList")),
        year=_year(article.find("Journal/JournalIssue/PubDate")),
        journal=_text(article.find("Journal/Title")),
        doi=doi,
        pmcid=_article_id(ids, "pmc"),
    )


def _book_article(node: ET.Element) -> Article:
    book = node.find("BookDocument")
    if book is None:
        raise BadResponse("a <PubmedBookArticle> has no <BookDocument>")
    pmid = _required(book, "PMID")
    title = _text(book.find("ArticleTitle"))
    book_title = _text(book.find("Book/BookTitle"))
    return Article(
        pmid=pmid,
        title=title or book_title,
        first_author=_first_author(book.find("AuthorList")) or _first_author(book.find("Book/AuthorList")),
        year=_year(book.find("Book/PubDate")),
        journal=book_title if title else "",
        doi=_article_id(node.find("PubmedBookData/ArticleIdList"), "doi"),
        pmcid=_article_id(node.find("PubmedBookData/ArticleIdList"), "pmc"),
    )


def parse_efetch(data: bytes) -> list[Article]:
    """The articles of a ``PubmedArticleSet`` in the order given; ``BadResponse``/``NCBIError`` when it is not
    a complete one."""
    root = _root(data, "PubmedArticleSet")
    out = []
    for node in root:
        if node.tag == "PubmedArticle":
            out.append(_journal_article(node))
        elif node.tag == "PubmedBookArticle":
            out.append(_book_article(node))
    return out
