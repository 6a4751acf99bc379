"""The response analyses of one disease, on its reports: primary pooled estimate, sensitivity analyses,
subgroups and the cumulative series. Each returns numbers (``stats.PooledEstimate``, plain frames); how they
are shown is the render layer's business.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from livingreview import stats
from livingreview.evidence import regimens
from livingreview.evidence.designs import DESIGN_LABELS
from livingreview.evidence.reports import report_table


def _counts(reports: pd.DataFrame) -> tuple[list[int], list[int]]:
    """Responders and evaluable patients of the reports that count responders."""
    known = reports.dropna(subset=["n_responders"])
    return known["n_responders"].astype(int).tolist(), known["n_evaluable"].astype(int).tolist()


def pooled_response(reports: pd.DataFrame) -> stats.PooledEstimate:
    """Primary estimate (random-intercept logistic GLMM) over the reports that give responders."""
    return stats.pool_glmm(*_counts(reports))


def crude_response(reports: pd.DataFrame) -> stats.PooledEstimate:
    """Responders over evaluable patients, all reports added up, with the exact interval."""
    return stats.crude_pooled(*_counts(reports))


SENSITIVITY_METHODS = {
    "glmm": "Random-intercept logistic GLMM (primary)",
    "crude": "All patients added up (no between-report variation)",
    "plo-reml": "Inverse-variance, log-odds, REML τ²",
    "plo-dl": "Inverse-variance, log-odds, DerSimonian–Laird τ²",
    "pft-reml": "Inverse-variance, Freeman–Tukey, REML τ²",
    "pft-dl": "Inverse-variance, Freeman–Tukey, DerSimonian–Laird τ²",
}


def by_method(reports: pd.DataFrame, primary: stats.PooledEstimate) -> dict[str, stats.PooledEstimate]:
    """The pooled response by every method of :data:`SENSITIVITY_METHODS` (the primary fit is reused)."""
    events, n = _counts(reports)
    return {m: primary if m == "glmm" else stats.pool(events, n, method=m) for m in SENSITIVITY_METHODS}


SUBGROUP_ANALYSES = {
    "Dose per cycle": lambda c: regimens.dose_group(c),
    "Daily dose": lambda c: regimens.daily_dose_group(c),
    "Study design": lambda c: c["design"].map(DESIGN_LABELS).astype("string"),
    "Report size": lambda c: (
        c.groupby("source")["n_patients"]
        .transform("sum")
        .gt(1)
        .map({True: "reports of several patients", False: "single-patient reports"})
        .astype("string")
    ),
}


@dataclass(frozen=True)
class Subgroup:
    analysis: str
    subgroup: str
    k: int
    n_patients: int
    n_events: int
    pooled: stats.PooledEstimate
    #: the test of the difference between the analysis' subgroups ("not compared" when left out of it)
    test: str


def subgroups(cases: pd.DataFrame) -> list[Subgroup]:
    """Pooled response per subgroup and a likelihood-ratio test of the difference between subgroups.

    The pooling unit is a report's case groups within the subgroup (a report whose patients received
    different doses contributes to each dose subgroup). Unclassifiable case groups are shown but kept out
    of the test: they belong to no compared group.
    """
    out = []
    for analysis, assign in SUBGROUP_ANALYSES.items():
        labelled = cases.assign(subgroup=assign(cases))
        per_report = pd.concat(
            [report_table(part).assign(subgroup=label) for label, part in labelled.groupby("subgroup")],
            ignore_index=True,
        )
        present = set(per_report["subgroup"])
        compared = sorted(present - {regimens.UNCLASSIFIED})
        fits = [(_fit(per_report, compared), None)]
        if regimens.UNCLASSIFIED in present:
            fits.append((_fit(per_report, [regimens.UNCLASSIFIED]), "not compared"))
        for result, test in fits:
            overall = f"p = {result.p_value:.2f}" if result.p_value is not None else result.note
            for group in result.subgroups:
                out.append(
                    Subgroup(
                        analysis,
                        group["subgroup"],
                        group["k"],
                        group["n_patients"],
                        group["n_events"],
                        stats.PooledEstimate(**group["pooled"]),
                        test or overall,
                    )
                )
    return out


def _fit(per_report: pd.DataFrame, levels: list[str]) -> stats.SubgroupResult:
    events = [None if pd.isna(x) else int(x) for x in per_report["n_responders"]]
    n = per_report["n_evaluable"].fillna(per_report["n_patients"]).astype(int).tolist()
    return stats.subgroup_analysis(events, n, per_report["subgroup"].tolist(), subgroups=levels)


def with_exact_intervals(reports: pd.DataFrame) -> pd.DataFrame:
    """The reports that count responders, by year, with each one's proportion and exact 95 % CI."""
    frame = reports.dropna(subset=["n_responders"])
    frame = frame.sort_values(["year", "source"], kind="stable").reset_index(drop=True)
    rows = stats.proportion_table(frame["n_responders"].astype(int), frame["n_evaluable"].astype(int))
    return frame.assign(
        proportion=[r["proportion"] for r in rows],
        ci_low=[r["exact_low"] for r in rows],
        ci_high=[r["exact_high"] for r in rows],
    )


def cumulative(reports: pd.DataFrame, method: str = "glmm") -> pd.DataFrame:
    """The pooled estimate after each publication year (reports without a known year cannot be placed)."""
    frame = reports.dropna(subset=["n_responders", "year"])
    rows = stats.cumulative_by_year(
        frame["n_responders"].astype(int), frame["n_evaluable"].astype(int), frame["year"].astype(int), method
    )
    return pd.DataFrame(rows)
