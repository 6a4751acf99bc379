"""Rules tying each run of a saved search (``search_runs.csv``) to its search (``searches.csv``) and to the
rows it added: the same source, query and date; a window and times that run forwards; counts that agree with
the results listed in ``search_results.csv`` and the records the search found first in ``records.csv``.

Called by ``livingreview.datapkg.validate`` after the schema checks, on the same checked tables; every problem
is located as ``path:line:column: message``. That each run's search exists is the schema's foreign key.
"""

from __future__ import annotations

import datetime
import math
from collections import Counter

from livingreview.datapkg.problems import Problem

__all__ = ["check_search_runs"]

NEEDED = ("searches", "search_results", "records", "search_runs")


def _rows(table) -> list[dict]:
    """Each row as a dict of its stripped strings, numbers as the values the column checks parsed, and its
    line."""
    out = []
    for i in range(table.n):
        row: dict = {name: table.s(name)[i] for name in table.strings}
        row.update({name: table.x(name)[i] for name in table.numbers})
        row["_line"] = int(table.lines[i])
        out.append(row)
    return out


def _date(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def _found_first(tables: dict, rounds: dict[str, float]) -> Counter:
    """How many records each search found first: database records of the search's round whose first result
    (by round, then search id) is one of the search's."""
    results = tables["search_results"]
    first: dict[str, tuple[float, str]] = {}
    for sid, rid in zip(results.s("search_id"), results.s("record_id"), strict=True):
        key = (rounds.get(sid, math.inf), sid)
        if rid not in first or key < first[rid]:
            first[rid] = key
    records = tables["records"]
    counts: Counter = Counter()
    for rid, kind, rnd in zip(
        records.s("record_id"), records.s("identified_by"), records.x("round"), strict=True
    ):
        if rid in first and kind == "database" and first[rid][0] == rnd:
            counts[first[rid][1]] += 1
    return counts


def check_search_runs(tables: dict, problems: list[Problem]) -> None:
    """The rules above; nothing is checked unless all four tables were read."""
    if not all(name in tables for name in NEEDED):
        return
    runs_table = tables["search_runs"]
    searches = {s["search_id"]: s for s in _rows(tables["searches"])}
    rounds = {sid: s.get("round", math.nan) for sid, s in searches.items()}
    listed = Counter(tables["search_results"].s("search_id"))
    found_first = _found_first(tables, rounds)

    def flag(row: dict, column: str, message: str) -> None:
        problems.append(Problem(runs_table.path, row["_line"], column, message))

    searches_path, results_path = tables["searches"].path, tables["search_results"].path
    for run in _rows(runs_table):
        sid = run["search_id"]
        search = searches.get(sid)
        if search is None:
            continue  # the foreign key reports it
        where = f"{sid} in {searches_path}"
        for column, theirs in (("searched_in", "searched_in"), ("query", "query")):
            if run[column] and search.get(theirs) and run[column] != search[theirs]:
                flag(run, column, f"{column} differs from the {theirs} of {where}")
        if (
            run["started_utc"][:10]
            and search.get("run_date")
            and run["started_utc"][:10] != search["run_date"]
        ):
            flag(
                run,
                "started_utc",
                f"the run started on {run['started_utc'][:10]} but {where} is dated {search['run_date']}",
            )
        start, end = _date(run["window_start"]), _date(run["window_end"])
        for column, value in (("window_start", start), ("window_end", end)):
            if run[column] and value is None:
                flag(run, column, f"{run[column]!r} is not a date")
        if start and end and start > end:
            flag(run, "window_end", f"the window ends ({end}) before it starts ({start})")
        if run["started_utc"] and run["finished_utc"] and run["finished_utc"] < run["started_utc"]:
            flag(run, "finished_utc", "the run finished before it started")
        n = {k: run.get(k, math.nan) for k in ("n_found", "n_fetched", "n_new", "n_known")}
        if any(math.isnan(v) for v in n.values()):
            continue  # an unreadable count is reported by the schema checks
        given = search.get("n_results", math.nan)
        if not math.isnan(given) and n["n_found"] != given:
            flag(run, "n_found", f"n_found is {n['n_found']:g} but {where} has n_results {given:g}")
        if n["n_fetched"] != listed[sid]:
            flag(
                run,
                "n_fetched",
                f"n_fetched is {n['n_fetched']:g} but {results_path} lists {listed[sid]} results of {sid}",
            )
        if n["n_new"] + n["n_known"] != n["n_fetched"]:
            flag(
                run,
                "n_known",
                f"n_new + n_known is {n['n_new'] + n['n_known']:g}, not n_fetched ({n['n_fetched']:g})",
            )
        if n["n_new"] != found_first[sid]:
            flag(
                run,
                "n_new",
                f"n_new is {n['n_new']:g} but {found_first[sid]} records of "
                f"{tables['records'].path} were first found by {sid}",
            )
