"""Before/after chart: each measure of one report before and after IVIG."""

from __future__ import annotations

import altair as alt
import pandas as pd

from livingreview.render import citations
from livingreview.render.charts.common import (
    fmt,
    num,
)
from livingreview.render.charts.figure import MAX_ROWS, Figure, check_rows, show

_PANEL_PX = 300  # design width of each panel; the page fits it to the column (usermeta "fit": "stretch")
_LABEL_PX = 120  # measure labels beside the panels, truncated (full text in the tooltip and the description)


def before_after_table(outcomes: pd.DataFrame, source: str) -> pd.DataFrame:
    """One row per measure reported before and after IVIG in ``source``: before, after, SD, unit, p value."""
    sel = outcomes[(outcomes["source"] == source) & outcomes["timepoint"].isin(["before", "after"])]
    rows = []
    for (measure, statistic, unit), group in sel.groupby(
        ["measure", "statistic", "unit"], sort=True, dropna=False
    ):
        by = {r.timepoint: r for r in group.itertuples()}
        if "before" not in by or "after" not in by:
            continue
        b, a = by["before"], by["after"]
        rows.append(
            {
                "measure": str(measure),
                "statistic": str(statistic),
                "unit": "" if pd.isna(unit) else str(unit),
                "domain": "" if pd.isna(b.domain) else str(b.domain),
                "before": num(b.value),
                "after": num(a.value),
                "sd_before": num(b.sd),
                "sd_after": num(a.sd),
                "p_value": "" if pd.isna(a.p_value) else str(a.p_value),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "measure",
            "statistic",
            "unit",
            "domain",
            "before",
            "after",
            "sd_before",
            "sd_after",
            "p_value",
        ],
    )


def before_after(outcomes: pd.DataFrame, source: str) -> Figure:
    """Measures before and after IVIG in one report: percentages as a dumbbell chart; means (± SD) as a
    second panel with one row per measure, each on its own scale."""
    table = before_after_table(outcomes, source)
    check_rows(len(table), MAX_ROWS)
    label = citations.label(source)
    title = f"Before and after IVIG ({label})"
    long_rows = []
    for r in table.itertuples():
        for when in ("before", "after"):
            value = getattr(r, when)
            sd = getattr(r, f"sd_{when}")
            long_rows.append(
                {
                    "measure": r.measure,
                    "row": f"{r.measure} ({r.unit})" if r.unit and r.unit != "%" else r.measure,
                    "statistic": r.statistic,
                    "timepoint": when,
                    "value": value,
                    "low": None if pd.isna(sd) else value - sd,
                    "high": None if pd.isna(sd) else value + sd,
                    "p_value": r.p_value or "not reported",
                    "text": f"{fmt(value)}{'%' if r.statistic == 'percent' else ''}"
                    + ("" if pd.isna(sd) else f" ± {fmt(sd)}")
                    + ("" if r.statistic == "percent" or not r.unit else f" {r.unit}"),
                }
            )
    long = pd.DataFrame(
        long_rows,
        columns=["measure", "row", "statistic", "timepoint", "value", "low", "high", "p_value", "text"],
    )
    color = alt.Color(
        "timepoint:N",
        title="Time",
        scale=alt.Scale(domain=["before", "after"], range=["#9e9e9e", "#d95f02"]),
        legend=alt.Legend(orient="top", direction="horizontal"),  # above the panels: leaves them the width
    )
    tooltip = [
        alt.Tooltip("measure:N", title="Measure"),
        alt.Tooltip("timepoint:N", title="Time"),
        alt.Tooltip("text:N", title="Value"),
        alt.Tooltip("p_value:N", title="p (after vs before)"),
    ]
    panels = []
    pct = long[long["statistic"] == "percent"]
    if len(pct):
        base = alt.Chart(pct)
        y = alt.Y("measure:N", title=None, axis=alt.Axis(labelLimit=_LABEL_PX))
        line = base.mark_line(color="#bdbdbd", strokeWidth=3).encode(x="value:Q", y=y, detail="measure:N")
        dots = base.mark_circle(size=120, opacity=1).encode(
            x=alt.X("value:Q", title="Patients with the finding (%)", scale=alt.Scale(domain=[0, 100])),
            y=y,
            color=color,
            tooltip=tooltip,
        )
        panels.append(
            alt.layer(line, dots).properties(
                title="Percentages", width=_PANEL_PX, height=max(60, 26 * pct["measure"].nunique())
            )
        )
    means = long[long["statistic"] != "percent"]
    if len(means):
        base = alt.Chart()
        err = base.mark_rule().encode(
            x=alt.X("low:Q", title=None),
            x2="high:Q",
            y=alt.Y("timepoint:N", title=None, sort=["before", "after"]),
            color=color,
            tooltip=tooltip,
        )
        pts = base.mark_point(filled=True, size=70).encode(
            x=alt.X("value:Q", title=None),
            y=alt.Y("timepoint:N", title=None, sort=["before", "after"]),
            color=color,
            tooltip=tooltip,
        )
        facet = (
            alt.layer(err, pts, data=means)
            .properties(width=_PANEL_PX, height=44)
            .facet(
                row=alt.Row(
                    "row:N",
                    title=None,
                    header=alt.Header(labelAngle=0, labelAlign="left", labelLimit=_LABEL_PX),
                )
            )
            .resolve_scale(x="independent")
            .properties(title="Means ± SD (each measure on its own scale)")
        )
        panels.append(facet)
    if not panels:
        chart = (
            alt.Chart(pd.DataFrame({"text": ["no before/after measures"]})).mark_text().encode(text="text:N")
        )
    elif len(panels) == 1:
        chart = panels[0]
    else:
        chart = alt.vconcat(*panels).resolve_scale(color="shared")
    # panels cannot take their container's width: the book's chart script stretches them to the column
    chart = chart.properties(title=title, usermeta={"livingreview": {"fit": "stretch"}})

    parts = []
    for r in table.itertuples():
        unit = "%" if r.statistic == "percent" else f" {r.unit}" if r.unit else ""
        sd_b = "" if pd.isna(r.sd_before) else f" (SD {fmt(r.sd_before)})"
        sd_a = "" if pd.isna(r.sd_after) else f" (SD {fmt(r.sd_after)})"
        p = (
            f", p {r.p_value}"
            if r.p_value and r.p_value.startswith(("<", ">", "="))
            else (f", p = {r.p_value}" if r.p_value else "")
        )
        what = f"{r.statistic} " if r.statistic not in ("percent",) else ""
        parts.append(
            f"{r.measure}: {what}{fmt(r.before)}{unit}{sd_b} before, {fmt(r.after)}{unit}{sd_a} after{p}."
        )
    description = f"{len(table)} measure(s) reported before and after IVIG by {label}. " + " ".join(parts)
    return show(chart, description, title=title)
