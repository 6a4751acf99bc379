"""Accumulation chart: patients and reports by publication year, per disease."""

from __future__ import annotations

import altair as alt
import pandas as pd

from livingreview.datapkg.frames import DISEASE_NAMES, DISEASES
from livingreview.render.charts.common import (
    as_counts,
    disease_color,
)
from livingreview.render.charts.figure import MAX_ROWS, WIDTH, Figure, check_rows, show
from livingreview.render.numbers import counted


def accumulation(cases: pd.DataFrame) -> Figure:
    """Cumulative number of patients by publication year, per disease (step lines)."""
    per = (
        as_counts(cases.dropna(subset=["year"]), "n_patients")
        .groupby(["disease", "year"], sort=True)
        .agg(patients=("n_patients", "sum"), reports=("source", "nunique"))
        .reset_index()
    )
    rows = []
    if len(per):
        last = int(per["year"].max())
        for disease in [d for d in DISEASES if d in set(per["disease"])]:
            sub = per[per["disease"] == disease].set_index("year")
            total = reports = 0
            start = int(sub.index.min())
            for year in range(start, last + 1):
                if year in sub.index:
                    total += int(sub.loc[year, "patients"])
                    reports += int(sub.loc[year, "reports"])
                if year in sub.index or year == last:
                    rows.append({"disease": disease, "disease_name": DISEASE_NAMES[disease], "year": year,
                                 "patients": total, "reports": reports})  # fmt: skip
    data = pd.DataFrame(rows, columns=["disease", "disease_name", "year", "patients", "reports"])
    check_rows(len(data), MAX_ROWS)
    domain = [d for d in DISEASES if d in set(data["disease"])]
    title = "Accumulating evidence: patients treated with IVIG by publication year"
    base = alt.Chart(data).encode(
        x=alt.X(
            "year:Q",
            title="Publication year",
            axis=alt.Axis(format="d", tickMinStep=1),
            scale=alt.Scale(zero=False),
        ),
        y=alt.Y("patients:Q", title="Cumulative patients"),
        color=alt.Color("disease:N", title="Disease", scale=disease_color(domain)),
        tooltip=[
            alt.Tooltip("disease_name:N", title="Disease"),
            alt.Tooltip("year:Q", title="Year", format="d"),
            alt.Tooltip("patients:Q", title="Cumulative patients"),
            alt.Tooltip("reports:Q", title="Cumulative reports"),
        ],
    )
    chart = alt.layer(base.mark_line(interpolate="step-after"), base.mark_point(filled=True)).properties(
        title=title, width=WIDTH, height=300
    )
    parts = []
    for disease in domain:
        sub = data[data["disease"] == disease]
        years = per.loc[per["disease"] == disease, "year"]
        first, last = int(years.min()), int(years.max())
        span = str(first) if first == last else f"{first}–{last}"
        parts.append(
            f"{DISEASE_NAMES[disease]}: {counted(int(sub['patients'].iloc[-1]), 'patient')} in "
            f"{counted(int(sub['reports'].iloc[-1]), 'report')} published {span}."
        )
    return show(chart, " ".join(parts) or "No case groups.", title=title)


# --- before/after (SSc) --------------------------------------------------------------------------------
