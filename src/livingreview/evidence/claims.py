"""Check the totals the sources state (``data/claims.csv``) against the case-level data.

A statement applies to the case groups whose ``source`` or ``via`` is the stating document. Each computable
statement names a quantity defined here; the result lists the stated and the computed value side by side, so
the book can show where a source's own numbers disagree and the tests can pin every agreement.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from livingreview.datapkg.frames import load_table
from livingreview.evidence import regimens

THROMBOPHILIA_MEASURE = "Patients with at least one thrombophilic factor"


def _sum(column: str) -> Callable[[pd.DataFrame, pd.DataFrame], float]:
    return lambda cases, _outcomes: cases[column].sum()


def _sum_if_complete(column: str) -> Callable[[pd.DataFrame, pd.DataFrame], float]:
    """The total only when every case group in scope reports ``column``: a statement such as 'no severe
    adverse event' must not agree with data that are merely silent."""
    return lambda cases, _outcomes: cases[column].sum() if cases[column].notna().all() else pd.NA


def _design(*designs: str) -> Callable[[pd.DataFrame, pd.DataFrame], float]:
    return lambda cases, _outcomes: cases.loc[cases["design"].isin(designs), "source"].nunique()


def _report_level(outcomes: pd.DataFrame, measure: str, cases: pd.DataFrame, column: str) -> pd.DataFrame:
    """Report-level counts of ``measure`` for reports whose case groups leave ``column`` empty."""
    unattributed = cases.groupby("source")[column].apply(lambda s: s.isna().all())
    sources = unattributed[unattributed].index
    rows = outcomes[(outcomes["measure"] == measure) & outcomes["case_id"].isna()]
    return rows[rows["source"].isin(sources)]


def _thrombophilic(cases: pd.DataFrame, outcomes: pd.DataFrame) -> float:
    extra = _report_level(outcomes, THROMBOPHILIA_MEASURE, cases, "n_thrombophilic")
    return cases["n_thrombophilic"].sum() + extra["value"].sum()


def _screened(cases: pd.DataFrame, outcomes: pd.DataFrame) -> float:
    extra = _report_level(outcomes, THROMBOPHILIA_MEASURE, cases, "n_thrombophilic")
    return cases.loc[cases["n_thrombophilic"].notna(), "n_patients"].sum() + extra["n"].sum()


def _patients_where(
    mask: Callable[[pd.DataFrame], pd.Series],
) -> Callable[[pd.DataFrame, pd.DataFrame], float]:
    return lambda cases, _outcomes: cases.loc[mask(cases), "n_patients"].sum()


def _high_dose(cases: pd.DataFrame) -> pd.Series:
    return regimens.dose_group(cases) == regimens.DOSE_HIGH


QUANTITIES: dict[str, tuple[str, Callable[[pd.DataFrame, pd.DataFrame], float]]] = {
    "reports": ("distinct reports", lambda c, _o: c["source"].nunique()),
    "patients": ("patients", _sum("n_patients")),
    "responders": ("responders", _sum("n_responders")),
    "male": ("men", _sum("n_male")),
    "female": ("women", _sum("n_female")),
    "age_min": ("youngest age", lambda c, _o: c["age_min"].min()),
    "age_max": ("oldest age", lambda c, _o: c["age_max"].max()),
    "thrombophilic": ("patients with a thrombophilic factor", _thrombophilic),
    "screened_thrombophilia": ("patients screened for thrombophilia", _screened),
    "relapsed": ("patients who relapsed", _sum("n_relapsed")),
    "dose_at_least_2": ("patients given >= 2 g/kg per cycle", _patients_where(_high_dose)),
    "dose_below_2": (
        "patients given < 2 g/kg per cycle",
        _patients_where(lambda c: regimens.dose_group(c) == regimens.DOSE_LOW),
    ),
    "daily_dose_high": (
        "high-dose patients given > 0.5 g/kg per day",
        _patients_where(lambda c: _high_dose(c) & (regimens.daily_dose_group(c) == regimens.DAILY_HIGH)),
    ),
    "daily_dose_conventional": (
        "high-dose patients given <= 0.5 g/kg per day",
        _patients_where(
            lambda c: _high_dose(c) & (regimens.daily_dose_group(c) == regimens.DAILY_CONVENTIONAL)
        ),
    ),
    "design_retrospective_cohort": ("retrospective studies", _design("retrospective_cohort")),
    "design_prospective_open_trial": ("prospective open trials", _design("prospective_open_trial")),
    "design_case_report_or_series": ("case reports and series", _design("case_report", "case_series")),
    "countries": ("countries", lambda c, _o: c["country"].nunique()),
    "reports_with_headache": (
        "reports naming headache",
        lambda c, _o: c.loc[
            c["adverse_events"].str.contains("headache", case=False, na=False), "source"
        ].nunique(),
    ),
    "serious_adverse_events": (
        "patients with a serious adverse event",
        _sum_if_complete("n_serious_adverse_events"),
    ),
    "complete_responses": ("complete responses", _sum("n_complete")),
}


def scope(cases: pd.DataFrame, source: str) -> pd.DataFrame:
    """Case groups a statement by ``source`` is about: those it reports or that were extracted through it."""
    return cases[(cases["source"] == source) | (cases["via"] == source)]


def check_claims(cases: pd.DataFrame, outcomes: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """One row per statement: stated value, value computed from the data, and whether they agree.

    ``agrees`` is ``<NA>`` for statements the case-level data cannot check.
    """
    computed, agrees, labels = [], [], []
    for claim in claims.itertuples(index=False):
        if pd.isna(claim.quantity):
            computed.append(pd.NA)
            agrees.append(pd.NA)
            labels.append("")
            continue
        label, function = QUANTITIES[claim.quantity]
        rows = scope(cases, claim.source)
        related = outcomes[outcomes["source"].isin(rows["source"].unique())]
        value = function(rows, related)
        computed.append(value)
        agrees.append(pd.NA if pd.isna(value) else bool(abs(float(value) - float(claim.stated_value)) < 1e-9))
        labels.append(label)
    result = claims[
        ["claim_id", "source", "locator", "statement", "quantity", "stated_value", "notes"]
    ].copy()
    result.insert(5, "quantity_label", pd.array(labels, dtype="string"))
    result["computed_value"] = pd.array(computed, dtype="Float64")
    result["agrees"] = pd.array(agrees, dtype="boolean")
    return result


def load_claims(root) -> pd.DataFrame:
    return load_table(root, "claims")
