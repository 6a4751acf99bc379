"""The PRISMA 2020 flow of every search round, counted from the screening log (never typed).

:func:`count_flow` counts each box of the PRISMA 2020 diagram per round from ``searches``,
``search_results``, ``records``, ``screening`` and ``protocol``, and checks that every box adds up: a log
that does not add up is a validation error (:func:`flow_problems`). The latest round may be in progress: its
database records without a decision yet count as ``awaiting_screening`` (identified minus duplicates =
screened plus awaiting), those included on title and abstract but not yet sought as ``awaiting_retrieval``,
and reports retrieved but not yet assessed as ``awaiting_assessment`` (:data:`AWAITING`); an earlier round
must be complete. Drawing it is :mod:`livingreview.render.prisma`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from livingreview.datapkg import ledger
from livingreview.datapkg.descriptor import read_descriptor
from livingreview.datapkg.frames import load_table

OTHER_METHODS = {
    "website": "website_results",
    "organisation": "organisation_results",
    "citation_searching": "citations_results",
    "contributor_submission": "submission_results",
}
REASON_LABELS = {
    "wrong_disease": "Not the disease in scope",
    "not_ivig_treatment": "IVIG not given to treat the disease",
    "no_outcome": "No outcome of treated patients stated",
    "not_separable": "Patients with the disease not separable",
    "same_patients": "Same patients as another report",
    "review_no_new_patients": "Review without new patients",
    "wrong_design": "Design out of scope",
    "not_retrievable": "Not retrievable",
}


#: the counts of a round in progress, and what each is waiting for
AWAITING = {
    "awaiting_screening": "title/abstract screening",
    "awaiting_retrieval": "retrieval",
    "awaiting_assessment": "assessment for eligibility",
}


class FlowError(ValueError):
    """A box of the flow diagram does not add up."""


@dataclass
class RoundFlow:
    round: int
    date: str
    database_specific: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    dbr_excluded: dict[str, int] = field(default_factory=dict)
    other_excluded: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, key: str) -> int:
        return self.counts[key]


#: the tables the flow is counted from
TABLES = ("protocol", "searches", "search_results", "records", "screening")


def flow(root: str | Path) -> list[RoundFlow]:
    """The counts of every round of the checkout at ``root``, oldest first."""
    root = Path(root)
    tables = {name: load_table(root, name) for name in TABLES}
    return count_flow(tables, str(read_descriptor(root).get("version", "")))


def count_flow(t: dict[str, pd.DataFrame], version: str) -> list[RoundFlow]:
    """The counts of every round, oldest first, from the :data:`TABLES`. Raises ``FlowError`` when a box
    does not add up (``version`` is for the message)."""
    source_names = _source_names(t["protocol"])
    records, screening = t["records"], t["screening"]
    searches, results = t["searches"], t["search_results"]
    kind = dict(zip(records["record_id"], records["identified_by"], strict=True))
    rounds = sorted(
        set(records["round"].astype(int))
        | set(screening["round"].astype(int))
        | set(searches["round"].astype(int))
    )
    out: list[RoundFlow] = []
    previous_studies = previous_reports = 0
    for r in rounds:
        dates = list(records.loc[records["round"] == r, "date_identified"]) + list(
            searches.loc[searches["round"] == r, "run_date"]
        )
        f = RoundFlow(r, max(dates) if dates else "")
        s = screening[screening["round"] == r]
        is_db = s["record_id"].map(kind).eq("database")
        db, other = s[is_db], s[~is_db]
        mine = searches[searches["round"] == r]
        hits = results[results["search_id"].isin(mine["search_id"])].merge(
            mine[["search_id", "searched_in"]], on="search_id"
        )
        for source, part in hits.groupby("searched_in", sort=True):
            f.database_specific[source_names.get(source, source)] = int(part["address"].nunique())
        new = records[records["round"] == r]
        c = f.counts
        c["previous_studies"], c["previous_reports"] = previous_studies, previous_reports
        c["database_results"] = int(hits["address"].nunique())
        c["register_results"] = 0
        for method, key in OTHER_METHODS.items():
            c[key] = int((new["identified_by"] == method).sum())
        c["duplicates"] = c["database_results"] - int((new["identified_by"] == "database").sum())
        c["excluded_automatic"] = c["excluded_other"] = 0

        def n(frame: pd.DataFrame, stage: str, decision: str | None = None) -> int:
            rows = frame[frame["stage"] == stage]
            return int(len(rows) if decision is None else (rows["decision"] == decision).sum())

        c["records_screened"] = n(db, "1_title_abstract")
        waiting = ledger.awaiting_screening(new.to_dict("records"), s.to_dict("records"), r)
        c["awaiting_screening"] = len(waiting)
        c["awaiting_retrieval"] = len(_ids(db, "1_title_abstract", "include") - _ids(db, "2_retrieval"))
        c["awaiting_assessment"] = len(_ids(db, "2_retrieval", "retrieved") - _ids(db, "3_eligibility"))
        c["records_excluded"] = n(db, "1_title_abstract", "exclude")
        c["dbr_sought_reports"] = n(db, "2_retrieval")
        c["dbr_notretrieved_reports"] = n(db, "2_retrieval", "not_retrieved")
        c["dbr_assessed"] = n(db, "3_eligibility")
        f.dbr_excluded = _reasons(db)
        c["dbr_excluded"] = sum(f.dbr_excluded.values())
        c["other_sought_reports"] = n(other, "2_retrieval")
        c["other_notretrieved_reports"] = n(other, "2_retrieval", "not_retrieved")
        c["other_assessed"] = n(other, "3_eligibility")
        f.other_excluded = _reasons(other)
        c["other_excluded"] = sum(f.other_excluded.values())
        included = s[(s["stage"] == "3_eligibility") & (s["decision"] == "include")]
        c["dbr_included"] = int(included["record_id"].map(kind).eq("database").sum())
        c["other_included"] = len(included) - c["dbr_included"]
        c["new_studies"] = int((included["role"] == "primary").sum())
        c["new_reports"] = len(included)
        c["total_studies"] = previous_studies + c["new_studies"]
        c["total_reports"] = previous_reports + c["new_reports"]
        _check(f, version)
        waiting_for = [f"{c[k]} for {what}" for k, what in AWAITING.items() if c[k]]
        if waiting_for and r != rounds[-1]:
            raise FlowError(
                f"round {r} is not the latest round, but records of it are still waiting "
                f"({', '.join(waiting_for)}); only the latest round may be in progress"
            )
        out.append(f)
        previous_studies, previous_reports = c["total_studies"], c["total_reports"]
    return out


def _ids(frame: pd.DataFrame, stage: str, decision: str | None = None) -> set[str]:
    """The records with a decision (``decision``, or any) at ``stage`` in ``frame``."""
    rows = frame[frame["stage"] == stage]
    return set(rows["record_id"] if decision is None else rows.loc[rows["decision"] == decision, "record_id"])


def _reasons(frame: pd.DataFrame) -> dict[str, int]:
    excluded = frame[(frame["stage"] == "3_eligibility") & (frame["decision"] == "exclude")]
    return {str(k): int(v) for k, v in excluded["reason"].value_counts().sort_index().items()}


def _source_names(protocol: pd.DataFrame) -> dict[str, str]:
    names = {"source-pages-index": "Stored-pages index (PubMed, PMC and journal pages)"}
    return {k: names.get(k, k.removeprefix("source-")) for k in protocol["item_id"]}


def _check(f: RoundFlow, version: str) -> None:
    c = f.counts
    sums = [
        (
            "records identified from databases minus duplicates",
            c["database_results"] - c["duplicates"] - c["excluded_automatic"] - c["excluded_other"],
            "records screened plus records awaiting screening",
            c["records_screened"] + c["awaiting_screening"],
        ),
        (
            "records screened minus excluded",
            c["records_screened"] - c["records_excluded"],
            "reports sought (databases) plus reports awaiting retrieval",
            c["dbr_sought_reports"] + c["awaiting_retrieval"],
        ),
        (
            "reports sought minus not retrieved (databases)",
            c["dbr_sought_reports"] - c["dbr_notretrieved_reports"],
            "reports assessed (databases) plus reports awaiting assessment",
            c["dbr_assessed"] + c["awaiting_assessment"],
        ),
        (
            "reports assessed minus excluded (databases)",
            c["dbr_assessed"] - c["dbr_excluded"],
            "reports included (databases)",
            c["dbr_included"],
        ),
        (
            "records identified by other methods",
            sum(c[k] for k in OTHER_METHODS.values()),
            "reports sought (other methods)",
            c["other_sought_reports"],
        ),
        (
            "reports sought minus not retrieved (other methods)",
            c["other_sought_reports"] - c["other_notretrieved_reports"],
            "reports assessed (other methods)",
            c["other_assessed"],
        ),
        (
            "reports assessed minus excluded (other methods)",
            c["other_assessed"] - c["other_excluded"],
            "reports included (other methods)",
            c["other_included"],
        ),
    ]
    for left, a, right, b in sums:
        if a != b:
            raise FlowError(
                f"round {f.round}: {left} is {a}, but {right} is {b}; the screening log does not add up"
            )
    if c["duplicates"] < 0:
        raise FlowError(
            f"round {f.round}: more database records than search results ({c['duplicates']} duplicates)"
        )


def flow_problems(tables: dict[str, pd.DataFrame], version: str) -> list[str]:
    """Why the flow of these :data:`TABLES` does not add up (empty when it does)."""
    try:
        count_flow(tables, version)
    except FlowError as exc:
        return [str(exc)]
    return []
