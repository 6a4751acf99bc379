"""The forest plot and the cumulative plot of a disease's response evidence, with their text descriptions.

Both take evidence already computed (``livingreview.evidence.analyses``: each report's proportion and exact
interval, the pooled estimate, the cumulative series); nothing here fits a model. Each chart has a
``*_description`` returning a plain-text summary for readers who cannot see it (printed under the chart).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import altair as alt
import pandas as pd

from livingreview import stats
from livingreview.render.numbers import estimate_interval, pct_interval, pct_number

_ROW_PX = 18
_PCT = ".0%"


def _fmt_ci(est: float | None, lo: float | None, hi: float | None) -> str:
    return estimate_interval(est, lo, hi, digits=0, missing="not estimable")


def forest_rows(
    per_report: pd.DataFrame, pooled: stats.PooledEstimate, label: Callable[[str], str] = str
) -> pd.DataFrame:
    """Rows of the forest plot: one per report (``per_report`` of ``analyses.with_exact_intervals``) plus
    a final pooled row (``kind`` = "pooled")."""
    out = pd.DataFrame(
        {
            "kind": "report",
            "label": per_report["source"].map(label).astype(str),
            "year": per_report["year"].astype("string").fillna("year not shown"),
            "n": per_report["n_evaluable"].astype(int),
            "events": per_report["n_responders"].astype(int),
            "proportion": per_report["proportion"],
            "ci_low": per_report["ci_low"],
            "ci_high": per_report["ci_high"],
        }
    )
    out["pct_text"] = [pct_number(p, 0) for p in out["proportion"]]
    out["ci_text"] = [
        f"{pct_number(a, 0)}–{pct_number(b, 0)}" for a, b in zip(out["ci_low"], out["ci_high"], strict=True)
    ]
    if pooled.estimate is not None:
        label = "Pooled (GLMM)" if pooled.method == stats.METHOD_GLMM else "Pooled"
        pooled_row = {
            "kind": "pooled",
            "label": label,
            "year": "",
            "n": pooled.n_patients,
            "events": pooled.n_events,
            "proportion": pooled.estimate,
            "ci_low": pooled.ci_low,
            "ci_high": pooled.ci_high,
            "pct_text": pct_number(pooled.estimate, 0),
            "ci_text": f"{pct_number(pooled.ci_low, 0)}–{pct_number(pooled.ci_high, 0)}",
        }
        out = pd.concat([out, pd.DataFrame([pooled_row])], ignore_index=True)
    out["row"] = range(len(out))
    return out


def forest_chart(data: pd.DataFrame, title: str = "Response to IVIG by report") -> alt.HConcatChart:
    """Forest plot of :func:`forest_rows`: text columns (report, year, n, events, %, 95% CI), exact CIs and
    the pooled diamond."""
    height = _ROW_PX * (len(data) + 1)
    y = alt.Y("row:O", axis=None, scale=alt.Scale(domain=list(data["row"])))
    base = alt.Chart(data).properties(height=height)

    def column(field: str, header: str, width: int, align: str = "left") -> alt.LayerChart:
        normal = base.transform_filter("datum.kind == 'report'").mark_text(align=align, baseline="middle")
        bold = base.transform_filter("datum.kind == 'pooled'").mark_text(
            align=align, baseline="middle", fontWeight="bold"
        )
        xpos = alt.value(0 if align == "left" else width)
        return alt.layer(
            normal.encode(y=y, x=xpos, text=f"{field}:N"), bold.encode(y=y, x=xpos, text=f"{field}:N")
        ).properties(
            width=width,
            title=alt.TitleParams(header, fontSize=11, anchor="start" if align == "left" else "end"),
        )

    columns = [
        column("label", "Report", 110),
        column("year", "Year", 36),
        column("n", "n", 28, "right"),
        column("events", "Resp.", 36, "right"),
        column("pct_text", "%", 28, "right"),
        column("ci_text", "95% CI", 56, "right"),
    ]
    x = alt.X(
        "proportion:Q",
        title="Proportion responding (exact 95% CI)",
        scale=alt.Scale(domain=[0, 1]),
        axis=alt.Axis(format=_PCT),
    )
    tooltip = [
        alt.Tooltip("label:N", title="Report"),
        alt.Tooltip("events:Q", title="Responders"),
        alt.Tooltip("n:Q", title="Patients"),
        alt.Tooltip("proportion:Q", title="Proportion", format=".1%"),
        alt.Tooltip("ci_low:Q", title="CI low", format=".1%"),
        alt.Tooltip("ci_high:Q", title="CI high", format=".1%"),
    ]
    plot = _plot(data, base, x, y, y, tooltip).properties(width=260, height=height)
    wide = (
        alt.hconcat(*columns, plot, spacing=6)
        .properties(title=alt.TitleParams(title, anchor="start"))
        .configure_view(stroke=None)
    )
    # On a narrow column (a phone) the text columns do not fit beside the plot: the book's chart script
    # draws this variant instead, one plot as wide as the column whose row labels carry report, year and
    # responders/patients (the full numbers are in the tooltip and the text description).
    labels = [
        f"{r.label if str(r.year) in r.label else f'{r.label} {r.year}'} · {r.events}/{r.n}"
        if r.kind == "report" else
        f"{r.label} · {r.pct_text} ({r.ci_text})"
        for r in data.itertuples()
    ]  # fmt: skip
    pooled_row = data.loc[data["kind"] == "pooled", "row"]
    bold = int(pooled_row.iloc[0]) if len(pooled_row) else -1
    y_labelled = alt.Y(
        "row:O",
        title=None,
        scale=alt.Scale(domain=list(data["row"])),
        axis=alt.Axis(
            labelExpr=f"{json.dumps(labels, ensure_ascii=False)}[datum.value]",
            labelLimit=150,
            labelFontWeight=alt.ConditionalAxisLabelFontWeight(
                condition={"test": f"datum.value == {bold}", "value": "bold"}, value="normal"
            ),
            ticks=False,
            domain=False,
        ),
    )
    x_short = alt.X(
        "proportion:Q",
        title="Responding (exact 95% CI)",
        scale=alt.Scale(domain=[0, 1]),
        axis=alt.Axis(format=_PCT, tickCount=4),
    )
    narrow = (
        _plot(data, base, x_short, y_labelled, y, tooltip)
        .properties(
            title=alt.TitleParams(title, anchor="start"),
            width="container",
            height=height,
            autosize=alt.AutoSizeParams(type="fit-x", contains="padding"),
        )
        .configure_view(stroke=None)
    )
    with alt.data_transformers.disable_max_rows():  # too many rows is refused by charts.show, clearly
        narrow_spec = narrow.to_dict()
    return wide.properties(usermeta={"livingreview": {"narrow": narrow_spec}})


def _plot(
    data: pd.DataFrame, base: alt.Chart, x: alt.X, y_rules: alt.Y, y: alt.Y, tooltip: list
) -> alt.LayerChart:
    """Exact CIs (rules, with ``y_rules``, which may carry the row labels), report squares sized by patients,
    the pooled diamond and the 100% reference line."""
    studies = base.transform_filter("datum.kind == 'report'")
    rules = studies.mark_rule().encode(
        y=y_rules, x=alt.X("ci_low:Q", scale=alt.Scale(domain=[0, 1])), x2="ci_high:Q"
    )
    points = studies.mark_square(filled=True, color="black").encode(
        y=y, x=x, size=alt.Size("n:Q", legend=None, scale=alt.Scale(range=[20, 200])), tooltip=tooltip
    )
    layers = [rules, points]
    pooled_rows = data[data["kind"] == "pooled"]
    if not pooled_rows.empty:
        r = pooled_rows.iloc[0]
        yrow = int(r["row"])
        diamond = pd.DataFrame(
            {
                "order": [0, 1, 2, 3],
                "x": [r["ci_low"], r["proportion"], r["ci_high"], r["proportion"]],
                "y": [yrow, yrow - 0.35, yrow, yrow + 0.35],
            }
        )
        # a filled polygon: line mark with closed interpolation over quantitative row positions
        poly = (
            alt.Chart(diamond)
            .mark_line(interpolate="linear-closed", filled=True, color="#1f4e79", strokeWidth=1)
            .encode(
                x=alt.X("x:Q", scale=alt.Scale(domain=[0, 1])),
                y=alt.Y(
                    "y:Q",
                    axis=None,
                    scale=alt.Scale(domain=[-0.5, len(data) - 0.5], reverse=True, nice=False, zero=False),
                ),
                order="order:Q",
            )
        )
        layers.append(poly)
    ref = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[3, 3], color="gray").encode(x="x:Q")
    return alt.layer(*layers, ref).resolve_scale(y="independent")


def forest_description(data: pd.DataFrame, pooled: stats.PooledEstimate) -> str:
    """Accessible text summary of :func:`forest_chart` of the same rows."""
    rep = data[data["kind"] == "report"]
    if rep.empty:
        return "Forest plot: no report gives the number of responders."
    full = int((rep["events"] == rep["n"]).sum())
    lines = [
        f"Forest plot of {len(rep)} report(s) ({int(rep['n'].sum())} patients, "
        f"{int(rep['events'].sum())} responders), ordered by publication year "
        f"({rep['year'].iloc[0]}–{rep['year'].iloc[-1]}). {full} report(s) had every patient respond."
    ]
    pooled_rows = data[data["kind"] == "pooled"]
    if not pooled_rows.empty:
        lines.append(
            f"{pooled_rows['label'].iloc[0]}: {_fmt_ci(pooled.estimate, pooled.ci_low, pooled.ci_high)}"
            + (
                f"; 95% prediction interval {pct_interval(pooled.pi_low, pooled.pi_high, 0)}"
                if pooled.pi_low is not None
                else ""
            )
            + f" [{pooled.method}]."
        )
    widest = rep.assign(width=rep["ci_high"] - rep["ci_low"]).sort_values("width", ascending=False).iloc[0]
    lines.append(
        f"The widest interval is {widest['label']} ({widest['events']}/{widest['n']}, "
        f"95% CI {pct_interval(widest['ci_low'], widest['ci_high'], 0)})."
    )
    return " ".join(lines)


def cumulative_chart(
    series: pd.DataFrame, title: str = "Cumulative pooled response by publication year"
) -> alt.LayerChart:
    """Estimate and 95% CI as the evidence accumulated (``analyses.cumulative``), one point per year."""
    data = series.copy()
    data["label"] = [
        f"{k} report(s), {n} patients" for k, n in zip(data["k"], data["n_patients"], strict=True)
    ]
    base = alt.Chart(data).encode(x=alt.X("year:O", title="Publication year (reports up to and including)"))
    band = base.mark_rule(strokeWidth=2, color="#9ecae1").encode(
        y=alt.Y(
            "ci_low:Q",
            title="Pooled proportion responding",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format=_PCT),
        ),
        y2="ci_high:Q",
    )
    line = base.mark_line(color="#1f4e79").encode(y="estimate:Q")
    pts = base.mark_point(filled=True, color="#1f4e79").encode(
        y="estimate:Q",
        tooltip=[
            alt.Tooltip("year:O", title="Up to"),
            alt.Tooltip("label:N", title="Evidence"),
            alt.Tooltip("estimate:Q", title="Estimate", format=".1%"),
            alt.Tooltip("ci_low:Q", title="CI low", format=".1%"),
            alt.Tooltip("ci_high:Q", title="CI high", format=".1%"),
            alt.Tooltip("method:N", title="Method"),
        ],
    )
    return alt.layer(band, line, pts).properties(
        title=title,
        width="container",
        height=220,
        autosize=alt.AutoSizeParams(type="fit-x", contains="padding"),
    )


def cumulative_description(data: pd.DataFrame, undated: int = 0) -> str:
    """Accessible text summary of :func:`cumulative_chart`; ``undated`` reports could not be placed."""
    if data.empty:
        return "Cumulative plot: no report gives the number of responders."
    first, last = data.iloc[0], data.iloc[-1]
    missing = f" {undated} report(s) without a known year are left out." if undated else ""
    return (
        f"Cumulative pooled response over {len(data)} publication year(s). After {first['year']} "
        f"({first['k']} report(s)): {_fmt_ci(first['estimate'], first['ci_low'], first['ci_high'])}. "
        f"After {last['year']} ({last['k']} reports, {last['n_patients']} patients): "
        f"{_fmt_ci(last['estimate'], last['ci_low'], last['ci_high'])} [{last['method']}].{missing}"
    )
