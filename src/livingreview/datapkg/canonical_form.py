"""Canonical form of the data package's CSV files: what ``livingreview fmt`` writes and ``livingreview
validate`` expects.

UTF-8 without BOM, LF line endings, a final newline, the header exactly in schema order, rows sorted by the
primary key, numbers in their shortest plain form (``2`` not ``2.0``, ``3.57`` not ``3.570``, no ``+``, no
exponent), no leading or trailing whitespace in cells, and minimal quoting (Python's ``csv.QUOTE_MINIMAL``
with ``lineterminator="\\n"``, see ``csvfile.to_csv_text``). Nothing here writes a file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd

from livingreview.datapkg.csvfile import RawTable, read_table, to_csv_text
from livingreview.datapkg.descriptor import load_descriptor, resource_path
from livingreview.datapkg.problems import Problem

__all__ = ["CANONICAL_NUMBER", "canonical_number", "canonical_text", "format_tree", "table_text"]

_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
#: a number already in canonical form (the fast test; ``canonical_number`` also excludes "-0")
CANONICAL_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?")


def canonical_number(text: str, integer: bool = False) -> str | None:
    """The canonical spelling of a number (surrounding whitespace ignored), or ``None`` if ``text`` is not a
    number (or, with ``integer``, not a whole number). ``'2.0'`` -> ``'2'``, ``'+3.570'`` -> ``'3.57'``,
    ``'1e2'`` -> ``'100'``. Exact: decimal digits are kept as written, never rounded through a float."""
    s = text.strip()
    if CANONICAL_NUMBER.fullmatch(s) and s != "-0" and not (integer and "." in s):
        return s
    if len(s) > 400 or not _NUMBER_RE.fullmatch(s):
        return None
    try:
        value = Decimal(s)
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or abs(value.adjusted()) > 60:
        return None
    if integer and value != value.to_integral_value():
        return None
    out = format(value.normalize(), "f")
    return "0" if out == "-0" else out


def canonical_text(
    table: RawTable, fields: Sequence[dict], primary_key: Sequence[str]
) -> tuple[str | None, list[Problem]]:
    """The canonical text of ``table`` under a Table Schema's ``fields`` and ``primary_key``, or ``None`` and
    the problems that make rewriting unsafe (ragged rows, missing/unknown/duplicated columns, cells of a
    numeric column that are not numbers)."""
    names = [f["name"] for f in fields]
    problems: list[Problem] = []
    for line, n in table.ragged:
        problems.append(
            Problem(
                table.path,
                line,
                "",
                f"row has {n} fields but the header has {len(table.header)}; fix it by hand",
            )
        )
    seen: dict[str, int] = {}
    for j, name in enumerate(table.header):
        if name in seen:
            problems.append(
                Problem(table.path, 1, name, f"column '{name}' appears more than once in the header")
            )
        seen.setdefault(name, j)
    for name in table.header:
        if name not in names:
            problems.append(
                Problem(
                    table.path,
                    1,
                    name,
                    f"unknown column '{name}' (not in datapackage.json); rename or remove it",
                )
            )
    for name in names:
        if name not in seen:
            problems.append(Problem(table.path, 1, name, f"column '{name}' is missing from the header"))
    if problems:
        return None, problems
    cols: list[np.ndarray] = []
    for f in fields:
        col = table.columns[seen[f["name"]]]
        codes, uniques = pd.factorize(col)
        kind = f.get("type", "string")
        out = []
        for u in uniques:
            s = u.strip()
            if kind in ("integer", "number") and s:
                c = canonical_number(s, integer=kind == "integer")
                if c is None:
                    bad = np.flatnonzero(col == u)
                    for i in bad[:20]:
                        problems.append(
                            Problem(
                                table.path,
                                int(table.lines[i]),
                                f["name"],
                                f"{u!r} is not {'an integer' if kind == 'integer' else 'a number'};"
                                " fix it by hand",
                            )
                        )
                    c = s
                s = c
            out.append(s)
        cols.append(np.array(out, dtype=object)[codes] if len(codes) else np.empty(0, dtype=object))
    if problems:
        return None, sorted(problems)
    order = _sort_order(
        cols,
        [names.index(k) for k in primary_key if k in names],
        [fields[names.index(k)].get("type", "string") for k in primary_key if k in names],
    )
    rows = zip(*(c[order] for c in cols), strict=True) if len(order) else iter(())
    return to_csv_text(names, rows), []


def _sort_order(cols: list[np.ndarray], key_idx: list[int], kinds: list[str]) -> np.ndarray:
    n = len(cols[0]) if cols else 0
    if not key_idx or n == 0:
        return np.arange(n)
    keys = []
    for j, kind in zip(key_idx, kinds, strict=True):
        if kind in ("integer", "number"):
            keys.append([Decimal(v) if v else Decimal("-Infinity") for v in cols[j]])
        else:
            keys.append(list(cols[j]))
    return np.array(sorted(range(n), key=lambda i: tuple(k[i] for k in keys)), dtype=np.int64)


def table_text(resource: dict, rows: Sequence[dict[str, str]]) -> tuple[str | None, list[Problem]]:
    """The canonical text of a resource's file holding ``rows`` (dicts of cell text; a missing field is
    empty), or ``None`` and the problems that make it impossible (cells of a numeric field that are not
    numbers)."""
    schema = resource["schema"]
    names = [f["name"] for f in schema["fields"]]
    columns = [np.array([r.get(n, "") for r in rows], dtype=object) for n in names]
    table = RawTable(resource_path(resource), names, columns, np.arange(2, len(rows) + 2, dtype=np.int64))
    return canonical_text(table, schema["fields"], schema.get("primaryKey") or names[:1])


def format_tree(root: str | Path) -> tuple[dict[str, str], list[Problem]]:
    """The canonical text of every CSV file that would change (relative path -> text), or the problems that
    make formatting unsafe. Writes nothing."""
    root = Path(root)
    package, problems = load_descriptor(root)
    if package is None:
        return {}, problems
    problems = list(problems)
    changes: dict[str, str] = {}
    for res in package["resources"]:
        relpath = resource_path(res)
        path = root / relpath
        raw, read_problems = read_table(path, relpath, fast=False)
        if raw is None:
            problems += read_problems
            continue
        text, fmt_problems = canonical_text(raw, res["schema"]["fields"], res["schema"].get("primaryKey", []))
        if text is None:
            problems += fmt_problems
            continue
        if path.read_bytes() != text.encode("utf-8"):
            changes[relpath] = text
    return changes, sorted(set(problems))
