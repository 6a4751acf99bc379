"""The frames behind the chapter tables: evidence turned into labelled columns of readable text.

Each function takes evidence (frames of ``livingreview.evidence``, pooled estimates) and returns a
DataFrame whose columns are what the reader sees; :func:`livingreview.render.tables.show` makes it HTML.
"""

from __future__ import annotations

import pandas as pd

from livingreview import stats
from livingreview.evidence.analyses import SENSITIVITY_METHODS, Subgroup
from livingreview.evidence.designs import CONTROLLED, DESIGN_LABELS, EXTRACTION_LABELS
from livingreview.evidence.findings import steroid_doses
from livingreview.render.numbers import describe_pooled, format_range, pct, pct_interval, with_sd


def reports_frame(reports: pd.DataFrame) -> pd.DataFrame:
    """Every report: design, how it was read, patients and responders (a controlled study's IVIG arm)."""
    response = []
    for x, n, design in zip(reports["n_responders"], reports["n_evaluable"], reports["design"], strict=True):
        if pd.isna(x):
            response.append("not reported")
            continue
        lo, hi = stats.clopper_pearson(int(x), int(n))
        text = f"{x}/{n}: {pct(x / n)} ({pct_interval(lo, hi)})"
        response.append(text + (" (IVIG arm; not pooled)" if design in CONTROLLED else ""))
    return pd.DataFrame(
        {
            "Report": reports["source"],
            "Year": reports["year"],
            "Country": reports["country"],
            "Design": reports["design"].map(DESIGN_LABELS),
            "Read from": reports["extraction_level"].map(EXTRACTION_LABELS),
            "Patients": reports["n_patients"],
            "Responders": reports["n_responders"],
            "Response (exact 95 % CI)": response,
        }
    )


def trials_frame(controlled: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Controlled studies, arm by arm: the IVIG arm beside its control, at the level reported."""
    sources = list(dict.fromkeys(controlled["source"]))
    comparator = controlled.drop_duplicates("source").set_index("source")["comparator"]
    rows = []
    mine = outcomes[outcomes["source"].isin(sources)]
    for (source, measure, timepoint), group in mine.groupby(["source", "measure", "timepoint"], sort=False):
        by_arm = {row.arm: row for row in group.itertuples(index=False)}
        ivig, control = by_arm.get("ivig") or by_arm.get(pd.NA), by_arm.get("control")
        rows.append(
            {
                "Report": source,
                "Control arm": comparator.get(source, pd.NA),
                "Measure": measure + ("" if timepoint == "overall" else f" ({timepoint})"),
                "IVIG arm": _arm_text(ivig),
                "Control": _arm_text(control),
                "P value": next((r.p_value for r in group.itertuples() if pd.notna(r.p_value)), pd.NA),
                "Where": "; ".join(dict.fromkeys(group["locator"])),
            }
        )
    return drop_empty(pd.DataFrame(rows))


def _arm_text(row) -> object:
    if row is None:
        return pd.NA
    value = f"{row.value:g}" + (f" ± {row.sd:g}" if pd.notna(row.sd) else "")
    unit = "" if pd.isna(row.unit) or row.unit in ("%", "patients") else f" {row.unit}"
    pct_sign = " %" if row.unit == "%" or row.statistic == "percent" else ""
    n = f" (n = {row.n})" if pd.notna(row.n) else ""
    return f"{value}{pct_sign}{unit}{n}"


def case_frame(cases: pd.DataFrame, columns: dict[str, object]) -> pd.DataFrame:
    """One row per case group: report, subgroup and patients, then ``columns``."""
    frame = pd.DataFrame(
        {"Report": cases["source"], "Subgroup": cases["subtype"], "Patients": cases["n_patients"], **columns}
    )
    return drop_empty(frame)


def ranges(cases: pd.DataFrame, stem: str) -> list[str]:
    """``<stem>_min``–``<stem>_max`` of each case group as text."""
    return [format_range(lo, hi) for lo, hi in zip(cases[f"{stem}_min"], cases[f"{stem}_max"], strict=True)]


def regimen_columns(cases: pd.DataFrame) -> dict[str, object]:
    cycles = zip(cases["cycles_min"], cases["cycles_max"], cases["cycles_median"], strict=True)
    return {
        "Dose per cycle (g/kg)": ranges(cases, "dose_g_kg"),
        "Days per cycle": ranges(cases, "days_per_cycle"),
        "Interval (weeks)": ranges(cases, "interval_weeks"),
        "Cycles": [_cycles(lo, hi, med) for lo, hi, med in cycles],
        "Regimen as reported": cases["regimen_text"],
        "Prior treatments": cases["prior_treatments"],
        "Given with IVIG": cases["concomitant_therapy"],
    }


def _cycles(lo, hi, median) -> str:
    text = format_range(lo, hi)
    if pd.notna(median):
        return f"median {median:g}" + (f" ({text})" if text else "")
    return text


def response_columns(cases: pd.DataFrame) -> dict[str, object]:
    return {
        "Responders": cases["n_responders"],
        "Improved": cases["n_improved"],
        "Stable": cases["n_stable"],
        "Worsened": cases["n_worsened"],
        "Complete": cases["n_complete"],
        "Partial": cases["n_partial"],
        "Relapsed": cases["n_relapsed"],
        "Recurrence as reported": cases["relapse_text"],
        "Response definition": cases["response_definition"],
        "Notes": cases["notes"],
    }


def safety_columns(cases: pd.DataFrame) -> dict[str, object]:
    return {
        "Adverse events as reported": cases["adverse_events"].fillna("not reported"),
        "Patients with an adverse event": cases["n_with_adverse_events"],
        "Patients with a serious adverse event": cases["n_serious_adverse_events"],
    }


def drop_empty(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop columns with nothing to show (all missing or empty text) so small chapters stay readable."""
    keep = [
        c for c in frame.columns if c in ("Report", "Patients") or frame[c].replace("", pd.NA).notna().any()
    ]
    return frame[keep]


def steroid_frame(cases: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Steroid doses before and after IVIG: per-patient values from cases, group means from outcomes."""
    doses = steroid_doses(cases, outcomes)

    def dose(value, sd):
        return pd.NA if pd.isna(value) else with_sd(value, sd)

    return pd.DataFrame(
        {
            "Report": doses["source"],
            "Who": doses["who"],
            "Drug": doses["drug"],
            "Before (mg/day)": [
                dose(v, sd) for v, sd in zip(doses["before"], doses["before_sd"], strict=True)
            ],
            "After (mg/day)": [dose(v, sd) for v, sd in zip(doses["after"], doses["after_sd"], strict=True)],
            "Statistic": doses["statistic"],
            "P value": doses["p_value"],
        }
    )


def value_text(row) -> object:
    """'12', or '12 ± 3' with a standard deviation; missing row -> NA."""
    return pd.NA if row is None else with_sd(row.value, row.sd)


def outcome_frame(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Before/after pairs side by side, single-time measures with the value in 'Overall'."""
    rows = []
    for (source, measure), group in outcomes.groupby(["source", "measure"], sort=False):
        by_time = {row.timepoint: row for row in group.itertuples(index=False)}
        first = group.iloc[0]
        rows.append(
            {
                "Report": source,
                "Measure": measure,
                "Statistic": first["statistic"],
                "Unit": first["unit"],
                "Before": value_text(by_time.get("before")),
                "After": value_text(by_time.get("after")),
                "Overall": value_text(by_time.get("overall")),
                "n": first["n"],
                "P value": by_time["after"].p_value if "after" in by_time else pd.NA,
                "Where": "; ".join(dict.fromkeys(group["locator"])),
                "Notes": "; ".join(dict.fromkeys(group["notes"].dropna())) or pd.NA,
            }
        )
    return drop_empty(pd.DataFrame(rows))


def sensitivity_frame(by_method: dict[str, stats.PooledEstimate]) -> pd.DataFrame:
    """The pooled response by every method (the GLMM first: it is the primary analysis)."""
    rows = []
    for method, result in by_method.items():
        rows.append(
            {
                "Method": SENSITIVITY_METHODS[method],
                "Estimate": pct(result.estimate, 1),
                "95 % CI": pct_interval(result.ci_low, result.ci_high, 1),
                "τ²": result.tau2,
                "I²": pct(result.i2) if result.i2 is not None else pd.NA,
                "Caveat": result.note
                or ("back-transform cut off at 0 or 100 %" if result.clamped else pd.NA),
            }
        )
    return pd.DataFrame(rows)


def subgroup_frame(subgroups: list[Subgroup]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Analysis": s.analysis,
                "Subgroup": s.subgroup,
                "Reports": s.k,
                "Patients": s.n_patients,
                "Responders": s.n_events,
                "Pooled response (95 % CI)": describe_pooled(s.pooled),
                "Method": s.pooled.method,
                "Difference between subgroups": s.test,
            }
            for s in subgroups
        ]
    )


def claims_frame(checked: pd.DataFrame) -> pd.DataFrame:
    status = (
        checked["agrees"].map({True: "agrees", False: "differs"}).fillna("not checkable").astype("string")
    )
    return pd.DataFrame(
        {
            "Statement": checked["statement"],
            "Where": checked["locator"],
            "Stated": checked["stated_value"],
            "In the data": checked["computed_value"],
            "Check": status,
            "Why they differ": checked["notes"],
        }
    )
