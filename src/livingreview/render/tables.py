"""pandas DataFrames as safe, sortable HTML tables for the book.

``show(frame, caption=None, sortable=True, link_column=None, link=None, link_text=None, formats=None,
headers=None, index=False)`` returns a :class:`Table`; a code cell ending with it displays the table.

* every cell, header and the caption is escaped with :func:`html.escape`; nothing from the data is ever
  interpreted as HTML;
* missing values (``NA``, ``NaN``, ``None``) show as an em dash ``—``, never ``nan``/``<NA>``;
* integers print as integers, other numbers with up to 3 significant digits (no exponent under 10⁶);
  ``formats={"col": "{:.0%}"}`` or a callable overrides a column;
* ``link_column="source"`` links each value of that column; by default to its bibliography entry
  (``bibliography.html#cite-<key>``, see :func:`livingreview.citations.href`), or to ``link(value)``;
  ``link_text=citations.label`` shows ``Ferranti et al. 2021`` instead of the key;
* ``sortable=True`` adds class ``lr-sortable``: ``_static/livingreview-tables.js`` makes the headers
  clickable buttons (numeric-aware, missing values last). Numeric cells carry their raw value in
  ``data-value``.
* every table carries ``data-lr-csv="<slug of the caption>.csv"``: the same script adds a "Download CSV"
  button that builds the file from the cells in the browser (raw ``data-value`` for numbers).
"""

from __future__ import annotations

import html
import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from livingreview.render import citations

NA_TEXT = "—"
MAX_ROWS = 5000


def csv_name(caption: str | None, table_id: str | None = None) -> str:
    """File name of a table's CSV download: ``Response by report`` -> ``response-by-report.csv``."""
    text = unicodedata.normalize("NFKD", caption or table_id or "table").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80].rstrip("-")
    return f"{slug or 'table'}.csv"


def is_na(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict, set)) else False
    except (TypeError, ValueError):
        return False


def format_number(value: Any) -> str:
    """Sensible text for a number: ``12``, ``4.4``, ``0.833``, ``1,069``, ``1.2e+07``."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}" if abs(int(value)) >= 10_000 else str(int(value))
    v = float(value)
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == int(v) and abs(v) < 1e15:
        iv = int(v)
        return f"{iv:,}" if abs(iv) >= 10_000 else str(iv)
    if abs(v) >= 1e6:
        return f"{v:.3g}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def format_cell(value: Any, fmt: str | Callable[[Any], str] | None = None) -> str:
    """Plain (unescaped) text of one cell."""
    if is_na(value):
        return NA_TEXT
    if fmt is not None:
        return fmt(value) if callable(fmt) else fmt.format(value)
    if isinstance(value, (numbers.Number, bool)):
        return format_number(value)
    return str(value)


def _numeric(value: Any) -> float | None:
    if isinstance(value, bool) or is_na(value):
        return None
    if isinstance(value, numbers.Number):
        v = float(value)
        return None if math.isnan(v) else v
    return None


class Table:
    """An HTML table; ``_repr_html_`` is what the book shows."""

    def __init__(self, html_text: str, frame: pd.DataFrame, caption: str | None):
        self._html = html_text
        self.frame = frame
        self.caption = caption

    def _repr_html_(self) -> str:
        return self._html

    def __repr__(self) -> str:
        head = f"{self.caption}\n" if self.caption else ""
        return head + self.frame.to_string(na_rep=NA_TEXT)


def show(
    frame: pd.DataFrame,
    caption: str | None = None,
    sortable: bool = True,
    link_column: str | None = None,
    link: Callable[[Any], str | None] | None = None,
    link_text: Callable[[Any], str] | None = None,
    formats: Mapping[str, str | Callable[[Any], str]] | None = None,
    headers: Mapping[str, str] | None = None,
    index: bool = False,
    table_id: str | None = None,
) -> Table:
    """Render ``frame`` as an escaped HTML table (see the module docstring)."""
    if len(frame) > MAX_ROWS:
        raise ValueError(
            f"{len(frame)} rows is too many for a table in the book (max {MAX_ROWS}); aggregate first"
        )
    if index:
        frame = frame.reset_index()
    formats = dict(formats or {})
    headers = dict(headers or {})
    if link_column is not None and link_column not in frame.columns:
        raise KeyError(f"link_column {link_column!r} is not a column of the table")
    link = link or citations.href
    esc = html.escape
    classes = "lr-table table" + (" lr-sortable" if sortable else "")
    out = [
        f'<div class="lr-table-wrap"><table class="{classes}"'
        + (f' id="{esc(table_id)}"' if table_id else "")
        + f' data-lr-csv="{esc(csv_name(caption, table_id), quote=True)}"'
        + ">"
    ]
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append("<thead><tr>")
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col].dtype) and not pd.api.types.is_bool_dtype(
            frame[col].dtype
        )
        cls = ' class="lr-num"' if numeric else ""
        out.append(f'<th scope="col"{cls}>{esc(str(headers.get(col, col)))}</th>')
    out.append("</tr></thead><tbody>")
    columns = list(frame.columns)
    for row in frame.itertuples(index=False, name=None):
        out.append("<tr>")
        for col, value in zip(columns, row, strict=True):
            text = format_cell(value, formats.get(col))
            attrs = []
            num = _numeric(value)
            if is_na(value):
                attrs.append('class="lr-na" data-na="1"')
            elif num is not None:
                attrs.append(f'class="lr-num" data-value="{num!r}"')
            cell = esc(text)
            if col == link_column and not is_na(value):
                target = link(value)
                shown = esc(link_text(value)) if link_text else cell
                cell = f'<a class="lr-link" href="{esc(target, quote=True)}">{shown}</a>' if target else shown
            attr = (" " + " ".join(attrs)) if attrs else ""
            out.append(f"<td{attr}>{cell}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return Table("".join(out), frame, caption)


def show_linked(frame: pd.DataFrame, caption: str, column: str = "Report", **options: Any) -> Table:
    """:func:`show` with each value of ``column`` (a bib key) shown as its label and linked to the
    bibliography."""
    return show(frame, caption=caption, link_column=column, link_text=citations.label, **options)
