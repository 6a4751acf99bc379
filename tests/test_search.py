"""``livingreview search`` against replayed NCBI E-utilities answers (no network).

``Bio.Entrez.urlopen`` is replaced by :class:`Replay`, which answers esearch by date window and efetch from
its history server with the hand-written XML of ``tests/fixtures/eutils``. Every test runs on its own copy of
``data/``, ``references.bib`` and ``CITATION.cff``; the records it expects to be matched (by PMID, by DOI, by
title and year) are picked from that copy's ledger, so nothing depends on today's records, ids or counts.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import itertools
import json
import shutil
import string
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.response import addinfourl
from xml.sax.saxutils import escape

import pytest
from Bio import Entrez

from livingreview import cli
from livingreview.datapkg.csvfile import read_records, to_csv_text
from livingreview.datapkg.validate import validate_tree
from livingreview.search import pubmed_xml
from livingreview.search.matching import MIN_TITLE, Ledger, normalise_doi, normalise_title

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "eutils"
TRANSLATION = '"immunoglobulins, intravenous"[MeSH Terms] AND "vasculitis"[All Fields]'
SINCE, UNTIL = "2026-10-01", "2026-10-31"
TABLES = ("searches", "search_results", "records", "search_runs", "screening", "protocol")


# --- replayed answers -----------------------------------------------------------------------------------


def _template(name: str) -> string.Template:
    return string.Template((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass
class Paper:
    """One PubMed record as the replayed efetch shows it; ``edat`` is the day it entered PubMed."""

    pmid: str
    title: str
    year: str = "2026"
    doi: str = ""
    pmcid: str = ""
    last_name: str = "Mustermann"
    journal: str = "Journal of Examples"
    edat: datetime.date = datetime.date(2026, 10, 15)

    def xml(self) -> str:
        ids = "".join(
            f'\t\t\t<ArticleId IdType="{kind}">{escape(value)}</ArticleId>\n'
            for kind, value in (("doi", self.doi), ("pmc", self.pmcid))
            if value
        )
        return _template("pubmed_article.xml").substitute(
            pmid=self.pmid,
            title=escape(self.title),
            year=self.year,
            journal=escape(self.journal),
            last_name=escape(self.last_name),
            other_ids=ids,
        )


def efetch_body(papers: list[Paper]) -> bytes:
    return _template("efetch.xml").substitute(articles="".join(p.xml() for p in papers)).encode("utf-8")


def esearch_body(count: int, papers: list[Paper], webenv: str, translation: str) -> bytes:
    ids = "".join(f"\t\t<Id>{p.pmid}</Id>\n" for p in papers)
    return (
        _template("esearch.xml")
        .substitute(count=count, retmax=len(papers), ids=ids, webenv=webenv, translation=escape(translation))
        .encode("utf-8")
    )


def _answer(url: str, body: bytes) -> addinfourl:
    headers = Message()
    headers["Content-Type"] = "text/xml; charset=UTF-8"
    return addinfourl(io.BytesIO(body), headers, url, 200)


@dataclass
class Replay:
    """Stands in for ``Bio.Entrez.urlopen``. ``count_for(days, found)`` may report more records than listed
    (to force a split); ``fault(n, tool, body)`` may raise or spoil the ``n``-th answer."""

    papers: list[Paper] = field(default_factory=list)
    translation: str = TRANSLATION
    count_for: Callable[[int, int], int] = lambda days, found: found
    fault: Callable[[int, str, bytes], bytes] | None = None
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    history: dict[str, list[Paper]] = field(default_factory=dict)

    def __call__(self, request, *args, **kwargs):
        url = request.full_url
        query = request.data.decode("utf-8") if request.data else urllib.parse.urlsplit(url).query
        params = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
        tool = urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1].removesuffix(".fcgi")
        self.calls.append((tool, params))
        n = len(self.calls)
        if tool == "esearch":
            start, end = (datetime.date(*map(int, params[k].split("/"))) for k in ("mindate", "maxdate"))
            found = [p for p in self.papers if start <= p.edat <= end]
            count = self.count_for((end - start).days + 1, len(found))
            webenv = f"MCID_replay_{n}"
            self.history[webenv] = found
            body = esearch_body(count, found if count == len(found) else [], webenv, self.translation)
        elif tool == "efetch":
            found = self.history[params["webenv"]]
            first = int(params["retstart"])
            body = efetch_body(found[first : first + int(params["retmax"])])
        else:
            raise AssertionError(f"unexpected E-utility {tool}")
        if self.fault is not None:
            body = self.fault(n, tool, body)
        self.bodies.append(body)
        return _answer(url, body)

    def esearch_windows(self) -> list[tuple[str, str]]:
        return [(p["mindate"], p["maxdate"]) for tool, p in self.calls if tool == "esearch"]

    def efetch_pages(self) -> list[tuple[int, int]]:
        return [(int(p["retstart"]), int(p["retmax"])) for tool, p in self.calls if tool == "efetch"]


# --- the copy and its ledger ----------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(ROOT / "data", root / "data")
    for name in ("references.bib", "CITATION.cff"):
        shutil.copy2(ROOT / name, root / name)
    return root


@pytest.fixture
def replay(monkeypatch: pytest.MonkeyPatch) -> Replay:
    monkeypatch.setenv("NCBI_EMAIL", "maintainers@example.org")
    monkeypatch.setenv("NCBI_API_KEY", "replayed-key")  # Biopython's pause between requests is then 0.1 s
    monkeypatch.setattr(Entrez, "sleep_between_tries", 0)
    answers = Replay()
    monkeypatch.setattr(Entrez, "urlopen", answers)
    return answers


def table(root: Path, name: str) -> list[dict[str, str]]:
    return read_records(root / "data" / f"{name}.csv", f"data/{name}.csv")


def snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _no_web_id(r: dict[str, str]) -> bool:
    return not r["pmid"] and not r["pmcid"] and "ncbi.nlm.nih.gov" not in r["address"]


@dataclass
class Picked:
    """Records of the copy's ledger a replayed answer is built to match, and PMIDs it does not have."""

    by_pmid: dict[str, str]
    by_doi: dict[str, str]
    by_title: dict[str, str]
    fresh: list[str]


def pick(root: Path) -> Picked:
    records = table(root, "records")
    dois = [normalise_doi(r["doi"]) for r in records]
    keys = [(normalise_title(r["title"]), r["year"]) for r in records]
    by_pmid = next(r for r in records if r["pmid"])
    by_doi = next(
        r for r in records if _no_web_id(r) and r["doi"] and dois.count(normalise_doi(r["doi"])) == 1
    )
    by_title = next(
        r
        for r in records
        if _no_web_id(r)
        and not r["doi"]
        and r["year"]
        and len(normalise_title(r["title"])) >= MIN_TITLE
        and keys.count((normalise_title(r["title"]), r["year"])) == 1
    )
    used = {int(r["pmid"]) for r in records if r["pmid"]}
    fresh = [str(n) for n in range(90_000_001, 90_100_000) if n not in used][:10]
    return Picked(by_pmid, by_doi, by_title, fresh)


def disguised(title: str) -> str:
    """The same title as another page might print it: upper case, an accent, other punctuation."""
    return title.upper().replace("E", "É", 1).replace(" ", "  ").rstrip(".") + " !"


def standard_papers(p: Picked) -> list[Paper]:
    """Three records the ledger has (by PMID, by DOI only, by title and year only) and two it has not."""
    return [
        Paper(p.by_pmid["pmid"], "A title PubMed words differently", year="2001"),
        Paper(p.fresh[0], "The same paper under its DOI", doi=p.by_doi["doi"].upper()),
        Paper(p.fresh[1], disguised(p.by_title["title"]), year=p.by_title["year"]),
        Paper(
            p.fresh[2],
            "Replayed record: intravenous immunoglobulin for refractory <livedoid> vasculopathy & ulcers",
            doi="10.5555/replay.2026.1",
            pmcid="PMC9000001",
        ),
        Paper(p.fresh[3], "Replayed record: IVIG in systemic sclerosis with myositis", last_name="Dörfler"),
    ]


def search(root: Path, capsys, *options: str) -> tuple[int, str, str]:
    code = cli.main(["--root", str(root), "search", *options])
    out = capsys.readouterr()
    return code, out.out, out.err


def new_rows(before: list[dict[str, str]], after: list[dict[str, str]]) -> list[dict[str, str]]:
    return after[len(before) :]


# --- a run ----------------------------------------------------------------------------------------------


def test_a_run_appends_its_search_results_new_records_and_audit_row(repo, replay, capsys):
    p = pick(repo)
    replay.papers = standard_papers(p)
    before = {name: table(repo, name) for name in TABLES}
    raw_before = {name: (repo / "data" / f"{name}.csv").read_text(encoding="utf-8") for name in TABLES}

    code, out, err = search(repo, capsys, "--since", SINCE, "--until", UNTIL)
    assert code == 0, err
    after = {name: table(repo, name) for name in TABLES}

    # nothing already in the ledger changed: records grew at the end; screening and protocol are unchanged
    assert (repo / "data/records.csv").read_text(encoding="utf-8").startswith(raw_before["records"])
    for name in ("screening", "protocol"):
        assert (repo / "data" / f"{name}.csv").read_text(encoding="utf-8") == raw_before[name]
    for name in ("searches", "search_results", "search_runs"):
        assert all(row in after[name] for row in before[name])

    rounds = [int(r["round"]) for r in before["records"] + before["searches"]]
    round_ = max(rounds) + 1
    search_id = f"S{round_}-001"
    (searched,) = new_rows(before["searches"], after["searches"])
    query = next(r["text"] for r in before["protocol"] if r["item_id"] == "strategy-pubmed")
    assert searched == {
        **searched,
        "search_id": search_id,
        "round": str(round_),
        "searched_in": "source-pubmed",
        "disease": "",
        "query": query,
        "n_results": "5",
    }
    assert f"{SINCE} to {UNTIL}" in searched["notes"]

    next_number = max(int(r["record_id"][1:]) for r in before["records"]) + 1
    new_ids = [f"R{next_number:04d}", f"R{next_number + 1:04d}"]
    results = [r for r in after["search_results"] if r["search_id"] == search_id]
    assert [(r["rank"], r["address"], r["record_id"]) for r in results] == [
        (str(i), f"https://pubmed.ncbi.nlm.nih.gov/{paper.pmid}/", rid)
        for i, (paper, rid) in enumerate(
            zip(
                replay.papers,
                [p.by_pmid["record_id"], p.by_doi["record_id"], p.by_title["record_id"], *new_ids],
                strict=True,
            ),
            start=1,
        )
    ]

    records = new_rows(before["records"], after["records"])
    assert [r["record_id"] for r in records] == new_ids
    first, second = records
    assert first == {
        "record_id": new_ids[0],
        "round": str(round_),
        "date_identified": searched["run_date"],
        "identified_by": "database",
        "identified_through": "source-pubmed",
        "address": f"https://pubmed.ncbi.nlm.nih.gov/{p.fresh[2]}/",
        "pmid": p.fresh[2],
        "doi": "10.5555/replay.2026.1",
        "pmcid": "PMC9000001",
        "title": replay.papers[3].title,
        "first_author": "Mustermann",
        "year": "2026",
        "journal": "Journal of Examples",
        "diseases": "LCV;CLE;LV;SSc;SjS",
        "bib_key": "",
        "notes": "",
    }
    assert (second["pmid"], second["doi"], second["first_author"]) == (p.fresh[3], "", "Dörfler")

    (run,) = new_rows(before["search_runs"], after["search_runs"])
    assert {k: run[k] for k in ("search_id", "searched_in", "query", "query_translation", "datetype")} == {
        "search_id": search_id,
        "searched_in": "source-pubmed",
        "query": query,
        "query_translation": TRANSLATION,
        "datetype": "edat",
    }
    assert (run["window_start"], run["window_end"]) == (SINCE, UNTIL)
    assert (run["n_found"], run["n_fetched"], run["n_new"], run["n_known"]) == ("5", "5", "2", "3")
    assert run["started_utc"][:10] == searched["run_date"] and run["finished_utc"] >= run["started_utc"]
    assert run["biopython_version"] == __import__("Bio").__version__ and run["python_version"]
    assert run["response_sha256"].split(";") == [hashlib.sha256(b).hexdigest() for b in replay.bodies]
    assert run["notes"] == ""

    # the request PubMed got: the saved query on the history server, entry dates, XML in batches of 200
    (tool, params), *fetches = replay.calls
    assert tool == "esearch"
    assert {k: params[k] for k in ("db", "term", "usehistory", "datetype", "mindate", "maxdate")} == {
        "db": "pubmed",
        "term": query,
        "usehistory": "y",
        "datetype": "edat",
        "mindate": "2026/10/01",
        "maxdate": "2026/10/31",
    }
    assert params["email"] == "maintainers@example.org" and params["api_key"] == "replayed-key"
    assert [(t, f["retmode"], f["retstart"], f["retmax"]) for t, f in fetches] == [
        ("efetch", "xml", "0", "200")
    ]

    assert "2 new, 3 already in data/records.csv" in out
    assert "awaiting screening: 2 record(s)" in out
    assert "Traceback" not in out + err


def test_the_data_stay_valid_after_a_run(repo, replay, capsys):
    replay.papers = standard_papers(pick(repo))
    assert search(repo, capsys, "--since", SINCE, "--until", UNTIL)[0] == 0
    # the new records await screening in the latest round, which the selection rules accept
    assert [str(p) for p in validate_tree(repo)] == []


def test_summary_file_and_paging_across_batches(repo, replay, capsys, tmp_path):
    p = pick(repo)
    replay.papers = standard_papers(p)
    summary = tmp_path / "summary.json"
    options = ("--since", SINCE, "--until", UNTIL, "--batch-size", "2", "--summary", str(summary))
    code, _out, err = search(repo, capsys, *options)
    assert code == 0, err
    assert replay.efetch_pages() == [(0, 2), (2, 2), (4, 2)]
    data = json.loads(summary.read_text(encoding="utf-8"))
    run = table(repo, "search_runs")[-1]
    assert data["run_id"] == run["search_id"]
    assert data["window"] == [SINCE, UNTIL]
    assert (data["found"], data["new"], data["known"], data["queue"]) == (5, 2, 3, 2)
    assert data["translation"] == TRANSLATION and data["translation_changed"] is False
    assert data["dry_run"] is False
    assert len(run["response_sha256"].split(";")) == 4  # one esearch, three efetch batches


def test_dry_run_reports_and_writes_no_data(repo, replay, capsys, tmp_path):
    replay.papers = standard_papers(pick(repo))
    before = snapshot(repo)
    summary = tmp_path / "dry.json"
    code, out, err = search(
        repo, capsys, "--since", SINCE, "--until", UNTIL, "--dry-run", "--summary", str(summary)
    )
    assert code == 0, err
    assert snapshot(repo) == before
    assert "Dry run: no data file was written." in out
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert (data["dry_run"], data["new"], data["known"], data["files"]) == (True, 2, 3, [])


def test_a_window_with_10000_records_or_more_is_split_in_halves(repo, replay, capsys):
    p = pick(repo)
    days = [
        datetime.date(2026, 1, 10),
        datetime.date(2026, 4, 20),
        datetime.date(2026, 8, 1),
        datetime.date(2026, 12, 30),
    ]
    replay.papers = [
        Paper(pmid, f"Replayed record entered on {day.isoformat()} about cutaneous lupus", edat=day)
        for pmid, day in zip(p.fresh, days, strict=False)
    ]
    replay.count_for = lambda span, found: 12_000 if span > 100 else found  # PubMed lists 10,000 at most
    code, _out, err = search(repo, capsys, "--since", "2026-01-01", "--until", "2026-12-31")
    assert code == 0, err
    windows = replay.esearch_windows()
    assert windows[0] == ("2026/01/01", "2026/12/31")
    # the parts that were not split again cover the year exactly once, in order
    as_dates = [tuple(datetime.date(*map(int, d.split("/"))) for d in w) for w in windows]
    leaves = [w for w in as_dates if (w[1] - w[0]).days + 1 <= 100]
    assert leaves[0][0] == datetime.date(2026, 1, 1) and leaves[-1][1] == datetime.date(2026, 12, 31)
    assert all(b[0] == a[1] + datetime.timedelta(days=1) for a, b in itertools.pairwise(leaves))
    assert len(leaves) == 4 and len(windows) == 7  # halves, then quarters
    run = table(repo, "search_runs")[-1]
    assert (run["n_found"], run["n_fetched"], run["n_new"]) == ("4", "4", "4")
    assert "window split in 4 parts" in run["notes"]
    results = [r for r in table(repo, "search_results") if r["search_id"] == run["search_id"]]
    assert [r["address"] for r in results] == [
        f"https://pubmed.ncbi.nlm.nih.gov/{x.pmid}/" for x in replay.papers
    ]


def test_a_changed_query_translation_is_recorded_and_reported(repo, replay, capsys, tmp_path):
    p = pick(repo)
    replay.papers = [Paper(p.by_pmid["pmid"], "Already in the ledger")]  # nothing new: no screening pending
    assert search(repo, capsys, "--since", SINCE, "--until", UNTIL)[0] == 0
    first = table(repo, "search_runs")[-1]

    replay.translation = TRANSLATION.replace("[All Fields]", "[MeSH Terms]")
    replay.calls.clear()
    summary = tmp_path / "second.json"
    code, out, err = search(repo, capsys, "--until", "2026-11-30", "--summary", str(summary))
    assert code == 0, err
    # the window starts at the last run's end minus the 28 days overlap
    assert replay.esearch_windows() == [("2026/10/03", "2026/11/30")]
    second = table(repo, "search_runs")[-1]
    assert second["search_id"] != first["search_id"]
    assert second["query_translation"] == replay.translation
    assert f"query translation differs from the previous run's ({first['search_id']})" in second["notes"]
    assert "query translation CHANGED" in out and TRANSLATION in out and replay.translation in out
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["translation_changed"] is True and data["previous_translation"] == TRANSLATION
    assert validate_tree(repo) == []


def test_a_second_run_waits_while_records_await_screening(repo, replay, capsys):
    replay.papers = standard_papers(pick(repo))
    assert search(repo, capsys, "--since", SINCE, "--until", UNTIL)[0] == 0
    before = snapshot(repo)
    code, out, err = search(repo, capsys, "--until", "2026-11-30")
    assert code == 1
    assert "awaiting screening" in err and "nothing was written" in err
    assert "Traceback" not in out + err
    assert snapshot(repo) == before


# --- failures leave every file as it was ----------------------------------------------------------------


def _raise(exc: BaseException, when: Callable[[int, str], bool] = lambda n, tool: True):
    def fault(n: int, tool: str, body: bytes) -> bytes:
        if when(n, tool):
            raise exc
        return body

    return fault


def _http(code: int, reason: str) -> HTTPError:
    return HTTPError(
        "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/efetch.fcgi", code, reason, Message(), None
    )


def _spoil(tool_name: str, spoil: Callable[[bytes], bytes]):
    return lambda n, tool, body: spoil(body) if tool == tool_name else body


def _drop_last_article(body: bytes) -> bytes:
    text = body.decode("utf-8")
    cut = text.rindex("<PubmedArticle>")
    return (text[:cut] + "</PubmedArticleSet>\n").encode("utf-8")


FAILURES = {
    "no network": (
        _raise(URLError(OSError(-3, "Temporary failure in name resolution"))),
        1,
        "cannot reach NCBI E-utilities",
    ),
    "HTTP 500 on efetch": (
        _raise(_http(500, "Internal Server Error"), lambda n, tool: tool == "efetch"),
        1,
        "HTTP 500 (Internal Server Error)",
    ),
    "rate limited (HTTP 429)": (_raise(_http(429, "Too Many Requests")), 1, "HTTP 429 (too many requests)"),
    "truncated efetch": (_spoil("efetch", lambda b: b[: len(b) // 2]), 1, "malformed or truncated"),
    "not XML at all": (
        _spoil("esearch", lambda b: b"<html><body>Bad Gateway</body></html>"),
        1,
        "not usable",
    ),
    "NCBI error message": (
        _spoil("esearch", lambda b: (FIXTURES / "esearch_error.xml").read_bytes()),
        1,
        "with an error: Invalid query syntax",
    ),
    "efetch missing a record": (_spoil("efetch", _drop_last_article), 1, "incomplete"),
    "interrupted mid-run": (
        _raise(KeyboardInterrupt(), lambda n, tool: tool == "efetch" and n >= 3),
        130,
        "interrupted; nothing was written",
    ),
}


@pytest.mark.parametrize("failure", list(FAILURES), ids=list(FAILURES))
def test_a_failed_run_writes_nothing(repo, replay, capsys, failure):
    fault, code, message = FAILURES[failure]
    replay.papers = standard_papers(pick(repo))
    replay.fault = fault
    before = snapshot(repo)
    got, out, err = search(repo, capsys, "--since", SINCE, "--until", UNTIL, "--batch-size", "2")
    assert (got, message in err) == (code, True), err
    assert "Traceback" not in out + err
    assert snapshot(repo) == before


def test_without_a_contact_address_nothing_is_sent(repo, replay, capsys, monkeypatch):
    monkeypatch.delenv("NCBI_EMAIL")
    before = snapshot(repo)
    code, out, err = search(repo, capsys, "--since", SINCE, "--until", UNTIL)
    assert code == 1 and "set NCBI_EMAIL" in err and "Traceback" not in out + err
    assert replay.calls == [] and snapshot(repo) == before


def test_a_table_changed_during_the_run_is_not_overwritten(repo, replay, capsys):
    replay.papers = standard_papers(pick(repo))
    records = repo / "data" / "records.csv"

    def edit_meanwhile(n: int, tool: str, body: bytes) -> bytes:
        if tool == "efetch":
            records.write_text(records.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        return body

    replay.fault = edit_meanwhile
    before = snapshot(repo)
    code, _out, err = search(repo, capsys, "--since", SINCE, "--until", UNTIL)
    assert code == 1 and "data/records.csv changed while the command ran" in err
    after = snapshot(repo)
    assert {k for k in before if before[k] != after.get(k)} == {"data/records.csv"}
    assert set(after) == set(before)  # no staged file left behind


# --- the rules tying a run to its rows ------------------------------------------------------------------


def _edit_run(root: Path, column: str, change: Callable[[str], str]) -> int:
    """Change one cell of the last run's row; returns its line (the file has no multi-line cells)."""
    path = root / "data" / "search_runs.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    j = rows[0].index(column)
    rows[-1][j] = change(rows[-1][j])
    path.write_text(to_csv_text(rows[0], rows[1:]), encoding="utf-8")
    return len(rows)


RUN_CORRUPTIONS = {
    "n_new": (lambda v: str(int(v) + 1), "n_new", "were first found by"),
    "n_fetched": (lambda v: str(int(v) + 1), "n_fetched", "lists"),
    "n_found": (lambda v: str(int(v) + 1), "n_found", "has n_results"),
    "n_known": (lambda v: str(int(v) + 2), "n_known", "not n_fetched"),
    "query": (lambda v: v + " AND humans[mh]", "query", "differs from the query"),
    "searched_in": (lambda v: "source-pages-index", "searched_in", "differs from the searched_in"),
    "window_start": (lambda v: "2027-01-01", "window_end", "before it starts"),
    "started_utc": (lambda v: "1999-01-01T00:00:00Z", "started_utc", "is dated"),
    "search_id": (lambda v: "S999-001", "search_id", "is not a search_id in data/searches.csv"),
}


@pytest.mark.parametrize("corruption", list(RUN_CORRUPTIONS), ids=list(RUN_CORRUPTIONS))
def test_validate_ties_a_run_to_its_search_and_rows(repo, replay, capsys, corruption):
    replay.papers = standard_papers(pick(repo))
    assert search(repo, capsys, "--since", SINCE, "--until", UNTIL)[0] == 0
    change, column, message = RUN_CORRUPTIONS[corruption]
    line = _edit_run(repo, corruption, change)
    found = [str(p) for p in validate_tree(repo) if p.path == "data/search_runs.csv"]
    assert any(f.startswith(f"data/search_runs.csv:{line}:{column}: ") and message in f for f in found), found


# --- the saved query, matching and parsing --------------------------------------------------------------


IVIG_TERMS = (
    '"Immunoglobulins, Intravenous"[Mesh]',
    '"intravenous immunoglobulin"',
    '"intravenous immunoglobulins"',
    '"intravenous immune globulin"',
    '"immune globulin intravenous"',
    "IVIG[",
    "IVIg[",
)
DISEASE_TERMS = (
    '"leukocytoclastic vasculitis"',
    '"cutaneous small-vessel vasculitis"',
    '"hypersensitivity vasculitis"',
    '"Lupus Erythematosus, Cutaneous"[Mesh]',
    '"cutaneous lupus"',
    '"discoid lupus"',
    '"subacute cutaneous lupus"',
    '"lupus profundus"',
    '"lupus panniculitis"',
    '"chilblain lupus"',
    '"bullous SLE"',
    '"livedoid vasculopathy"',
    '"livedoid vasculitis"',
    '"atrophie blanche"',
    '"segmental hyalinizing vasculitis"',
    '"Scleroderma, Systemic"[Mesh]',
    '"systemic sclerosis"',
    "scleroderma[",
    '"Sjogren\'s Syndrome"[Mesh]',
    "Sjogren*",
    '"sicca syndrome"',
)


def test_the_saved_query_is_data_and_names_every_synonym():
    protocol = {r["item_id"]: r for r in table(ROOT, "protocol")}
    strategy, source = protocol["strategy-pubmed"], protocol["source-pubmed"]
    assert (strategy["section"], strategy["topic"], strategy["disease"]) == ("search_strategy", "pubmed", "")
    assert (source["section"], source["topic"]) == ("source", "database")
    query = strategy["text"]
    ivig, diseases = query.split(") AND (", 1)
    for term in IVIG_TERMS:
        assert term in ivig
    for term in DISEASE_TERMS:
        assert term in diseases
    assert query.count("(") == query.count(")")


def test_titles_and_dois_are_normalised_for_matching():
    assert normalise_title("Sjögren’s  Syndrome: a CASE—report.") == "sjogren s syndrome a case report"
    assert normalise_title("Ｆｕｌｌｗｉｄｔｈ ＩＶＩＧ") == "fullwidth ivig"
    assert normalise_doi(" https://doi.org/10.1000/ABC.12. ") == "10.1000/abc.12"
    assert normalise_doi("doi:10.1000/xyz") == "10.1000/xyz"
    assert normalise_doi("not a doi") == ""


def test_matching_order_and_guards():
    ledger = Ledger(
        [
            {
                "record_id": "R0001",
                "address": "https://pubmed.ncbi.nlm.nih.gov/123/",
                "title": "A first paper about IVIG",
                "year": "2020",
            },
            {
                "record_id": "R0002",
                "address": "https://pmc.ncbi.nlm.nih.gov/articles/PMC77/",
                "doi": "10.1/x",
                "title": "Correction",
                "year": "2021",
            },
            {
                "record_id": "R0003",
                "address": "https://example.org/x",
                "doi": "10.1000/Abc",
                "title": "Another paper about IVIG",
                "year": "2022",
            },
        ]
    )
    A = pubmed_xml.Article
    assert ledger.match(A("123", "anything")) == ("R0001", "pmid")
    assert ledger.match(A("9", "anything", pmcid="pmc77")) == ("R0002", "pmcid")
    assert ledger.match(A("9", "anything", doi="10.1000/ABC")) == ("R0003", "doi")
    assert ledger.match(A("9", "ANOTHER paper, about IVIG!", year="2022")) == ("R0003", "title+year")
    assert ledger.match(A("9", "Another paper about IVIG", year="2023")) is None  # another year
    assert ledger.match(A("9", "Correction", year="2021")) is None  # too generic to match by title


def test_efetch_xml_edge_cases_are_read_as_shown():
    articles = pubmed_xml.parse_efetch((FIXTURES / "efetch_edge_cases.xml").read_bytes())
    assert articles == [
        pubmed_xml.Article(
            "31000001",
            "Response of livedoid vasculopathy to IVIG1.",
            "Edge Case Study Group",
            "2019",
            "Journal of Edge Cases",
            "10.1000/Edge.2019.7",
            "",
        ),
        pubmed_xml.Article(
            "31000002",
            "Vasculitis leucocitoclástica tratada con inmunoglobulina intravenosa.",
            "",
            "2021",
            "Revista de Casos",
            "10.2000/rc.2021.5",
            "PMC8000002",
        ),
        pubmed_xml.Article(
            "31000003",
            "Intravenous immunoglobulin in dermatology",
            "Bookwright",
            "2020",
            "Immune-Mediated Skin Disease",
            "",
            "",
        ),
    ]


def test_esearch_answers_are_checked():
    page = pubmed_xml.parse_esearch(
        esearch_body(2, [Paper("11", "a"), Paper("12", "b")], "MCID_1", TRANSLATION)
    )
    assert (page.count, page.ids, page.webenv, page.query_key) == (2, ("11", "12"), "MCID_1", "1")
    assert page.translation == TRANSLATION
    with pytest.raises(pubmed_xml.NCBIError, match="Invalid query syntax"):
        pubmed_xml.parse_esearch((FIXTURES / "esearch_error.xml").read_bytes())
    with pytest.raises(pubmed_xml.BadResponse, match="truncated"):
        pubmed_xml.parse_esearch(esearch_body(1, [Paper("11", "a")], "MCID_1", TRANSLATION)[:200])
