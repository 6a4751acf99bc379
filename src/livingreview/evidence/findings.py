"""The summary of findings of one disease: for each outcome its reports (given by
:func:`livingreview.datapkg.summary_outcomes.reported_outcomes`) reach, the patients and reports, the effect
and the GRADE certainty with each domain's judgement (:mod:`livingreview.evidence.certainty`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from livingreview import stats
from livingreview.datapkg.summary_outcomes import reported_outcomes
from livingreview.evidence import certainty as grade
from livingreview.evidence.reports import report_table

if TYPE_CHECKING:
    from livingreview.evidence.disease import DiseaseEvidence

__all__ = ["serious_adverse_events", "steroid_doses", "summary_of_findings"]


def steroid_doses(cases: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Daily corticosteroid doses before and after IVIG, one row per case group (per-patient values) or per
    group measure of a report (``outcomes`` rows of domain ``steroid`` in mg/day)."""
    rows = []
    for c in cases.dropna(subset=["steroid_mg_day_before"]).itertuples(index=False):
        rows.append(
            {
                "source": c.source,
                "who": f"{c.n_patients} patient" + ("s" if c.n_patients > 1 else ""),
                "n": c.n_patients,
                "drug": c.steroid_drug,
                "statistic": "value",
                "before": c.steroid_mg_day_before,
                "before_sd": pd.NA,
                "after": c.steroid_mg_day_after,
                "after_sd": pd.NA,
                "p_value": pd.NA,
            }
        )
    doses = outcomes[(outcomes["domain"] == "steroid") & (outcomes["unit"] == "mg/day")]
    for (source, measure), group in doses.groupby(["source", "measure"], sort=False):
        before = group[group["timepoint"] == "before"]
        after = group[group["timepoint"] == "after"]
        n = group["n"].dropna()

        def first(rows: pd.DataFrame, column: str) -> object:
            return rows[column].iloc[0] if len(rows) else pd.NA

        rows.append(
            {
                "source": source,
                "who": measure + (f" (n = {int(n.iloc[0])})" if len(n) else ""),
                "n": int(n.iloc[0]) if len(n) else pd.NA,
                "drug": pd.NA,
                "statistic": group["statistic"].iloc[0],
                "before": first(before, "value"),
                "before_sd": first(before, "sd"),
                "after": first(after, "value"),
                "after_sd": first(after, "sd"),
                "p_value": first(after, "p_value"),
            }
        )
    columns = [
        "source",
        "who",
        "n",
        "drug",
        "statistic",
        "before",
        "before_sd",
        "after",
        "after_sd",
        "p_value",
    ]
    return pd.DataFrame(rows, columns=columns)


def serious_adverse_events(cases: pd.DataFrame) -> stats.PooledEstimate:
    """Patients with a serious adverse event over the patients of the case groups that count them (zero
    included), all reports added up, with the exact interval: events are too rare to pool."""
    counted = cases.dropna(subset=["n_serious_adverse_events"])
    per_report = counted.groupby("source")[["n_serious_adverse_events", "n_patients"]].sum()
    return stats.crude_pooled(
        per_report["n_serious_adverse_events"].astype(int).tolist(),
        per_report["n_patients"].astype(int).tolist(),
    )


def summary_of_findings(ev: DiseaseEvidence) -> list[grade.Finding]:
    """One :class:`~livingreview.evidence.certainty.Finding` per outcome the disease's reports give."""
    appraisal, judgements = ev.appraisal, ev.data.certainty_of(ev.disease)
    wanted = reported_outcomes(ev.cases, ev.outcomes).get(ev.disease, [])
    findings = []
    for outcome in wanted:
        if outcome == "response":
            reports = ev.reports.dropna(subset=["n_responders"])
            estimate, doses = ev.pooled, None
            computed = [grade.inconsistency(estimate), grade.imprecision(estimate.n_patients, estimate)]
            n_patients = estimate.n_patients
        elif outcome == "serious_adverse_events":
            reports = report_table(ev.cases.dropna(subset=["n_serious_adverse_events"]))
            estimate, doses = serious_adverse_events(ev.cases), None
            n_patients = estimate.n_patients
            computed = [
                grade.Domain(
                    "inconsistency",
                    "not_serious",
                    f"{estimate.n_events} event{'s' * (estimate.n_events != 1)} in {estimate.k} "
                    f"report{'s' * (estimate.k != 1)}: too few to estimate variation between reports.",
                    True,
                ),
                grade.imprecision(n_patients, estimate),
            ]
        else:
            doses = steroid_doses(ev.cases, ev.outcomes)
            reports = ev.all_reports[ev.all_reports["source"].isin(set(doses["source"]))]
            estimate = None
            sizes = pd.to_numeric(doses["n"], errors="coerce")
            n_patients = int(sizes.sum()) if sizes.notna().any() else None
            computed = [grade.steroid_direction(doses), grade.imprecision(n_patients, None)]
        domains = {d.name: d for d in computed}
        domains["risk_of_bias"] = grade.risk_of_bias(reports, appraisal)
        for name in ("indirectness", "publication_bias"):
            domains[name] = grade.recorded(judgements, ev.disease, outcome, name)
        designs = ev.cases.loc[ev.cases["source"].isin(set(reports["source"])), "design"]
        findings.append(
            grade.Finding(
                ev.disease,
                outcome,
                n_patients,
                int(reports["source"].nunique()),
                estimate,
                doses,
                grade.start_level(designs),
                tuple(domains[name] for name in grade.DOMAINS),
            )
        )
    return findings
