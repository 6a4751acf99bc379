"""Rules for the appraisal of included reports (``appraisal.csv``) and the recorded GRADE judgements
(``certainty.csv``) that a Table Schema cannot express.

Every included report (a source of ``cases.csv``) is appraised once, and only included reports are; a yes or
no says why; the overall judgement agrees with the core items; every outcome a disease reports has its
recorded GRADE judgements, and no judgement is left over. Called by ``livingreview.datapkg.validate`` after
the schema checks; every problem is ``path:line:column: message``.
"""

from __future__ import annotations

import pandas as pd

from livingreview.datapkg.problems import Problem
from livingreview.datapkg.summary_outcomes import reported_outcomes

__all__ = ["CORE_ITEMS", "ITEMS", "RECORDED_DOMAINS", "check_appraisal", "check_certainty"]

#: the eight questions of Murad et al. 2018, in the tool's order, and the immunosuppression question
ITEMS = (
    "selection",
    "exposure",
    "outcome",
    "alternative_causes",
    "rechallenge",
    "dose_response",
    "follow_up",
    "detail",
    "immunosuppression",
)
#: the items the overall judgement rests on (the causality items 5 and 6 rarely apply to a treatment effect)
CORE_ITEMS = ("selection", "exposure", "outcome", "alternative_causes", "follow_up")
#: the GRADE domains recorded as data; the others are computed
RECORDED_DOMAINS = ("indirectness", "publication_bias")


def check_appraisal(tables: dict, problems: list[Problem]) -> None:
    if "appraisal" not in tables or not tables["appraisal"].has("source", "overall", *CORE_ITEMS):
        return  # the missing columns are reported by the header check
    t = tables["appraisal"]
    rows = t.frame().to_dict("records")

    def flag(row: dict, column: str, message: str) -> None:
        problems.append(Problem(t.path, int(row["_line"]), column, message))

    for row in rows:
        for item in ITEMS:
            answer = row.get(item, "")
            if answer in ("yes", "no") and not row.get(f"{item}_reason", ""):
                flag(
                    row, f"{item}_reason", f"{item} is {answer!r} but has no reason: say what the text states"
                )
        core = [row.get(item, "") for item in CORE_ITEMS]
        if row.get("overall") == "low" and "no" in core:
            noes = ", ".join(i for i in CORE_ITEMS if row.get(i) == "no")
            flag(
                row,
                "overall",
                f"overall is 'low' but core item {noes} is 'no' (low needs every core item yes)",
            )
        if row.get("overall") == "high" and all(a == "yes" for a in core):
            flag(row, "overall", "overall is 'high' but every core item is 'yes' (that is low risk of bias)")
    _check_reconciled(tables, {row["source"]: row for row in rows}, problems)
    cases = tables.get("cases")
    if cases is None or not cases.has("source"):
        return
    included = pd.Series(cases.s("source"), dtype=object)
    appraised = {row["source"] for row in rows}
    sources = set(included)
    for row in rows:
        if row["source"] and row["source"] not in sources:
            flag(
                row,
                "source",
                f"{row['source']!r} is not a source of {cases.path} (only included reports are appraised)",
            )
    first_line = dict(zip(included[::-1], cases.lines[::-1], strict=True))  # each report's first case group
    for source, line in sorted(first_line.items(), key=lambda kv: kv[1]):
        if source and source not in appraised:
            problems.append(
                Problem(
                    cases.path,
                    int(line),
                    "source",
                    f"report {source!r} has no row in {t.path} (every included report is appraised)",
                )
            )


def _check_reconciled(tables: dict, appraisal: dict[str, dict], problems: list[Problem]) -> None:
    """Each resolved disagreement is the answer the appraisal now gives."""
    t = tables.get("appraisal_reconciliation")
    if t is None or not t.has("source", "item", "resolved"):
        return
    for row in t.frame().to_dict("records"):
        now = appraisal.get(row["source"], {}).get(row["item"])
        if now is not None and row["resolved"] != now:
            problems.append(
                Problem(
                    t.path,
                    int(row["_line"]),
                    "resolved",
                    f"resolved is {row['resolved']!r} but appraisal.csv gives {row['item']} = {now!r} "
                    f"for {row['source']}",
                )
            )


def check_certainty(tables: dict, problems: list[Problem]) -> None:
    if not {"certainty", "cases", "outcomes"} <= set(tables):
        return
    needed = ("disease", "source", "n_responders", "n_serious_adverse_events")
    needed += ("steroid_mg_day_before", "steroid_mg_day_after")
    if (
        not tables["cases"].has(*needed)
        or not tables["outcomes"].has("source", "domain")
        or not tables["certainty"].has("disease", "outcome", "domain")
    ):
        return  # the missing columns are reported by the header check
    t = tables["certainty"]
    rows = t.frame().to_dict("records")
    cases, outcomes = tables["cases"], tables["outcomes"]
    wanted = reported_outcomes(
        pd.DataFrame({c: cases.x(c) if c in cases.numbers else cases.s(c) for c in needed}),
        pd.DataFrame({"source": outcomes.s("source"), "domain": outcomes.s("domain")}),
    )
    have = set()
    for row in rows:
        key = (row["disease"], row["outcome"], row["domain"])
        have.add(key)
        if row["disease"] and row["outcome"] and row["outcome"] not in wanted.get(row["disease"], []):
            problems.append(
                Problem(
                    t.path,
                    int(row["_line"]),
                    "outcome",
                    f"no report of {row['disease']} gives {row['outcome']}: "
                    "the judgement is not used (remove the row)",
                )
            )
    for disease, names in wanted.items():
        for outcome in names:
            for domain in RECORDED_DOMAINS:
                if (disease, outcome, domain) not in have:
                    problems.append(
                        Problem(
                            t.path,
                            1,
                            "domain",
                            f"no {domain} judgement for {disease} {outcome}: every outcome a disease "
                            f"reports needs one; add the row {disease},{outcome},{domain},<not_serious|"
                            "serious|very_serious>,<reason> (the methods page, 'Certainty of the evidence', "
                            "says what each domain asks)",
                        )
                    )
