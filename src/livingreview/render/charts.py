"""Offline, accessible Vega-Lite charts for the book.

``show(chart, description)`` turns any Altair chart (or a Vega-Lite spec dict) into a :class:`Figure`, whose
``_repr_html_`` is::

    <figure class="lr-figure">
      <div class="lr-chart"></div>
      <script type="application/json" class="lr-spec">{...Vega-Lite spec, "<", ">", "&" escaped...}</script>
      <figcaption>escaped title and text description</figcaption>
    </figure>

``_static/livingreview-charts.js`` embeds every such figure with ``vegaEmbed`` (actions off, tooltips
escaped) from the Vega bundle that ``livingreview.book.sphinx`` writes to ``_static/vega-bundle.js``: nothing
is loaded from a CDN and Altair's own HTML renderer is never used (importing this module switches Altair to
the ``livingreview`` renderer, which renders the same offline figure but warns, so ``-W`` fails the build when
a page displays a bare Altair chart without a description).

Charts carry aggregated data only: one row per report or group. ``show`` refuses (``TooManyRows``, a
``ValueError``) charts whose inline data exceed ``MAX_ROWS`` rows, and the builders below aggregate further
when their input is that large, so Altair's ``MaxRowsError`` can never happen.

Builders (each returns a :class:`Figure` with a title and a generated description):
``regimens(cases, disease=None)``, ``before_after(outcomes, source)``, ``subtypes(cases, disease)``,
``accumulation(cases)``. The forest and cumulative plots are in :mod:`livingreview.render.forest`.
"""

from __future__ import annotations

import hashlib
import html
import json
import warnings
from collections.abc import Mapping
from typing import Any

import altair as alt
import pandas as pd

from livingreview.datapkg.frames import DISEASE_NAMES, DISEASES
from livingreview.render import citations

MAX_ROWS = 2000
WIDTH = "container"
DISEASE_COLORS = {"LCV": "#1b9e77", "CLE": "#d95f02", "LV": "#7570b3", "SSc": "#e7298a", "SjS": "#66a61e"}


class TooManyRows(ValueError):
    """A chart was given more rows than the book's charts may inline; aggregate first."""


class Figure:
    """A chart ready for the book: Vega-Lite spec + text description."""

    def __init__(self, spec: Mapping[str, Any], description: str, title: str | None = None):
        if not isinstance(description, str) or not description.strip():
            raise ValueError("every chart needs a non-empty text description")
        self.spec = dict(spec)
        self.description = description.strip()
        self.title = title if title is not None else _spec_title(self.spec)
        self.spec.setdefault("description", self.description)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.spec)

    def to_json(self) -> str:
        return spec_json(self.spec)

    def _repr_html_(self) -> str:
        payload = self.to_json()
        ident = "lr-fig-" + hashlib.sha256(payload.encode()).hexdigest()[:12]
        title = f'<span class="lr-figure-title">{html.escape(self.title)}.</span> ' if self.title else ""
        return (
            f'<figure class="lr-figure" id="{ident}">'
            f'<div class="lr-chart" aria-describedby="{ident}-caption"></div>'
            f'<script type="application/json" class="lr-spec">{payload}</script>'
            f'<figcaption id="{ident}-caption">{title}'
            f'<span class="lr-figure-description">{html.escape(self.description)}</span></figcaption>'
            "</figure>"
        )

    def __repr__(self) -> str:
        return f"{self.title}: {self.description}" if self.title else self.description


def spec_json(spec: Mapping[str, Any]) -> str:
    """JSON safe inside ``<script type="application/json">``: ``<``, ``>``, ``&`` and U+2028/9 are escaped, so
    no data text can close the tag or open a comment."""
    text = json.dumps(spec, ensure_ascii=False, sort_keys=False, separators=(",", ":"), allow_nan=False)
    for char, code in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, code)
    return text


def _spec_title(spec: Mapping[str, Any]) -> str | None:
    title = spec.get("title")
    if isinstance(title, Mapping):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(map(str, title))
    return str(title) if title else None


def _inline_rows(obj: Any) -> int:
    """Largest number of rows of any DataFrame attached to an Altair chart (before serialisation)."""
    best = 0
    data = getattr(obj, "data", None)
    if isinstance(data, pd.DataFrame):
        best = len(data)
    for attr in ("layer", "hconcat", "vconcat", "concat"):
        for sub in getattr(obj, attr, None) or []:
            best = max(best, _inline_rows(sub))
    spec = getattr(obj, "spec", None)
    if spec is not None and not isinstance(spec, (str, bytes)):
        best = max(best, _inline_rows(spec))
    return best


def _spec_rows(spec: Mapping[str, Any]) -> int:
    best = 0
    for values in (spec.get("datasets") or {}).values():
        best = max(best, len(values))
    stack = [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            data = node.get("data")
            if isinstance(data, Mapping) and isinstance(data.get("values"), list):
                best = max(best, len(data["values"]))
            stack.extend(v for v in node.values() if isinstance(v, (Mapping, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (Mapping, list)))
    return best


def _check_rows(n: int, max_rows: int) -> None:
    if n > max_rows:
        raise TooManyRows(
            f"chart data has {n} rows, more than the {max_rows} the book inlines; charts must be built from "
            "aggregated data (one row per report or group)"
        )


def show(chart: Any, description: str, *, title: str | None = None, max_rows: int = MAX_ROWS) -> Figure:
    """Wrap any Altair chart (Chart, LayerChart, concat, facet...), a Vega-Lite spec dict or a Figure."""
    if isinstance(chart, Figure):
        return Figure(chart.spec, description, title or chart.title)
    if isinstance(chart, Mapping):
        spec = dict(chart)
    else:
        _check_rows(_inline_rows(chart), max_rows)
        with alt.data_transformers.disable_max_rows():
            spec = chart.to_dict()
    _check_rows(_spec_rows(spec), max_rows)
    return Figure(spec, description, title)


def _renderer(spec: dict, **metadata: Any) -> dict[str, str]:
    """Renderer for bare Altair charts: offline, but warns (and -W fails the book)."""
    warnings.warn(
        "an Altair chart was displayed without livingreview.render.charts.show(chart, description)",
        UserWarning,
        stacklevel=2,
    )
    title = _spec_title(spec) or "Chart"
    return {"text/html": Figure(spec, f"{title} (no description given)")._repr_html_(), "text/plain": title}


alt.renderers.register("livingreview", _renderer)
alt.renderers.enable("livingreview")


# --- helpers -------------------------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or pd.isna(value):
        return "not reported"
    v = float(value)
    return str(int(v)) if v == int(v) else f"{v:.{digits}g}"


def _range(lo: float | None, hi: float | None, unit: str) -> str:
    if lo is None and hi is None:
        return "not reported"
    if lo is None or hi is None or lo == hi:
        return f"{_fmt(lo if lo is not None else hi)} {unit}"
    return f"{_fmt(lo)}–{_fmt(hi)} {unit}"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _labels(keys: pd.Series) -> pd.Series:
    labels = {k: citations.label(str(k)) for k in keys.dropna().unique()}
    return keys.map(labels)


def _disease_filter(cases: pd.DataFrame, disease: str | None) -> pd.DataFrame:
    if disease is None:
        return cases
    if disease not in DISEASES:
        raise ValueError(f"unknown disease {disease!r}; expected one of {', '.join(DISEASES)}")
    return cases[cases["disease"] == disease]


def _disease_color(domain: list[str]) -> alt.Scale:
    return alt.Scale(domain=domain, range=[DISEASE_COLORS.get(d, "#666666") for d in domain])


def _sum(series: pd.Series) -> int:
    return int(series.fillna(0).sum())


def _counts(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``frame`` with the count columns as plain int64 (unknown = 0), so groupby sums stay vectorised."""
    return frame.assign(**{c: frame[c].fillna(0).astype("int64") for c in columns})


# --- regimens ------------------------------------------------------------------------------------------

_REGIMEN_KEYS = ["dose_g_kg_min", "dose_g_kg_max", "days_per_cycle_min", "days_per_cycle_max"]


def regimens(cases: pd.DataFrame, disease: str | None = None) -> Figure:
    """IVIG dose per cycle (g/kg) against days per cycle: one point per report and regimen (the midpoint of
    the
    reported min–max ranges, with rules spanning the ranges), sized by patients, coloured by disease when
    ``disease`` is None."""
    sel = _disease_filter(cases, disease)
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
        _counts(known, "n_patients")
        .groupby(keys, dropna=False, sort=True)
        .agg(patients=("n_patients", "sum"), groups=("case_id", "size"), year=("year", "min"))
        .reset_index()
    )
    agg["report"] = _labels(agg["source"])
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
    agg["dose_text"] = [_range(a, b, "g/kg") for a, b in zip(agg["dose_lo"], agg["dose_hi"], strict=True)]
    agg["days_text"] = [_range(a, b, "days") for a, b in zip(agg["days_lo"], agg["days_hi"], strict=True)]
    agg["disease_name"] = agg["disease"].map(DISEASE_NAMES)
    agg = agg[["disease", "disease_name", "report", "year", "patients", "groups", "dose_lo", "dose_hi",
               "days_lo", "days_hi", "dose_mid", "days_mid", "dose_text", "days_text"]]  # fmt: skip

    where = DISEASE_NAMES[disease] if disease else "all diseases"
    title = f"IVIG regimens: dose and days per cycle ({where})"
    domain = [d for d in DISEASES if d in set(agg["disease"])]
    color = (
        alt.Color("disease:N", title="Disease", scale=_disease_color(domain))
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
            f"Dose per cycle ranges from {_fmt(agg['dose_lo'].min())} to {_fmt(agg['dose_hi'].max())} g/kg "
            "and "
            f"days per cycle from {_fmt(agg['days_lo'].min())} to {_fmt(agg['days_hi'].max())}."
        )
        common = agg.groupby(["dose_text", "days_text"])["patients"].sum().sort_values(ascending=False)
        (dose_t, days_t), top = common.index[0], int(common.iloc[0])
        parts.append(f"Most patients ({top}) received {dose_t} over {days_t}.")
    if len(unknown):
        parts.append(
            f"{len(unknown)} case group(s) ({_sum(unknown['n_patients'])} patient(s)) with no reported dose "
            "or "
            "duration are not shown."
        )
    return show(chart, " ".join(parts), title=title)


# --- response by report --------------------------------------------------------------------------------


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
    sel = _disease_filter(cases, disease)
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
    _check_rows(len(data), MAX_ROWS)
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
                legend=alt.Legend(orient="bottom", columns=2),
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
            f"{subtype} ({_n(int(group['patients'].sum()), 'patient')}): "
            f"{', '.join(counts) or 'no patients'}."
        )
    return show(chart, " ".join(parts) or "No case groups.", title=title)


# --- accumulation --------------------------------------------------------------------------------------


def accumulation(cases: pd.DataFrame) -> Figure:
    """Cumulative number of patients by publication year, per disease (step lines)."""
    per = (
        _counts(cases.dropna(subset=["year"]), "n_patients")
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
    _check_rows(len(data), MAX_ROWS)
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
        color=alt.Color("disease:N", title="Disease", scale=_disease_color(domain)),
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
            f"{DISEASE_NAMES[disease]}: {_n(int(sub['patients'].iloc[-1]), 'patient')} in "
            f"{_n(int(sub['reports'].iloc[-1]), 'report')} published {span}."
        )
    return show(chart, " ".join(parts) or "No case groups.", title=title)


# --- before/after (SSc) --------------------------------------------------------------------------------


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
                "before": _num(b.value),
                "after": _num(a.value),
                "sd_before": _num(b.sd),
                "sd_after": _num(a.sd),
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
    _check_rows(len(table), MAX_ROWS)
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
                    "text": f"{_fmt(value)}{'%' if r.statistic == 'percent' else ''}"
                    + ("" if pd.isna(sd) else f" ± {_fmt(sd)}")
                    + ("" if r.statistic == "percent" or not r.unit else f" {r.unit}"),
                }
            )
    long = pd.DataFrame(
        long_rows,
        columns=["measure", "row", "statistic", "timepoint", "value", "low", "high", "p_value", "text"],
    )
    color = alt.Color(
        "timepoint:N", title="Time", scale=alt.Scale(domain=["before", "after"], range=["#9e9e9e", "#d95f02"])
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
        y = alt.Y("measure:N", title=None)
        line = base.mark_line(color="#bdbdbd", strokeWidth=3).encode(x="value:Q", y=y, detail="measure:N")
        dots = base.mark_circle(size=120, opacity=1).encode(
            x=alt.X("value:Q", title="Patients with the finding (%)", scale=alt.Scale(domain=[0, 100])),
            y=y,
            color=color,
            tooltip=tooltip,
        )
        panels.append(
            alt.layer(line, dots).properties(
                title="Percentages", width=WIDTH, height=max(60, 26 * pct["measure"].nunique())
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
            .properties(width=420, height=44)
            .facet(
                row=alt.Row(
                    "row:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left", labelLimit=260)
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
    chart = chart.properties(title=title)

    parts = []
    for r in table.itertuples():
        unit = "%" if r.statistic == "percent" else f" {r.unit}" if r.unit else ""
        sd_b = "" if pd.isna(r.sd_before) else f" (SD {_fmt(r.sd_before)})"
        sd_a = "" if pd.isna(r.sd_after) else f" (SD {_fmt(r.sd_after)})"
        p = (
            f", p {r.p_value}"
            if r.p_value and r.p_value.startswith(("<", ">", "="))
            else (f", p = {r.p_value}" if r.p_value else "")
        )
        what = f"{r.statistic} " if r.statistic not in ("percent",) else ""
        parts.append(
            f"{r.measure}: {what}{_fmt(r.before)}{unit}{sd_b} before, {_fmt(r.after)}{unit}{sd_a} after{p}."
        )
    description = f"{len(table)} measure(s) reported before and after IVIG by {label}. " + " ".join(parts)
    return show(chart, description, title=title)
