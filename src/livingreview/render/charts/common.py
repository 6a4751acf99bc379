"""What the chart builders share: disease colours and filters, report labels, counts, chart-text numbers."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from livingreview.datapkg.frames import DISEASES
from livingreview.render import citations

DISEASE_COLORS = {"LCV": "#1b9e77", "CLE": "#d95f02", "LV": "#7570b3", "SSc": "#e7298a", "SjS": "#66a61e"}


def num(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


def fmt(value: float | None, digits: int = 3) -> str:
    if value is None or pd.isna(value):
        return "not reported"
    v = float(value)
    return str(int(v)) if v == int(v) else f"{v:.{digits}g}"


def value_range(lo: float | None, hi: float | None, unit: str) -> str:
    if lo is None and hi is None:
        return "not reported"
    if lo is None or hi is None or lo == hi:
        return f"{fmt(lo if lo is not None else hi)} {unit}"
    return f"{fmt(lo)}–{fmt(hi)} {unit}"


def labels(keys: pd.Series) -> pd.Series:
    labels = {k: citations.label(str(k)) for k in keys.dropna().unique()}
    return keys.map(labels)


def disease_filter(cases: pd.DataFrame, disease: str | None) -> pd.DataFrame:
    if disease is None:
        return cases
    if disease not in DISEASES:
        raise ValueError(f"unknown disease {disease!r}; expected one of {', '.join(DISEASES)}")
    return cases[cases["disease"] == disease]


def disease_color(domain: list[str]) -> alt.Scale:
    return alt.Scale(domain=domain, range=[DISEASE_COLORS.get(d, "#666666") for d in domain])


def total(series: pd.Series) -> int:
    return int(series.fillna(0).sum())


def as_counts(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``frame`` with the count columns as plain int64 (unknown = 0), so groupby sums stay vectorised."""
    return frame.assign(**{c: frame[c].fillna(0).astype("int64") for c in columns})
