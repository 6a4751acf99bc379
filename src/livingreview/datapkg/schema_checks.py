"""What a Table Schema says, checked on the data files: header, cell types and constraints, uniqueness, sort
order of the primary key, foreign keys, and keys of ``references.bib``.

Checks run column-wise on factorised values (pandas/numpy): each distinct cell value is checked once, so 100k
rows take well under a second. A problem that makes a whole column unusable is reported once, not on every
row. ``check_table`` returns the ``CheckedTable`` the review rules work on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from livingreview.datapkg.bibfile import BibFile
from livingreview.datapkg.canonical_form import CANONICAL_NUMBER, canonical_number
from livingreview.datapkg.csvfile import RawTable
from livingreview.datapkg.problems import Problem

__all__ = [
    "CheckedTable",
    "Flagger",
    "cell_messages",
    "cell_problems",
    "check_foreign_keys",
    "check_references",
    "check_table",
    "isin",
    "number_text",
]


@dataclass
class CheckedTable:
    """A resource after the column checks: per field, the stripped strings and (numeric fields) the values."""

    name: str
    path: str
    raw: RawTable
    schema: dict
    strings: dict[str, np.ndarray] = field(default_factory=dict)
    numbers: dict[str, np.ndarray] = field(default_factory=dict)
    valid: dict[str, np.ndarray] = field(default_factory=dict)  # cell passed its type/constraint checks
    codes: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.raw.nrows

    @property
    def lines(self) -> np.ndarray:
        return self.raw.lines

    def has(self, *names: str) -> bool:
        return all(name in self.strings for name in names)

    def s(self, name: str) -> np.ndarray:
        return self.strings[name] if name in self.strings else np.full(self.n, "", dtype=object)

    def frame(self) -> pd.DataFrame:
        """The table's stripped strings, numeric columns as the values the checks parsed, and ``_line``."""
        frame = pd.DataFrame({name: self.s(name) for name in self.strings})
        for name in self.numbers:
            frame[name] = self.x(name)
        frame["_line"] = self.lines
        return frame

    def x(self, name: str) -> np.ndarray:
        return self.numbers[name] if name in self.numbers else np.full(self.n, np.nan)


def number_text(x: float) -> str:
    """A number as messages show it: ``2`` for a whole number, else its shortest repr (``2.5``)."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _short(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _check_header(raw: RawTable, names: list[str]) -> list[Problem]:
    out = []
    counts: dict[str, int] = {}
    for h in raw.header:
        counts[h] = counts.get(h, 0) + 1
    for h, c in counts.items():
        if c > 1:
            out.append(Problem(raw.path, 1, h, f"column '{h}' appears {c} times in the header; keep one"))
    unknown = [h for h in counts if h not in names]
    for h in unknown:
        near = [n for n in names if n.lower() == h.strip().lower()]
        hint = (
            f" (did you mean '{near[0]}'?)"
            if near
            else " (not in data/datapackage.json); rename or remove it"
        )
        out.append(Problem(raw.path, 1, h, f"unknown column {h!r}{hint}"))
    missing = [n for n in names if n not in counts]
    for n in missing:
        out.append(Problem(raw.path, 1, n, f"column '{n}' is missing from the header"))
    if not out and raw.header != names:
        out.append(
            Problem(
                raw.path,
                1,
                "",
                "columns are not in schema order (data/datapackage.json); run `livingreview fmt`",
            )
        )
    return out


def cell_problems(spec: dict, value: str) -> list[str]:
    """What is wrong with one cell value of a field (whitespace, type, enum, pattern, length, range); [] when
    nothing is. The same check ``livingreview validate`` applies, so a prompt and the validator agree."""
    return cell_messages({**spec, "constraints": spec.get("constraints") or {}}, value)[0]


def cell_messages(f: dict, u: str) -> tuple[list[str], str, float, bool]:
    """Messages for one distinct raw cell value of field ``f`` (constraints already a dict); returns
    (messages, stripped value, number or NaN, passed its type and constraint checks)."""
    name, kind, cons = f["name"], f.get("type", "string"), f["constraints"]
    msgs = []
    s = u.strip()
    if s != u:
        msgs.append(f"leading or trailing whitespace in {_short(u)}; remove it (run `livingreview fmt`)")
    if s == "":
        if cons.get("required"):
            msgs.append(f"{name} is required but empty")
            return msgs, s, np.nan, False
        return msgs, s, np.nan, True
    value = np.nan
    if kind in ("integer", "number"):
        c = canonical_number(s, integer=kind == "integer")
        if c is None:
            if kind == "integer" and canonical_number(s) is not None:
                msgs.append(f"{_short(s)} is not a whole number ({name} is an integer)")
            elif re.fullmatch(r"[+-]?\d+,\d+", s):
                msgs.append(f"{_short(s)} is not a number (use '.' as the decimal separator)")
            else:
                msgs.append(f"{_short(s)} is not {'an integer' if kind == 'integer' else 'a number'}")
            return msgs, s, np.nan, False
        if c != s:
            msgs.append(f"{_short(s)} is not in canonical form; write '{c}' (run `livingreview fmt`)")
        value = float(c)
    ok = True
    if "enum" in cons and isinstance(cons["enum"], list):
        allowed = [str(e) for e in cons["enum"]]
        probe = canonical_number(s) if kind != "string" else s
        if probe not in allowed:
            near = [e for e in allowed if e.lower() == s.lower()]
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            msgs.append(f"{_short(s)} is not one of {', '.join(allowed)}{hint}")
            ok = False
    if "pattern" in cons and kind == "string" and not re.fullmatch(str(cons["pattern"]), s):
        example = f"; for example '{f['example']}'" if isinstance(f.get("example"), str) else ""
        msgs.append(f"{_short(s)} does not match the pattern {cons['pattern']}{example}")
        ok = False
    if isinstance(cons.get("minLength"), int) and len(s) < cons["minLength"]:
        msgs.append(f"{_short(s)} is {len(s)} characters long; {name} needs at least {cons['minLength']}")
        ok = False
    if isinstance(cons.get("maxLength"), int) and len(s) > cons["maxLength"]:
        msgs.append(f"{name} is {len(s)} characters long; the maximum is {cons['maxLength']}")
        ok = False
    if kind != "string":
        lo, hi = cons.get("minimum"), cons.get("maximum")
        if isinstance(lo, int | float) and value < lo:
            msgs.append(f"{number_text(value)} is below the minimum {number_text(lo)} for {name}")
            ok = False
        if isinstance(hi, int | float) and value > hi:
            msgs.append(f"{number_text(value)} is above the maximum {number_text(hi)} for {name}")
            ok = False
    return msgs, s, value, ok


def _clean_values(f: dict, uniques: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised pre-check of a column's distinct values: ``clean[i]`` is True only when
    ``cell_messages`` would find nothing wrong with ``uniques[i]`` (the others go through it), and
    ``values`` holds the numbers of the clean values of a numeric field (NaN elsewhere)."""
    kind, cons = f.get("type", "string"), f["constraints"]
    k = len(uniques)
    values = np.full(k, np.nan)
    if not k:
        return np.ones(0, dtype=bool), values
    lengths = np.fromiter(map(len, uniques), dtype=np.int64, count=k)
    clean = np.fromiter(map(str.__eq__, uniques, map(str.strip, uniques)), dtype=bool, count=k)
    empty = lengths == 0
    full = ~empty
    if kind in ("integer", "number"):
        canon = np.fromiter(map(bool, map(CANONICAL_NUMBER.fullmatch, uniques)), dtype=bool, count=k)
        canon &= uniques != "-0"
        if kind == "integer":
            canon &= np.fromiter(("." not in u for u in uniques), dtype=bool, count=k)
        full &= canon
        values[full] = uniques[full].astype(float)
        lo, hi = cons.get("minimum"), cons.get("maximum")
        with np.errstate(invalid="ignore"):
            if isinstance(lo, int | float):
                full &= ~(values < lo)
            if isinstance(hi, int | float):
                full &= ~(values > hi)
    if "enum" in cons and isinstance(cons["enum"], list):
        full &= isin(uniques, [str(e) for e in cons["enum"]])
    if "pattern" in cons and kind == "string":
        pattern = re.compile(str(cons["pattern"]))
        test = np.flatnonzero(full)
        full[test] = np.fromiter(
            map(bool, map(pattern.fullmatch, uniques[test])), dtype=bool, count=len(test)
        )
    if isinstance(cons.get("minLength"), int):
        full &= lengths >= cons["minLength"]
    if isinstance(cons.get("maxLength"), int):
        full &= lengths <= cons["maxLength"]
    clean &= full | (empty & (not cons.get("required")))
    values[~clean] = np.nan
    return clean, values


def check_table(name: str, raw: RawTable, schema: dict, problems: list[Problem]) -> CheckedTable:
    """Check one resource's parsed file against its schema; append the problems, return the checked table."""
    fields = schema["fields"]
    names = [f["name"] for f in fields]
    problems += raw.problems()
    problems += _check_header(raw, names)
    position: dict[str, int] = {}
    for j, h in enumerate(raw.header):
        position.setdefault(h, j)
    table = CheckedTable(name, raw.path, raw, schema)
    lines = raw.lines
    for f in fields:
        col_name = f["name"]
        if col_name not in position:
            continue
        j = position[col_name]
        codes, uniques = raw.factorize(j)
        k = len(uniques)
        clean, values = _clean_values(f, uniques)
        ok = np.ones(k, dtype=bool)
        stripped = uniques
        messages: dict[int, list[str]] = {}
        unclean = np.flatnonzero(~clean)
        if len(unclean):
            stripped = uniques.copy()
            for i in unclean.tolist():
                msgs, stripped[i], values[i], ok[i] = cell_messages(f, uniques[i])
                if msgs:
                    messages[i] = msgs
        if messages:
            flagged = np.zeros(k, dtype=bool)
            flagged[list(messages)] = True
            for r in np.flatnonzero(flagged[codes]):
                for msg in messages[codes[r]]:
                    problems.append(Problem(raw.path, int(lines[r]), col_name, msg))
        if not len(codes):
            table.strings[col_name] = np.empty(0, dtype=object)
        elif stripped is uniques:
            table.strings[col_name] = raw.columns[j]  # every cell is already as it should be
        else:
            table.strings[col_name] = stripped[codes]
        table.valid[col_name] = ok[codes] if len(codes) else np.empty(0, dtype=bool)
        table.codes[col_name] = codes
        if f.get("type") in ("integer", "number"):
            table.numbers[col_name] = values[codes] if len(codes) else np.empty(0)
        if f["constraints"].get("unique"):
            _check_unique(table, [col_name], problems, f"{col_name} must be unique")
    pk = schema.get("primaryKey", [])
    if pk and table.has(*pk):
        single_unique = len(pk) == 1 and next(f for f in fields if f["name"] == pk[0])["constraints"].get(
            "unique"
        )
        for key in pk:
            fdef = next(f for f in fields if f["name"] == key)
            if not fdef["constraints"].get("required"):
                for r in np.flatnonzero(table.s(key) == ""):
                    problems.append(
                        Problem(
                            raw.path,
                            int(lines[r]),
                            key,
                            f"{key} is part of the primary key and must not be empty",
                        )
                    )
        if not single_unique:
            _check_unique(table, pk, problems, "the primary key (" + ", ".join(pk) + ") must be unique")
        _check_sorted(table, pk, schema, problems)
    return table


def _check_unique(table: CheckedTable, cols: list[str], problems: list[Problem], why: str) -> None:
    frame = pd.DataFrame({c: table.s(c) for c in cols})
    nonempty = np.ones(table.n, dtype=bool)
    for c in cols:
        nonempty &= table.s(c) != ""
    if not nonempty.any():
        return
    dup = frame.duplicated(keep="first").to_numpy() & nonempty
    if not dup.any():
        return
    first: dict[tuple, int] = {}
    bad = set(np.flatnonzero(dup).tolist())
    for r in range(table.n):
        if nonempty[r]:
            key = tuple(frame.iat[r, j] for j in range(len(cols)))
            if r in bad:
                label = ", ".join(f"{c} {v!r}" for c, v in zip(cols, key, strict=True))
                problems.append(
                    Problem(
                        table.path,
                        int(table.lines[r]),
                        cols[0],
                        f"duplicate {label} (already on line {table.lines[first[key]]}); {why}",
                    )
                )
            else:
                first.setdefault(key, r)


def _check_sorted(table: CheckedTable, pk: list[str], schema: dict, problems: list[Problem]) -> None:
    if table.n < 2:
        return
    kinds = {f["name"]: f.get("type", "string") for f in schema["fields"]}
    if len(pk) == 1 and kinds[pk[0]] == "string":
        keys = table.s(pk[0])
        out_of_order = np.flatnonzero(keys[1:] < keys[:-1])
    else:
        cols = []
        for c in pk:
            cols.append(table.x(c) if kinds[c] != "string" else table.s(c))
        frame = pd.DataFrame({str(i): c for i, c in enumerate(cols)})
        try:
            order = frame.sort_values(list(frame.columns), kind="stable").index.to_numpy()
        except TypeError:
            return
        out_of_order = np.flatnonzero(order != np.arange(table.n))[:1] - 1
        out_of_order = out_of_order[out_of_order >= 0]
    if len(out_of_order):
        r = int(out_of_order[0]) + 1
        label = ", ".join(pk)
        problems.append(
            Problem(
                table.path,
                int(table.lines[r]),
                "",
                f"rows are not sorted by {label}: {table.s(pk[0])[r]!r} comes after "
                f"{table.s(pk[0])[r - 1]!r}; run `livingreview fmt`",
            )
        )


class Flagger:
    """``flag(mask, column, message)``: a problem on each row where ``mask`` is true, worded by
    ``message(row)``."""

    def __init__(self, table: CheckedTable, problems: list[Problem]):
        self.t, self.problems = table, problems

    def __call__(self, mask: np.ndarray, column: str, message: Callable[[int], str]) -> None:
        for r in np.flatnonzero(mask):
            self.problems.append(Problem(self.t.path, int(self.t.lines[r]), column, message(int(r))))


def isin(values: np.ndarray, allowed) -> np.ndarray:
    """Hash-based membership (``np.isin`` sorts object arrays, far too slowly for 100k strings)."""
    return pd.Series(values, dtype=object).isin(pd.Index(list(allowed), dtype=object)).to_numpy(dtype=bool)


def check_foreign_keys(tables: dict[str, CheckedTable], problems: list[Problem]) -> None:
    """Every non-empty foreign key value of every table names a row of the table it refers to."""
    for table in tables.values():
        for fk in table.schema.get("foreignKeys", []) or []:
            try:
                cols = fk["fields"] if isinstance(fk["fields"], list) else [fk["fields"]]
                ref = fk["reference"]
                ref_name = ref.get("resource") or table.name
                ref_cols = ref["fields"] if isinstance(ref["fields"], list) else [ref["fields"]]
            except (KeyError, TypeError, AttributeError):
                continue
            target = tables.get(ref_name)
            if (
                target is None
                or not table.has(*cols)
                or not target.has(*ref_cols)
                or len(cols) != len(ref_cols)
            ):
                continue
            if len(cols) == 1:
                vals = table.s(cols[0])
                bad = (vals != "") & ~isin(vals, target.s(ref_cols[0]))
            else:
                have = set(zip(*(target.s(c) for c in ref_cols), strict=True))
                given = list(zip(*(table.s(c) for c in cols), strict=True))
                bad = np.array([all(v) and v not in have for v in given], dtype=bool)
            Flagger(table, problems)(
                bad,
                cols[0],
                lambda r, cols=cols, target=target, ref_cols=ref_cols, table=table: (
                    f"{', '.join(repr(table.s(c)[r]) for c in cols)} is not a {', '.join(ref_cols)} "
                    f"in {target.path}"
                ),
            )


def check_references(tables: dict[str, CheckedTable], bib: BibFile, problems: list[Problem]) -> None:
    """Every ``source``, ``via`` and ``bib_key`` cell of every table is a key of ``references.bib``."""
    if bib.errors:
        return  # the .bib file itself is reported; do not repeat it on every row
    keys = np.array(sorted(bib.keys), dtype=object)
    for table in tables.values():
        for col in ("source", "via", "bib_key"):
            if col not in table.strings:
                continue
            vals = table.s(col)
            bad = (vals != "") & ~isin(vals, keys)
            Flagger(table, problems)(
                bad, col, lambda r, vals=vals: f"{vals[r]!r} is not a key in references.bib"
            )
