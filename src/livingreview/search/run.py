"""One run of the saved PubMed search: plan it from the ledger, run it, stage every file it changes, and write
them only once the whole run has succeeded.

The plan: the saved query (protocol item ``strategy-pubmed``), the source (``source-pubmed``), the round
(``ledger.open_round``: every run opens the next round) and the entry-date window, from the end of the
source's last run minus an overlap (28 days by default) to today; the first run starts on the date given, or
on the date round 1 was searched. The run: esearch (split while a part has 10,000 records or more), efetch of
every record, each matched to the ledger (``matching``) and a new record for each one the ledger does not
have. Everything is computed first; the new texts are checked with ``validate_staged`` and written with
``file_set.write_files``, so a failure at any point leaves every file byte-identical.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from livingreview.datapkg import ledger
from livingreview.datapkg.canonical_form import table_text
from livingreview.datapkg.csvfile import resource_records
from livingreview.datapkg.descriptor import require_descriptor, require_resource, resource_path
from livingreview.datapkg.file_set import fingerprints, write_files
from livingreview.datapkg.validate import validate_staged
from livingreview.errors import UserError
from livingreview.search import rows
from livingreview.search.matching import Ledger
from livingreview.search.pubmed import ESEARCH_LIMIT, PubMed, search_window

__all__ = ["DEFAULTS", "Options", "Outcome", "plan", "run_search", "write"]

STRATEGY_ITEM = "strategy-pubmed"
SOURCE_ITEM = "source-pubmed"
DATETYPE = "edat"
TABLES = ("protocol", "searches", "search_results", "records", "screening", "search_runs")


@dataclass(frozen=True)
class Options:
    since: datetime.date | None = None
    until: datetime.date | None = None
    overlap_days: int = 28
    batch_size: int = 200
    dry_run: bool = False


DEFAULTS = Options()


@dataclass
class Plan:
    """What a run will do, before any request: the ledger as read, the query, the round and the window."""

    root: Path
    descriptor: dict
    tables: dict[str, list[dict[str, str]]]
    read_as: dict[str, str | None]
    query: str
    round: int
    search_id: str
    window: tuple[datetime.date, datetime.date]
    previous: dict[str, str] | None  # the source's last run, if any


@dataclass
class Outcome:
    """What a run found and the texts of the files it changes."""

    plan: Plan
    facts: rows.RunFacts
    new_ids: list[str]
    queue: list[str]
    translation_changed: bool
    messages: tuple[str, ...]
    texts: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # what validate would say after the run (dry run)

    def summary(self, dry_run: bool) -> dict:
        f = self.facts
        return {
            "run_id": f.search_id,
            "round": f.round,
            "searched_in": f.source,
            "datetype": f.datetype,
            "window": [f.window[0].isoformat(), f.window[1].isoformat()],
            "found": f.found,
            "fetched": f.fetched,
            "new": f.new,
            "known": f.known,
            "new_records": self.new_ids,
            "queue": len(self.queue),
            "translation": f.translation,
            "translation_changed": self.translation_changed,
            "previous_translation": (self.plan.previous or {}).get("query_translation", ""),
            "messages": list(self.messages),
            "dry_run": dry_run,
            "files": sorted(self.texts) if not dry_run else [],
        }


def _item(protocol: list[dict[str, str]], item_id: str, section: str) -> dict[str, str]:
    for row in protocol:
        if row.get("item_id") == item_id and row.get("section") == section:
            return row
    raise UserError(f"data/protocol.csv has no item {item_id!r} of section {section!r}; nothing was written")


def _window(tables: dict, previous: dict | None, options: Options, today: datetime.date):
    end = options.until or today
    if options.since is not None:
        start = options.since
    elif previous is not None:
        start = datetime.date.fromisoformat(previous["window_end"]) - datetime.timedelta(options.overlap_days)
    else:
        dates = [s["run_date"] for s in tables["searches"] if ledger.round_of(s.get("round")) == 1]
        if not dates:
            raise UserError(
                f"{SOURCE_ITEM} has never been searched and round 1 has no date: give --since DATE"
            )
        start = datetime.date.fromisoformat(max(dates))
    if start > end:
        raise UserError(
            f"the window would start on {start} after it ends on {end}; check --since and --until"
        )
    return start, end


def plan(root: str | Path, options: Options, today: datetime.date) -> Plan:
    """Read the ledger and decide the run's query, round, id and window; UserError when it cannot run."""
    root = Path(root)
    descriptor = require_descriptor(root)
    resources = {name: require_resource(descriptor, name) for name in TABLES}
    read_as = fingerprints(root, [resource_path(res) for res in resources.values()])  # before reading
    tables = {name: resource_records(root, res) for name, res in resources.items()}
    query = _item(tables["protocol"], STRATEGY_ITEM, "search_strategy")["text"]
    _item(tables["protocol"], SOURCE_ITEM, "source")
    latest = ledger.latest_round(tables["records"], tables["searches"], tables["screening"])
    waiting = (
        ledger.awaiting_screening(tables["records"], tables["screening"], latest)
        if latest is not None
        else []
    )
    if waiting and not options.dry_run:
        raise UserError(
            f"round {latest} still has {len(waiting)} record(s) awaiting screening ({', '.join(waiting[:3])}"
            f"{', ...' if len(waiting) > 3 else ''}); screen them before the next search opens a new round "
            "(--dry-run only reports); nothing was written"
        )
    round_ = ledger.open_round(tables["records"], tables["searches"])
    seqs = [
        int(s["search_id"].rsplit("-", 1)[1]) for s in tables["searches"] if s.get("round") == str(round_)
    ]
    runs = sorted(
        (r for r in tables["search_runs"] if r.get("searched_in") == SOURCE_ITEM),
        key=lambda r: (r["window_end"], r["finished_utc"]),
    )
    previous = runs[-1] if runs else None
    return Plan(
        root=root,
        descriptor=descriptor,
        tables=tables,
        read_as=read_as,
        query=query,
        round=round_,
        search_id=f"S{round_}-{max(seqs, default=0) + 1:03d}",
        window=_window(tables, previous, options, today),
        previous=previous,
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _match(p: Plan, articles: list, date: str) -> tuple[list[dict[str, str]], list[tuple[str, str]]]:
    """The new records (those the ledger does not have, in rank order, numbered on) and ``(pmid, record_id)``
    of every result."""
    index = Ledger(p.tables["records"])
    fields = require_resource(p.descriptor, "records")["schema"]["fields"]
    new_records: list[dict[str, str]] = []
    results: list[tuple[str, str]] = []
    next_id = ledger.next_record_id(p.tables["records"])
    for article in articles:
        found = index.match(article)
        if found is None:
            new_records.append(rows.record_row(next_id, p.round, date, SOURCE_ITEM, article, fields))
            index.add_article(next_id, article)
            found = (next_id, "new")
            next_id = f"R{int(next_id[1:]) + 1:04d}"
        results.append((article.pmid, found[0]))
    return new_records, results


def _texts(descriptor: dict, tables: dict, added: dict[str, list[dict[str, str]]]) -> dict[str, str]:
    """The canonical text of each changed table with its rows added, by relative path."""
    texts = {}
    for name, new in added.items():
        res = require_resource(descriptor, name)
        text, problems = table_text(res, [*tables[name], *new])
        if text is None:
            raise UserError("cannot lay out the run's rows:\n" + "\n".join(map(str, problems)))
        texts[resource_path(res)] = text
    return texts


def run_search(
    root: str | Path,
    client: PubMed,
    options: Options = DEFAULTS,
    clock: Callable[[], datetime.datetime] = _now,
) -> Outcome:
    """Plan, search, fetch and match; the staged texts of the changed files in ``Outcome.texts``. Writes
    nothing (``write`` does)."""
    if not 1 <= options.batch_size <= ESEARCH_LIMIT or options.overlap_days < 0:
        raise UserError(f"--batch-size must be 1 to {ESEARCH_LIMIT} and --overlap-days at least 0")
    started = clock()
    p = plan(root, options, started.date())
    parts = search_window(client, p.query, DATETYPE, *p.window)
    articles = [article for *_, page in parts for article in client.efetch(page, options.batch_size)]
    finished = clock()
    translations = list(dict.fromkeys(page.translation for *_, page in parts if page.translation))
    translation = translations[0] if translations else "(PubMed returned no query translation)"
    messages = tuple(dict.fromkeys(m for *_, page in parts for m in page.messages))

    new_records, results = _match(p, articles, started.date().isoformat())
    changed = p.previous is not None and p.previous.get("query_translation") != translation
    notes = [f"window split in {len(parts)} parts of fewer than 10,000 records"] if len(parts) > 1 else []
    if len(translations) > 1:
        notes.append("the parts were translated differently: " + " | ".join(translations[1:]))
    if changed:
        notes.append(f"query translation differs from the previous run's ({p.previous['search_id']})")
    notes += [f"PubMed {m}" for m in messages]
    facts = rows.RunFacts(
        search_id=p.search_id,
        round=p.round,
        source=SOURCE_ITEM,
        query=p.query,
        translation=translation,
        datetype=DATETYPE,
        window=p.window,
        found=sum(page.count for *_, page in parts),
        fetched=len(articles),
        new=len(new_records),
        known=len(articles) - len(new_records),
        started=started,
        finished=finished,
        hashes=tuple(client.hashes),
        notes=tuple(notes),
    )
    added = {
        "searches": [rows.search_row(facts)],
        "search_results": rows.result_rows(p.search_id, results),
        "records": new_records,
        "search_runs": [rows.run_row(facts)],
    }
    texts = _texts(p.descriptor, p.tables, added)
    problems = validate_staged(p.root, texts)
    if problems and not options.dry_run:
        shown = "\n".join(str(problem) for problem in problems[:20])
        more = f"\n(and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise UserError(f"the data would not be valid after this run; nothing was written:\n{shown}{more}")
    all_records = [*p.tables["records"], *new_records]
    return Outcome(
        plan=p,
        facts=facts,
        new_ids=[r["record_id"] for r in new_records],
        queue=ledger.awaiting_screening(all_records, p.tables["screening"], p.round),
        translation_changed=changed,
        messages=messages,
        texts=texts,
        problems=[str(problem) for problem in problems],
    )


def write(outcome: Outcome) -> None:
    """Write the run's files as one change (refused if any of the tables changed since the run read them)."""
    write_files(outcome.plan.root, outcome.texts, outcome.plan.read_as)
