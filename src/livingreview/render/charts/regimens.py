"""Regimens chart: dose per cycle against days per cycle, one mark per regimen."""

from __future__ import annotations

import altair as alt
import pandas as pd

from livingreview.datapkg.frames import DISEASE_NAMES, DISEASES
from livingreview.render.charts.common import (
    DISEASE_COLORS,
    as_counts,
    disease_color,
    disease_filter,
    fmt,
    labels,
    total,
    value_range,
)
from livingreview.render.charts.figure import MAX_ROWS, WIDTH, Figure, show

_REGIMEN_KEYS = ["dose_g_kg_min", "dose_g_kg_max", "days_per_cycle_min", "days_per_cycle_max"]


def regimens(cases: pd.DataFrame, disease: str | None = None) -> Figure:
    """IVIG dose per cycle (g/kg) against days per cycle: one point per report and regimen (the midpoint of
    the
    reported min–max ranges, with rules spanning the ranges), sized by patients, coloured by disease when
    ``disease`` is None."""
    sel = disease_filter(cases, disease)
    frame = sel.copy()
    for col in _REGIMEN_KEYS:
        frame[col] = pd.to_numeric(frame[col]).astype("Float64")
    frame["dose_lo"] = frame["dose_g_kg_min"].fillna(frame["dose_g_kg_max"])
    frame["dose_hi"] = frame["dose_g_kg_max"].fillna(frame["dose_g_kg_min"])
    frame["days_lo"] = frame["days_per_cycle_min"].fillna(frame["days_per_cycle_max"])
    frame["days_hi"] = frame["days_per_cycle_max"].fillna(frame["days_per_cycle_min"])
    known = frame.dropna(subset=["dose_lo", "days_lo"])
    unknown = frame.drop(known.index)
    keys = ["disease", "source", "dose_lo", "dose_hi", "days_lo", "days_hi"]
    agg = (
        as_counts(known, "n_patients")
        .groupby(keys, dropna=False, sort=True)
        .agg(patients=("n_patients", "sum"), groups=("case_id", "size"), year=("year", "min"))
        .reset_index()
    )
    agg["report"] = labels(agg["source"])
    if len(agg) > MAX_ROWS:  # a very large evidence base: one point per distinct regimen instead
        agg = (
            agg.groupby(keys[:1] + keys[2:], sort=True)
            .agg(
                patients=("patients", "sum"),
                groups=("groups", "sum"),
                year=("year", "min"),
                reports=("source", "nunique"),
            )
            .reset_index()
        )
        agg["report"] = agg["reports"].map(lambda k: f"{k} report(s)")
    agg = agg.astype({c: "float64" for c in keys[2:]})
    agg["dose_mid"] = (agg["dose_lo"] + agg["dose_hi"]) / 2
    agg["days_mid"] = (agg["days_lo"] + agg["days_hi"]) / 2
    agg["dose_text"] = [
        value_range(a, b, "g/kg") for a, b in zip(agg["dose_lo"], agg["dose_hi"], strict=True)
    ]
    agg["days_text"] = [
        value_range(a, b, "days") for a, b in zip(agg["days_lo"], agg["days_hi"], strict=True)
    ]
    agg["disease_name"] = agg["disease"].map(DISEASE_NAMES)
    agg = agg[["disease", "disease_name", "report", "year", "patients", "groups", "dose_lo", "dose_hi",
               "days_lo", "days_hi", "dose_mid", "days_mid", "dose_text", "days_text"]]  # fmt: skip

    where = DISEASE_NAMES[disease] if disease else "all diseases"
    title = f"IVIG regimens: dose and days per cycle ({where})"
    domain = [d for d in DISEASES if d in set(agg["disease"])]
    color = (
        alt.Color("disease:N", title="Disease", scale=disease_color(domain))
        if disease is None
        else alt.value(DISEASE_COLORS.get(disease, "#4c78a8"))
    )
    tooltip = [
        alt.Tooltip("report:N", title="Report"),
        alt.Tooltip("disease_name:N", title="Disease"),
        alt.Tooltip("dose_text:N", title="Dose per cycle"),
        alt.Tooltip("days_text:N", title="Days per cycle"),
        alt.Tooltip("patients:Q", title="Patients"),
        alt.Tooltip("groups:Q", title="Case groups"),
    ]
    base = alt.Chart(agg)
    x_scale = alt.Scale(zero=True, nice=True)
    dose_rule = base.mark_rule(opacity=0.6).encode(
        x=alt.X("dose_lo:Q", title="Dose per cycle (g/kg)", scale=x_scale),
        x2="dose_hi:Q",
        y=alt.Y("days_mid:Q"),
        color=color,
        tooltip=tooltip,
    )
    days_rule = base.mark_rule(opacity=0.6).encode(
        x=alt.X("dose_mid:Q"), y=alt.Y("days_lo:Q"), y2="days_hi:Q", color=color, tooltip=tooltip
    )
    points = base.mark_circle(opacity=0.8, stroke="white", strokeWidth=0.5).encode(
        x=alt.X("dose_mid:Q", title="Dose per cycle (g/kg)", scale=x_scale),
        y=alt.Y("days_mid:Q", title="Days per cycle", scale=alt.Scale(zero=True, nice=True)),
        size=alt.Size("patients:Q", title="Patients", scale=alt.Scale(range=[40, 600])),
        color=color,
        tooltip=tooltip,
    )
    chart = alt.layer(dose_rule, days_rule, points).properties(title=title, width=WIDTH, height=300)

    n_pat = int(agg["patients"].sum())
    parts = [f"{len(agg)} regimen(s) from {agg['report'].nunique()} report(s), {n_pat} patient(s)."]
    if len(agg):
        parts.append(
            f"Dose per cycle ranges from {fmt(agg['dose_lo'].min())} to {fmt(agg['dose_hi'].max())} g/kg "
            "and "
            f"days per cycle from {fmt(agg['days_lo'].min())} to {fmt(agg['days_hi'].max())}."
        )
        common = agg.groupby(["dose_text", "days_text"])["patients"].sum().sort_values(ascending=False)
        (dose_t, days_t), top = common.index[0], int(common.iloc[0])
        parts.append(f"Most patients ({top}) received {dose_t} over {days_t}.")
    if len(unknown):
        parts.append(
            f"{len(unknown)} case group(s) ({total(unknown['n_patients'])} patient(s)) with no reported dose "
            "or "
            "duration are not shown."
        )
    return show(chart, " ".join(parts), title=title)


# --- response by report --------------------------------------------------------------------------------
