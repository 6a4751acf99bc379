"""Which outcomes a disease's summary of findings has: the one definition the validator (every reported
outcome needs its GRADE judgements) and the evidence layer (which rows the summary shows) share.

Works on the typed frames of :mod:`livingreview.datapkg.frames` and on the checked tables' frames alike
(empty cells are NA or NaN in numeric columns and NA or "" in text columns).
"""

from __future__ import annotations

import pandas as pd

__all__ = ["OUTCOMES", "reported_outcomes"]

#: the outcomes of a summary of findings, in the order shown, with their labels
OUTCOMES = {
    "response": "Response",
    "serious_adverse_events": "Serious adverse events",
    "steroid_sparing": "Corticosteroid dose",
}


def _given(column: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column):
        return column.notna()
    return column.notna() & column.fillna("").astype(str).ne("")  # the checked tables' text is stripped


def reported_outcomes(cases: pd.DataFrame, outcomes: pd.DataFrame) -> dict[str, list[str]]:
    """For each disease of ``cases``: the outcomes at least one of its reports gives, in :data:`OUTCOMES`
    order. Response: a count of responders. Serious adverse events: a count of patients with one (zero
    included). Steroid-sparing: a corticosteroid dose before and after IVIG, per patient or per group."""
    steroid_sources = set(outcomes.loc[outcomes["domain"].astype("string") == "steroid", "source"])
    found: dict[str, list[str]] = {}
    for disease, rows in cases.groupby("disease", sort=False):
        given = {
            "response": _given(rows["n_responders"]).any(),
            "serious_adverse_events": _given(rows["n_serious_adverse_events"]).any(),
            "steroid_sparing": (
                (_given(rows["steroid_mg_day_before"]) & _given(rows["steroid_mg_day_after"])).any()
                or rows["source"].isin(steroid_sources).any()
            ),
        }
        found[str(disease)] = [name for name in OUTCOMES if given[name]]
    return found
