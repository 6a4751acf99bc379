"""``livingreview search``: run the protocol's saved PubMed query (``strategy-pubmed`` in data/protocol.csv)
through NCBI E-utilities and record the run in the ledger.

The window is the entry date (edat) from the end of the last recorded run minus an overlap (28 days) to today;
the first run starts on --since, or on the date round 1 was searched. Every record found is matched to
data/records.csv (PMID, PMC id, DOI, then title and year); the run appends one row to searches.csv and to
search_runs.csv (query translation, window, counts, tool versions, SHA-256 of every answer), every result to
search_results.csv and each new record to records.csv (a new round, awaiting screening). Nothing already in
the ledger changes. Nothing is written unless the whole run succeeds and the data stay valid.

Environment: NCBI_EMAIL (required: NCBI asks every client for a contact address), NCBI_API_KEY (optional: 10
instead of 3 requests a second). Exit status: 0 done, 1 refused or failed (nothing written), 130 interrupted.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import socket
import sys

from livingreview.datapkg.csvfile import write_atomic
from livingreview.errors import UserError
from livingreview.paths import find_root
from livingreview.search import run as search_run
from livingreview.search.pubmed import client_from_environment


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (__doc__ or "").replace("``", "")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    defaults = search_run.DEFAULTS
    parser.add_argument(
        "--since",
        type=_date,
        metavar="DATE",
        help="start of the window (YYYY-MM-DD) instead of the last run's end minus the overlap; "
        "needed for a first run when round 1 has no date",
    )
    parser.add_argument("--until", type=_date, metavar="DATE", help="end of the window (default: today, UTC)")
    parser.add_argument(
        "--overlap-days",
        type=int,
        default=defaults.overlap_days,
        metavar="N",
        help=f"days the window reaches back before the last run's end (default: {defaults.overlap_days})",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=defaults.batch_size,
        metavar="N",
        help=f"records per efetch request (default: {defaults.batch_size})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120,
        metavar="SECONDS",
        help="give up on an NCBI request that stays silent this long (default: 120)",
    )
    parser.add_argument("--dry-run", action="store_true", help="search and report, but write no data file")
    parser.add_argument(
        "--summary",
        metavar="FILE",
        help="write a JSON summary of the run to FILE: run_id, window, found, new, known, queue (records "
        "awaiting screening), translation, translation_changed (written with --dry-run too)",
    )


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        root = find_root(args.root)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None
    options = search_run.Options(
        since=args.since,
        until=args.until,
        overlap_days=args.overlap_days,
        batch_size=args.batch_size,
        dry_run=args.dry_run,
    )
    client = client_from_environment(os.environ, report=_say)
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(args.timeout)
    try:
        outcome = search_run.run_search(root, client, options)
    finally:
        socket.setdefaulttimeout(previous_timeout)
    f = outcome.facts
    start, end = f.window
    print(f"{f.search_id} (round {f.round}): PubMed, entry dates {start} to {end}")
    print(f"  found {f.found}, fetched {f.fetched}: {f.new} new, {f.known} already in data/records.csv")
    if outcome.new_ids:
        print(f"  new records: {outcome.new_ids[0]} to {outcome.new_ids[-1]}")
    previous = outcome.plan.previous
    if outcome.translation_changed and previous is not None:
        print(f"  the query translation CHANGED since {previous['search_id']}; check it before screening:")
        print(f"    before: {previous['query_translation']}")
        print(f"    now:    {f.translation}")
    else:
        print(f"  query translation: {f.translation}")
    for message in outcome.messages:
        print(f"  PubMed says: {message}")
    print(f"  awaiting screening: {len(outcome.queue)} record(s) of round {f.round}")
    if args.dry_run:
        for problem in outcome.problems:
            print(f"  would not validate: {problem}")
        print("Dry run: no data file was written.")
    else:
        search_run.write(outcome)
        print("Wrote " + ", ".join(sorted(outcome.texts)) + ".")
        print(
            "Next: screen the new records, `livingreview validate`, then bump the version and the changelog."
        )
    if args.summary:
        text = json.dumps(outcome.summary(args.dry_run), indent=2, ensure_ascii=False) + "\n"
        write_atomic(args.summary, text)
    return 0
