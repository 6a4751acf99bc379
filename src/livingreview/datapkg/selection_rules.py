"""Review rules for the search and selection tables (``protocol``, ``searches``, ``search_results``,
``records``, ``screening``) that a Table Schema cannot express, and their links to the evidence tables.

Called by ``livingreview.datapkg.validate`` after the schema checks, on the same checked tables, so every
problem is reported as ``path:line:column: message`` like any other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from livingreview.datapkg import ledger
from livingreview.datapkg.problems import Problem

RETRIEVAL_DECISIONS = {"retrieved", "not_retrieved"}
STAGE_TA, STAGE_RETRIEVAL, STAGE_ELIGIBILITY = "1_title_abstract", "2_retrieval", "3_eligibility"


def needs_reason(stage: str, decision: str) -> bool:
    """Whether a decision needs a reason from the controlled list: an exclusion at eligibility and a report
    not retrieved do; an exclusion on title and abstract may have one."""
    return (stage == STAGE_ELIGIBILITY and decision == "exclude") or decision == "not_retrieved"


def _rows(frame: pd.DataFrame) -> list[dict]:
    """The rows of a frame as dicts (``iterrows`` builds a Series per row: far slower on a large ledger)."""
    return frame.to_dict("records")


def check_selection(tables: dict, problems: list[Problem]) -> None:
    """The rules of the selection tables; nothing is checked unless all five were read."""
    needed = ("protocol", "searches", "search_results", "records", "screening")
    if not all(name in tables for name in needed):
        return
    t = {name: tables[name] for name in needed}
    frames = {name: table.frame() for name, table in t.items()}

    def flag(name: str, row, column: str, message: str) -> None:
        problems.append(Problem(t[name].path, int(row["_line"]), column, message))

    protocol, searches, results = frames["protocol"], frames["searches"], frames["search_results"]
    records, screening = frames["records"], frames["screening"]
    sources = set(protocol.loc[protocol.get("section", pd.Series(dtype=str)) == "source", "item_id"])
    for row in _rows(searches):
        if row.get("searched_in") and row["searched_in"] not in sources:
            flag(
                "searches",
                row,
                "searched_in",
                f"{row['searched_in']!r} is not a source item of {t['protocol'].path} (section 'source')",
            )
    counts = results.groupby("search_id").size() if not results.empty else pd.Series(dtype=int)
    for row in _rows(searches):
        given = row.get("n_results")
        listed = int(counts.get(row["search_id"], 0))
        if pd.notna(given) and int(given) != listed:
            flag(
                "searches",
                row,
                "n_results",
                f"n_results is {int(given)} but {t['search_results'].path} "
                f"lists {listed} results of {row['search_id']}",
            )

    # records ------------------------------------------------------------------------------------------
    rounds = dict(zip(records["record_id"], records["round"], strict=True))
    kind = dict(zip(records["record_id"], records["identified_by"], strict=True))
    bib_of = dict(zip(records["record_id"], records["bib_key"], strict=True))
    seen_keys: dict[str, int] = {}
    for row in _rows(records):
        key = row["bib_key"]
        if not key:
            continue
        if key in seen_keys:
            flag(
                "records",
                row,
                "bib_key",
                f"bib_key {key!r} is already the key of the record on line "
                f"{seen_keys[key]}; one record per report",
            )
        seen_keys.setdefault(key, int(row["_line"]))
    for row in _rows(records):
        if row["identified_by"] == "database" and row["identified_through"] not in sources:
            flag(
                "records",
                row,
                "identified_through",
                f"{row['identified_through']!r} is not a source item of {t['protocol'].path}",
            )
    first_search_round = (
        results.merge(searches[["search_id", "round"]], on="search_id").groupby("record_id")["round"].min()
        if not results.empty
        else pd.Series(dtype=float)
    )
    for row in _rows(records):
        if row["identified_by"] != "database":
            continue
        r = first_search_round.get(row["record_id"])
        if r is None or pd.isna(r):
            flag(
                "records",
                row,
                "record_id",
                f"a database record must be a result of a search in {t['search_results'].path}",
            )
        elif int(r) != rounds[row["record_id"]]:
            flag(
                "records",
                row,
                "round",
                f"round is {rounds[row['record_id']]:g} but the record was first "
                f"returned by a search of round {int(r)}",
            )

    # screening ----------------------------------------------------------------------------------------
    decided = {
        (r, int(n), s): d
        for r, n, s, d in zip(
            screening["record_id"],
            screening["round"].fillna(-1),
            screening["stage"],
            screening["decision"],
            strict=True,
        )
    }
    for row in _rows(screening):
        rid, stage, decision = row["record_id"], row["stage"], row["decision"]
        rnd = row["round"]
        reason, role, linked = row["reason"], row["role"], row["linked_record"]
        if rid not in rounds or pd.isna(rnd):
            continue
        if rnd < rounds[rid]:
            flag(
                "screening",
                row,
                "round",
                f"round {rnd:g} is before the record was identified (round {rounds[rid]:g})",
            )
        if (stage == STAGE_RETRIEVAL) != (decision in RETRIEVAL_DECISIONS):
            allowed = "retrieved or not_retrieved" if stage == STAGE_RETRIEVAL else "include or exclude"
            flag(
                "screening",
                row,
                "decision",
                f"decision {decision!r} does not fit stage {stage!r} (use {allowed})",
            )
        if needs_reason(stage, decision) and not reason:
            flag(
                "screening",
                row,
                "reason",
                f"a record {'excluded at eligibility' if decision == 'exclude' else 'not retrieved'} "
                "needs a reason from the controlled list",
            )
        if reason and decision in ("include", "retrieved"):
            flag("screening", row, "reason", f"reason {reason!r} is given but the decision is {decision!r}")
        if decision == "not_retrieved" and reason and reason != "not_retrievable":
            flag("screening", row, "reason", "a record not retrieved has reason 'not_retrievable'")
        if reason == "not_retrievable" and decision != "not_retrieved":
            flag(
                "screening",
                row,
                "reason",
                "'not_retrievable' belongs to a not_retrieved decision at retrieval",
            )
        included = stage == STAGE_ELIGIBILITY and decision == "include"
        if included and not role:
            flag(
                "screening",
                row,
                "role",
                "an included record needs a role (primary, companion or secondary_source)",
            )
        if role and not included:
            flag("screening", row, "role", "role is only for records included at eligibility")
        if (reason == "same_patients" or role == "companion") and not linked:
            what = "same_patients" if reason == "same_patients" else "a companion"
            flag(
                "screening",
                row,
                "linked_record",
                f"{what} needs linked_record: the record whose patients it reports",
            )
        if linked and linked == rid:
            flag("screening", row, "linked_record", "a record cannot be linked to itself")
        if included and not bib_of.get(rid):
            flag(
                "screening", row, "record_id", f"included record {rid} needs a bib_key in {t['records'].path}"
            )
        # the path through the stages within a round
        ta_decision = decided.get((rid, int(rnd), STAGE_TA))
        if stage == STAGE_RETRIEVAL and kind.get(rid) == "database" and ta_decision != "include":
            flag(
                "screening",
                row,
                "stage",
                f"{rid} is sought for retrieval in round {rnd:g} but was not "
                "included at title/abstract screening in that round",
            )
        if stage == STAGE_ELIGIBILITY and decided.get((rid, int(rnd), STAGE_RETRIEVAL)) != "retrieved":
            flag(
                "screening",
                row,
                "stage",
                f"{rid} is assessed for eligibility in round {rnd:g} but was not retrieved in that round",
            )
        if stage == STAGE_TA and kind.get(rid) != "database":
            flag(
                "screening",
                row,
                "stage",
                "title/abstract screening is for database records; records found "
                "by other methods go straight to retrieval",
            )
    # a database record of the latest round may still await screening; any other record needs a decision
    screened_ids = set(screening["record_id"])
    latest = ledger.latest_round(_rows(records), _rows(searches), _rows(screening))
    awaiting = (
        set(ledger.awaiting_screening(_rows(records), _rows(screening), latest))
        if latest is not None
        else set()
    )
    for row in _rows(records):
        rid = row["record_id"]
        if rid in screened_ids or rid in awaiting:
            continue
        if row["identified_by"] != ledger.DATABASE:
            why = "records found by other methods go straight to retrieval: record that decision"
        else:
            why = f"only records of the latest round (round {latest}) may await screening"
        flag("records", row, "record_id", f"{rid} has no decision in {t['screening'].path}; {why}")

    # links to the evidence ------------------------------------------------------------------------------
    elig = screening[(screening["stage"] == STAGE_ELIGIBILITY) & (screening["decision"] == "include")]
    role_of: dict[str, str] = {}
    for rid, role in zip(elig["record_id"], elig["role"], strict=True):
        key = bib_of.get(rid)
        if key:
            role_of[key] = role
    for row in _rows(elig):
        if row["role"] == "companion" and row["linked_record"]:
            other = bib_of.get(row["linked_record"])
            if role_of.get(other) != "primary":
                flag(
                    "screening",
                    row,
                    "linked_record",
                    f"a companion must be linked to an included primary "
                    f"report; {row['linked_record']} is not one",
                )
    cases = tables.get("cases")
    outcomes = tables.get("outcomes")
    claims = tables.get("claims")
    if cases is None or outcomes is None or not cases.has("source") or not outcomes.has("source"):
        return  # an unreadable evidence table is reported once, not as a missing source on every record
    used_as_source: set[str] = set()
    used_as_via: set[str] = set()
    for table in (cases, outcomes):
        if table is None or "source" not in table.strings:
            continue
        used_as_source |= set(table.s("source"))
        if "via" in table.strings:
            used_as_via |= set(table.s("via")) - {""}
        flagger_rows = np.flatnonzero(
            np.array([s != "" and role_of.get(s) != "primary" for s in table.s("source")], dtype=bool)
        )
        for r in flagger_rows:
            problems.append(
                Problem(
                    table.path,
                    int(table.lines[r]),
                    "source",
                    f"source {table.s('source')[r]!r} is not a record included as primary in "
                    f"{t['screening'].path}",
                )
            )
    claimed = set(claims.s("source")) if claims is not None and "source" in claims.strings else set()
    for row in _rows(elig):
        key = bib_of.get(row["record_id"])
        if not key:
            continue
        if row["role"] == "primary" and key not in used_as_source:
            flag(
                "screening",
                row,
                "role",
                f"{key!r} is included as primary but is the source of no row of "
                "cases.csv or outcomes.csv; add its data, or say why it contributes none (companion, "
                "secondary_source)",
            )
        if row["role"] == "secondary_source" and key not in used_as_via | claimed:
            flag(
                "screening",
                row,
                "role",
                f"{key!r} is included as a secondary source but no case group is "
                "extracted through it (via) and it states no claim",
            )
