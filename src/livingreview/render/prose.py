"""Sentences the chapter template quotes, written from the evidence so they hold for any number of reports."""

from __future__ import annotations

import pandas as pd

from livingreview.evidence import regimens
from livingreview.evidence.certainty import JUDGEMENT_LABELS, Domain
from livingreview.evidence.designs import DESIGN_LABELS
from livingreview.evidence.disease import DiseaseEvidence
from livingreview.render.numbers import counted, describe_pooled, joined, pct, pct_interval, series


def design_mix(all_reports: pd.DataFrame) -> str:
    """'3 case reports and 1 case series'."""
    designs = all_reports["design"].value_counts().reindex(list(DESIGN_LABELS)).dropna().astype(int)
    return series({DESIGN_LABELS[k]: v for k, v in designs.items()})


def response_summary(ev: DiseaseEvidence) -> str:
    pooled, crude = ev.pooled, ev.crude
    if pooled.k == 0:
        return (
            "No uncontrolled report counts responders patient by patient, so no response proportion "
            "can be given; the group-level measures below are what the reports give."
        )
    which = "the one report" if pooled.k == 1 else f"the {pooled.k} reports"
    interval = pct_interval(crude.ci_low, crude.ci_high)
    text = (
        f"{crude.n_events} of {crude.n_patients} patients responded in {which} that count responders "
        f"(crude proportion {pct(crude.estimate)}, exact 95 % CI {interval})."
    )
    if pooled.k >= 2:
        text += (
            " The primary pooled estimate, a random-intercept logistic model across the reports, is "
            f"{describe_pooled(pooled)}"
        )
        if pooled.tau2 is not None:
            text += (
                f", with between-report variance τ² = {pooled.tau2:.2f} and a 95 % prediction "
                f"interval of {pct_interval(pooled.pi_low, pooled.pi_high)} for the response in a new report"
            )
        text += "."
    return text


def controlled_summary(controlled: pd.DataFrame) -> str:
    if controlled.empty:
        return "No controlled study of IVIG in this disease was found."
    comparators = sorted(set(controlled["comparator"].dropna()))
    return (
        f"{counted(controlled['source'].nunique(), 'controlled study')} compared IVIG "
        f"({int(controlled['n_patients'].sum())} patients in IVIG arms) with "
        f"{'; '.join(comparators) or 'a control group'}. Their results are shown arm by arm below and are "
        "never pooled with the uncontrolled reports."
    )


def year_span(first: int | None, last: int | None) -> str:
    if first is None:
        return "years not shown"
    return str(first) if first == last else f"{first}–{last}"


def certainty_reasons(domains: list[Domain]) -> str:
    """'risk of bias (very serious) and imprecision (serious)': what lowered a certainty."""
    if not domains:
        return "no domain was rated down"
    return joined([f"{d.label.lower()} ({JUDGEMENT_LABELS[d.judgement]})" for d in domains])


def estimate_range(primary: float | None, estimates: list[float], empty: int = 0) -> str:
    """'the estimate ranges from 90.0 % to 100.0 %' over the primary and the sensitivity estimates, and how
    many of the analyses left no report to estimate from (``empty``)."""
    if primary is None:
        return "there is no estimate to compare"
    values = [primary, *estimates]
    low, high = min(values), max(values)
    text = (
        f"the estimate stays at {pct(primary)}"
        if high - low < 1e-9
        else f"the estimate ranges from {pct(low)} to {pct(high)}"
    )
    if empty:
        text += " (1 analysis leaves no report)" if empty == 1 else f" ({empty} analyses leave no report)"
    return text


def appraisal_summary(overall: pd.Series) -> str:
    """'15 of 17 reports were judged at high risk of bias and 2 at moderate risk' (no empty category)."""
    counts = [(level, int(overall.eq(level).sum())) for level in ("high", "moderate", "low")]
    counts = [(level, n) for level, n in counts if n]
    total = len(overall)
    if not counts:
        return "No report has been appraised yet."
    if len(counts) == 1:
        who = "The one report was" if total == 1 else f"All {total} reports were"
        return f"{who} judged at {counts[0][0]} risk of bias."
    (level, n), *rest = counts
    parts = [f"{n} {'was' if n == 1 else 'were'} judged at {level} risk of bias"]
    parts += [f"{m} at {other} risk" for other, m in rest]
    return f"Of {total} reports, {joined(parts)}."


def dose_cutoffs() -> dict[str, str]:
    """The regimen cut-offs of the subgroup analyses, as the prose quotes them."""
    return {
        "high_dose_cutoff": f"{regimens.HIGH_DOSE_PER_CYCLE:g} g/kg",
        "daily_dose_cutoff": f"{regimens.CONVENTIONAL_DAILY_MAX:g} g/kg per day",
    }
