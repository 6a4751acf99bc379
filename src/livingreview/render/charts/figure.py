"""Offline, accessible Vega-Lite charts for the book.

``show(chart, description)`` turns any Altair chart (or a Vega-Lite spec dict) into a :class:`Figure`, whose
``_repr_html_`` is::

    <figure class="lr-figure">
      <div class="lr-chart"></div>
      <script type="application/json" class="lr-spec">{...Vega-Lite spec, "<", ">", "&" escaped...}</script>
      <figcaption>escaped title and text description</figcaption>
    </figure>

``_static/livingreview-charts.js`` embeds every such figure with ``vegaEmbed`` (actions off, tooltips
escaped) from the Vega bundle that ``livingreview.book.sphinx.offline`` writes to
``_static/vega-bundle.js``: nothing is loaded from a CDN and Altair's own HTML renderer is never used
(importing this module switches Altair to the ``livingreview`` renderer, which renders the same offline
figure but warns, so ``-W`` fails the build when a page displays a bare Altair chart without a description).

Charts carry aggregated data only: one row per report or group. ``show`` refuses (``TooManyRows``, a
``ValueError``) charts whose inline data exceed ``MAX_ROWS`` rows, and the builders below aggregate further
when their input is that large, so Altair's ``MaxRowsError`` can never happen.

The chart builders are the sibling modules (each returns a :class:`Figure` with a title and a generated
description); the forest and cumulative plots are in :mod:`livingreview.render.forest`.
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

MAX_ROWS = 2000
WIDTH = "container"


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


def spec_rows(spec: Mapping[str, Any]) -> int:
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


def check_rows(n: int, max_rows: int) -> None:
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
        check_rows(_inline_rows(chart), max_rows)
        with alt.data_transformers.disable_max_rows():
            spec = chart.to_dict()
    check_rows(spec_rows(spec), max_rows)
    return Figure(fit_container(spec), description, title)


def fit_container(spec: dict[str, Any]) -> dict[str, Any]:
    """A chart as wide as its column (``width: "container"``) fits it, padding, axes and legends included."""
    if spec.get("width") == WIDTH and "autosize" not in spec:
        spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    return spec


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
# Altair validates every part of a chart as it is built, then the whole spec again in to_dict(); charts.show
# calls to_dict() on every chart, so the second check suffices (invalid specs still raise there).
alt.utils.schemapi.disable_debug_mode()
