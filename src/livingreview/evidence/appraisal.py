"""The appraisal of a disease's reports (Murad et al. 2018) and the leave-out sensitivity analyses it
feeds: the pooled response again without single-patient reports, abstract-only extractions, reports at high
risk of bias, and reports with substantial concomitant immunosuppression.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from livingreview import stats
from livingreview.datapkg.appraisal_rules import CORE_ITEMS, ITEMS
from livingreview.evidence import analyses

__all__ = ["CORE_ITEMS", "ITEMS", "ITEM_LABELS", "LEAVE_OUTS", "LeaveOut", "appraisal_of", "leave_out"]

#: what each item asks, in a few words (the column headings of the appraisal table)
ITEM_LABELS = {
    "selection": "Selection",
    "exposure": "IVIG ascertained",
    "outcome": "Outcome ascertained",
    "alternative_causes": "Other causes ruled out",
    "rechallenge": "Rechallenge",
    "dose_response": "Dose–response",
    "follow_up": "Follow-up long enough",
    "detail": "Enough detail",
    "immunosuppression": "Concomitant immunosuppression",
}


def appraisal_of(reports: pd.DataFrame, appraisal: pd.DataFrame) -> pd.DataFrame:
    """The appraisal rows of ``reports``, in the reports' order (a report without one is left out: the
    validator refuses that state, so it only happens on unvalidated data)."""
    order = {source: i for i, source in enumerate(reports["source"])}
    rows = appraisal[appraisal["source"].isin(order)]
    return rows.assign(_order=rows["source"].map(order)).sort_values("_order").drop(columns="_order")


def _answers(reports: pd.DataFrame, appraisal: pd.DataFrame, column: str) -> pd.Series:
    return reports["source"].map(dict(zip(appraisal["source"], appraisal[column], strict=True)))


#: key -> (what is left out, which reports) for the leave-out analyses, in the order shown
LEAVE_OUTS: dict[str, tuple[str, Callable[[pd.DataFrame, pd.DataFrame], pd.Series]]] = {
    "single_patient": ("single-patient reports", lambda r, a: r["n_patients"].eq(1)),
    "abstract_only": ("reports read only as an abstract", lambda r, a: r["extraction_level"].eq("abstract")),
    "high_risk": ("reports at high risk of bias", lambda r, a: _answers(r, a, "overall").eq("high")),
    "immunosuppression": (
        "reports with substantial concomitant immunosuppression",
        lambda r, a: _answers(r, a, "immunosuppression").eq("yes"),
    ),
}


@dataclass(frozen=True)
class LeaveOut:
    """The pooled response without one kind of report, beside the primary estimate."""

    key: str
    label: str
    #: the reports set aside that count responders (those without a response count change nothing)
    left_out: tuple[str, ...]
    pooled: stats.PooledEstimate
    #: estimate minus the primary estimate (proportion; ``None`` when either is missing)
    change: float | None


def leave_out(
    reports: pd.DataFrame, appraisal: pd.DataFrame, primary: stats.PooledEstimate
) -> list[LeaveOut]:
    """Each analysis of :data:`LEAVE_OUTS` on the uncontrolled ``reports`` (one row per report), pooled
    like the primary estimate. With one report left its exact interval is shown; with none, nothing."""
    counted = reports.dropna(subset=["n_responders"]).reset_index(drop=True)
    out = []
    for key, (label, selects) in LEAVE_OUTS.items():
        mask = selects(counted, appraisal).fillna(False).astype(bool)
        pooled = analyses.pooled_response(counted[~mask]) if mask.any() else primary
        change = (
            pooled.estimate - primary.estimate
            if pooled.estimate is not None and primary.estimate is not None
            else None
        )
        out.append(LeaveOut(key, label, tuple(counted.loc[mask, "source"]), pooled, change))
    return out
