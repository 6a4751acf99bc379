"""Subtype chart: response by disease subtype (e.g. Sjögren's neuropathies)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from livingreview.datapkg.frames import DISEASE_NAMES
from livingreview.render.charts.common import (
    disease_filter,
)
from livingreview.render.charts.figure import MAX_ROWS, WIDTH, Figure, check_rows, show
from livingreview.render.numbers import counted

SUBTYPE_CATEGORIES = [
    "improved",
    "stable",
    "improved or stable, split not reported",
    "worsened",
    "outcome not reported",
]
_CATEGORY_COLORS = ["#1a9641", "#a6d96a", "#c2e699", "#d7191c", "#bdbdbd"]


def subtype_table(cases: pd.DataFrame, disease: str) -> pd.DataFrame:
    """Patients per subtype and outcome category (long format, one row per subtype × category)."""
    sel = disease_filter(cases, disease)
    rows = []
    for subtype, group in sel.groupby(sel["subtype"].fillna("not specified"), sort=True):
        totals = dict.fromkeys(SUBTYPE_CATEGORIES, 0)
        for r in group.itertuples():
            n = 0 if pd.isna(r.n_patients) else int(r.n_patients)
            imp = None if pd.isna(r.n_improved) else int(r.n_improved)
            sta = None if pd.isna(r.n_stable) else int(r.n_stable)
            wor = None if pd.isna(r.n_worsened) else int(r.n_worsened)
            resp = None if pd.isna(r.n_responders) else int(r.n_responders)
            totals["improved"] += imp or 0
            totals["stable"] += sta or 0
            totals["worsened"] += wor or 0
            unsplit = 0
            if resp is not None and (imp is None or sta is None):
                unsplit = max(0, resp - (imp or 0) - (sta or 0))
            totals["improved or stable, split not reported"] += unsplit
            accounted = (imp or 0) + (sta or 0) + (wor or 0) + unsplit
            totals["outcome not reported"] += max(0, n - accounted)
        for cat, value in totals.items():
            rows.append({"subtype": str(subtype), "category": cat, "patients": value})
    return pd.DataFrame(rows, columns=["subtype", "category", "patients"])


def subtypes(cases: pd.DataFrame, disease: str = "SjS") -> Figure:
    """Stacked bars per subtype: improved / stable / improved or stable (split not reported) / worsened."""
    data = subtype_table(cases, disease)
    check_rows(len(data), MAX_ROWS)
    data["order"] = data["category"].map(SUBTYPE_CATEGORIES.index)
    present = [c for c in SUBTYPE_CATEGORIES if data.loc[data["category"] == c, "patients"].sum() > 0]
    data = data[data["category"].isin(present)].reset_index(drop=True)
    title = f"Outcome by subtype: {DISEASE_NAMES[disease]}"
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("subtype:N", title=None),
            x=alt.X("sum(patients):Q", title="Patients", stack="zero"),
            color=alt.Color(
                "category:N",
                title="Outcome",
                sort=present,
                scale=alt.Scale(
                    domain=present, range=[_CATEGORY_COLORS[SUBTYPE_CATEGORIES.index(c)] for c in present]
                ),
                legend=alt.Legend(orient="bottom", columns=1, labelLimit=300),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("subtype:N", title="Subtype"),
                alt.Tooltip("category:N", title="Outcome"),
                alt.Tooltip("patients:Q", title="Patients"),
            ],
        )
        .transform_filter("datum.patients > 0")
        .properties(title=title, width=WIDTH, height=max(60, 30 * data["subtype"].nunique()))
    )
    parts = []
    for subtype, group in data.groupby("subtype", sort=True):
        counts = [f"{int(p)} {c}" for c, p in zip(group["category"], group["patients"], strict=True) if p > 0]
        parts.append(
            f"{subtype} ({counted(int(group['patients'].sum()), 'patient')}): "
            f"{', '.join(counts) or 'no patients'}."
        )
    return show(chart, " ".join(parts) or "No case groups.", title=title)


# --- accumulation --------------------------------------------------------------------------------------
