"""Offline, accessible Vega-Lite charts for the book: :func:`show` makes any chart a :class:`Figure`
(see :mod:`~livingreview.render.charts.figure`); one module per chart builder."""

from livingreview.render.charts.before_after import before_after, before_after_table
from livingreview.render.charts.figure import (
    MAX_ROWS,
    WIDTH,
    Figure,
    TooManyRows,
    show,
    spec_json,
    spec_rows,
)
from livingreview.render.charts.regimens import regimens
from livingreview.render.charts.subtypes import SUBTYPE_CATEGORIES, subtype_table, subtypes
from livingreview.render.charts.timeline import accumulation

__all__ = [
    "MAX_ROWS",
    "SUBTYPE_CATEGORIES",
    "WIDTH",
    "Figure",
    "TooManyRows",
    "accumulation",
    "before_after",
    "before_after_table",
    "regimens",
    "show",
    "spec_json",
    "spec_rows",
    "subtype_table",
    "subtypes",
]  # fmt: skip
