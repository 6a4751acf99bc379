"""Reports: the pooling unit of the review, and the per-disease summary built on them.

The pooling unit is the *report* (``source``): case-group rows of ``data/cases.csv`` that share a
(disease, source) are summed first. Rows with an empty ``n_responders`` (response not reported) are left out
of the response analysis; their patients are counted in ``patients_excluded``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from livingreview import stats
from livingreview.datapkg.frames import DISEASE_NAMES, DISEASES
from livingreview.errors import UserError

SCHEMA_VERSION = 1
LEVEL = 0.95
#: the columns of cases.csv the response analysis needs
NEEDED = ("disease", "source", "year", "n_patients", "n_responders")


def report_table(cases) -> Any:
    """One row per (disease, source) report: the case groups of a report summed (the pooling unit).

    Columns: ``disease``, ``source``, ``year`` (earliest), ``country``/``design``/``via`` where the input
    has them, ``case_groups``, ``n_patients`` (all), ``n_evaluable`` and ``evaluable_groups`` (patients and
    case groups whose ``n_responders`` is known) and ``n_responders`` (``<NA>`` when no case group of the
    report gives it). Sorted by year and source. The book's tables and this command both use it, so
    they cannot disagree.
    """
    known = cases["n_responders"].notna()
    frame = cases.assign(n_evaluable=cases["n_patients"].where(known), evaluable=known.astype(int))
    descriptive = {
        c: (c, "first") for c in ("country", "design", "via", "extraction_level") if c in cases.columns
    }
    reports = (
        frame.groupby(["disease", "source"], sort=False)
        .agg(
            year=("year", "min"),
            **descriptive,
            case_groups=("n_patients", "size"),
            n_patients=("n_patients", "sum"),
            n_evaluable=("n_evaluable", lambda s: s.sum(min_count=1)),
            evaluable_groups=("evaluable", "sum"),
            n_responders=("n_responders", lambda s: s.sum(min_count=1)),
        )
        .reset_index()
    )
    for col in ("year", "n_patients", "n_evaluable", "evaluable_groups", "n_responders", "case_groups"):
        reports[col] = reports[col].astype("Int64")
    return reports.sort_values(["year", "source"], kind="stable").reset_index(drop=True)


def reports_by_source(cases) -> Any:
    """One row per (disease, source) report for the response analysis.

    Columns: ``disease``, ``source``, ``year`` (earliest year of its rows), ``n_patients``,
    ``n_responders`` (both summed over rows whose ``n_responders`` is known),
    ``n_case_groups``. Reports without any known ``n_responders`` are dropped. Sorted by disease,
    year, source. This is the aggregated table the forest plots take.
    """
    for col in NEEDED:
        if col not in cases.columns:
            raise ValueError(f"cases lacks column {col!r}")
    known = cases[cases["n_responders"].notna()]
    bad = known[(known["n_responders"] < 0) | (known["n_responders"] > known["n_patients"])]
    if not bad.empty:
        first = bad.iloc[0]
        raise UserError(
            f"{first.get('case_id', first['source'])}: n_responders ({first['n_responders']}) "
            f"is not between 0 and n_patients ({first['n_patients']})"
        )
    columns = ["disease", "source", "year", "n_patients", "n_responders", "n_case_groups"]
    if known.empty:
        kinds = ["string", "string", "Int64", "Int64", "Int64", "Int64"]
        return pd.DataFrame({c: pd.Series([], dtype=k) for c, k in zip(columns, kinds, strict=True)})
    reports = report_table(cases).dropna(subset=["n_responders"])
    reports = reports.assign(n_patients=reports["n_evaluable"], n_case_groups=reports["evaluable_groups"])
    return reports[columns].sort_values(["disease", "year", "source"], kind="stable").reset_index(drop=True)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def summarise(cases, data_version: str | None = None, level: float = LEVEL) -> dict[str, Any]:
    """The summary document described in the module docstring."""
    reports = reports_by_source(cases)
    present = [str(d) for d in cases["disease"].dropna().unique()]
    order = [d for d in DISEASES if d in present] + sorted(d for d in present if d not in DISEASES)
    diseases = []
    for code in order:
        rows = cases[cases["disease"] == code]
        rep = reports[reports["disease"] == code]
        events = rep["n_responders"].astype(int).to_numpy()
        n = rep["n_patients"].astype(int).to_numpy()
        excluded = int(rows.loc[rows["n_responders"].isna(), "n_patients"].sum())
        crude = stats.crude_pooled(events, n, level)
        pooled = stats.pool_glmm(events, n, level)
        if pooled.k == 0 and excluded:
            pooled = stats.PooledEstimate(
                stats.METHOD_NONE,
                0,
                0,
                0,
                None,
                None,
                None,
                note="no report gives the number of responders",
            )
        diseases.append(
            {
                "disease": code,
                "name": DISEASE_NAMES.get(code, code),
                "case_groups": len(rows),
                "reports": int(rows["source"].nunique()),
                "patients": int(rows["n_patients"].sum()),
                "reports_with_response": len(rep),
                "patients_with_response": int(n.sum()),
                "patients_excluded": excluded,
                "responders": int(events.sum()),
                "crude": {
                    "estimate": _clean(crude.estimate),
                    "ci_low": _clean(crude.ci_low),
                    "ci_high": _clean(crude.ci_high),
                    "method": crude.method,
                },
                "pooled": pooled.to_dict(),
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "data_version": data_version,
        "level": level,
        "primary_method": stats.METHOD_GLMM,
        "diseases": diseases,
    }
