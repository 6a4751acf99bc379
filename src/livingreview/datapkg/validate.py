"""``livingreview validate``: check ``data/`` and ``references.bib``; never modifies a file.

Every check is driven by ``data/datapackage.json`` (column order, types and constraints), plus the
cross-field rules of the review that a Table Schema cannot express. All problems are reported at once as
``path:line:column: message``; a problem that makes a whole file or column unusable is reported once, not on
every row. Checks run column-wise on factorised values (pandas/numpy), so 100k rows take well under a second.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from livingreview.datapkg.bibfile import BibFile, bib_problems, load_bib
from livingreview.datapkg.csvfile import _CANONICAL_RE, Problem, RawTable, canonical_number, read_table
from livingreview.datapkg.selection_rules import check_selection

__all__ = [
    "CheckedTable",
    "Problem",
    "add_arguments",
    "check_package",
    "load_descriptor",
    "run",
    "summary_line",
    "validate_tree",
]

DATA_DIR = "data"
DESCRIPTOR = "datapackage.json"
BIBFILE = "references.bib"
DESCRIPTOR_PATH = f"{DATA_DIR}/{DESCRIPTOR}"
TYPES = ("string", "integer", "number")
# Labels for the summary line; other resources are counted by their name.
LABELS = {"cases": "case groups", "outcomes": "outcome measures"}
MAX_DAILY_DOSE = 2.5  # g/kg/day
MAX_CYCLE_DOSE = 3.0  # g/kg per cycle


# ---------------------------------------------------------------------------------------------- descriptor


def _line_in(text: str, needle: str) -> int:
    pos = text.find(needle)
    return text.count("\n", 0, pos) + 1 if pos >= 0 else 1


def load_descriptor(root: str | Path) -> tuple[dict | None, list[Problem]]:
    """The parsed, sanity-checked descriptor, or ``None`` and why it cannot be used."""
    path = Path(root) / DATA_DIR / DESCRIPTOR
    problems: list[Problem] = []

    def bad(message: str, line: int = 1) -> tuple[None, list[Problem]]:
        return None, [Problem(DESCRIPTOR_PATH, line, "", message)]

    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        return bad("file is missing; it describes the data files and their schema")
    except UnicodeDecodeError as exc:
        return bad(f"is not valid UTF-8 ({exc.reason} at byte {exc.start})")
    except OSError as exc:
        return bad(f"cannot be read ({exc.strerror or exc})")
    try:
        package = json.loads(text)
    except json.JSONDecodeError as exc:
        return bad(f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", exc.lineno)
    except RecursionError:
        return bad("is not valid JSON (nested too deeply)")
    if not isinstance(package, dict) or not isinstance(package.get("resources"), list):
        return bad("must be a JSON object with a 'resources' list")
    resources = []
    for i, res in enumerate(package["resources"]):
        if (
            not isinstance(res, dict)
            or not isinstance(res.get("name"), str)
            or not isinstance(res.get("path"), str)
        ):
            problems.append(Problem(DESCRIPTOR_PATH, 1, "", f"resource {i + 1} needs a 'name' and a 'path'"))
            continue
        name = res["name"]
        line = _line_in(text, f'"name": "{name}"')
        fields = res.get("schema", {}).get("fields") if isinstance(res.get("schema"), dict) else None
        if (
            not isinstance(fields, list)
            or not fields
            or not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in fields)
        ):
            problems.append(
                Problem(
                    DESCRIPTOR_PATH,
                    line,
                    "",
                    f"resource '{name}' needs schema.fields, a list of objects with a 'name'",
                )
            )
            continue
        if "/" in res["path"].replace("\\", "/") or res["path"].startswith("."):
            problems.append(
                Problem(
                    DESCRIPTOR_PATH,
                    line,
                    "",
                    f"resource '{name}' path {res['path']!r} must be a file name inside data/",
                )
            )
            continue
        seen = set()
        clean = []
        for f in fields:
            fline = _line_in(text, f'"name": "{f["name"]}"')
            if f["name"] in seen:
                problems.append(
                    Problem(
                        DESCRIPTOR_PATH, fline, "", f"resource '{name}' declares field '{f['name']}' twice"
                    )
                )
                continue
            seen.add(f["name"])
            f = dict(f)
            if f.get("type", "string") not in TYPES:
                problems.append(
                    Problem(
                        DESCRIPTOR_PATH,
                        fline,
                        "",
                        f"field '{f['name']}' has type {f.get('type')!r}; supported: " + ", ".join(TYPES),
                    )
                )
                f["type"] = "string"
            cons = f.get("constraints")
            cons = dict(cons) if isinstance(cons, dict) else {}
            if "pattern" in cons:
                try:
                    re.compile(str(cons["pattern"]))
                except re.error as exc:
                    problems.append(
                        Problem(
                            DESCRIPTOR_PATH, fline, "", f"field '{f['name']}' has an invalid pattern ({exc})"
                        )
                    )
                    del cons["pattern"]
            f["constraints"] = cons
            clean.append(f)
        schema = dict(res["schema"])
        schema["fields"] = clean
        pk = schema.get("primaryKey", [])
        schema["primaryKey"] = (
            [pk] if isinstance(pk, str) else [k for k in pk if k in seen] if isinstance(pk, list) else []
        )
        resources.append({**res, "schema": schema})
    return {**package, "resources": resources}, problems


# ---------------------------------------------------------------------------------------------- tables


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

    def x(self, name: str) -> np.ndarray:
        return self.numbers[name] if name in self.numbers else np.full(self.n, np.nan)


def _num(x: float) -> str:
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


def _column_messages(f: dict, u: str) -> tuple[list[str], str, float, bool]:
    """Messages for one distinct raw cell value; returns (messages, stripped, number, ok)."""
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
            msgs.append(f"{_num(value)} is below the minimum {_num(lo)} for {name}")
            ok = False
        if isinstance(hi, int | float) and value > hi:
            msgs.append(f"{_num(value)} is above the maximum {_num(hi)} for {name}")
            ok = False
    return msgs, s, value, ok


def _clean_values(f: dict, uniques: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised pre-check of a column's distinct values: ``clean[i]`` is True only when
    ``_column_messages`` would find nothing wrong with ``uniques[i]`` (the others go through it), and
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
        canon = np.fromiter(map(bool, map(_CANONICAL_RE.fullmatch, uniques)), dtype=bool, count=k)
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
        full &= _isin(uniques, [str(e) for e in cons["enum"]])
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


def _check_table(name: str, raw: RawTable, schema: dict, problems: list[Problem]) -> CheckedTable:
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
                msgs, stripped[i], values[i], ok[i] = _column_messages(f, uniques[i])
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


# ---------------------------------------------------------------------------------------------- rules


class _Flagger:
    def __init__(self, table: CheckedTable, problems: list[Problem]):
        self.t, self.problems = table, problems

    def __call__(self, mask: np.ndarray, column: str, message: Callable[[int], str]) -> None:
        for r in np.flatnonzero(mask):
            self.problems.append(Problem(self.t.path, int(self.t.lines[r]), column, message(int(r))))


def _isin(values: np.ndarray, allowed) -> np.ndarray:
    """Hash-based membership (``np.isin`` sorts object arrays, far too slowly for 100k strings)."""
    return pd.Series(values, dtype=object).isin(pd.Index(list(allowed), dtype=object)).to_numpy(dtype=bool)


def _check_foreign_keys(tables: dict[str, CheckedTable], problems: list[Problem]) -> None:
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
                bad = (vals != "") & ~_isin(vals, target.s(ref_cols[0]))
            else:
                have = set(zip(*(target.s(c) for c in ref_cols), strict=True))
                given = list(zip(*(table.s(c) for c in cols), strict=True))
                bad = np.array([all(v) and v not in have for v in given], dtype=bool)
            _Flagger(table, problems)(
                bad,
                cols[0],
                lambda r, cols=cols, target=target, ref_cols=ref_cols, table=table: (
                    f"{', '.join(repr(table.s(c)[r]) for c in cols)} is not a {', '.join(ref_cols)} "
                    f"in {target.path}"
                ),
            )


def _check_references(tables: dict[str, CheckedTable], bib: BibFile, problems: list[Problem]) -> None:
    if bib.errors:
        return  # the .bib file itself is reported; do not repeat it on every row
    keys = np.array(sorted(bib.keys), dtype=object)
    for table in tables.values():
        for col in ("source", "via", "bib_key"):
            if col not in table.strings:
                continue
            vals = table.s(col)
            bad = (vals != "") & ~_isin(vals, keys)
            _Flagger(table, problems)(
                bad, col, lambda r, vals=vals: f"{vals[r]!r} is not a key in references.bib"
            )


def _check_cases(t: CheckedTable, bib: BibFile, problems: list[Problem]) -> None:
    flag = _Flagger(t, problems)
    x, s = t.x, t.s
    n = x("n_patients")
    r = x("n_responders")
    flag(
        r > n,
        "n_responders",
        lambda i: (
            f"{_num(r[i])} responders but n_patients is {_num(n[i])} (responders cannot exceed patients)"
        ),
    )

    def sum_rule(cols: list[str], what: str) -> None:
        vals = np.stack([x(c) for c in cols])
        given = ~np.isnan(vals).all(axis=0)
        total = np.nansum(vals, axis=0)
        flag(
            given & (total > n),
            cols[0],
            lambda i: (
                " + ".join(cols) + f" = {_num(total[i])} but n_patients is "
                f"{_num(n[i])} ({what} cannot exceed patients)"
            ),
        )

    sum_rule(["n_improved", "n_stable", "n_worsened"], "improved, stable and worsened together")
    sum_rule(["n_complete", "n_partial"], "complete and partial responses together")
    sum_rule(["n_male", "n_female"], "men and women together")
    for col in ("n_relapsed", "n_with_adverse_events", "n_serious_adverse_events", "n_thrombophilic"):
        v = x(col)
        flag(
            v > n,
            col,
            lambda i, v=v, col=col: (
                f"{col} is {_num(v[i])} but n_patients is {_num(n[i])} (cannot exceed patients)"
            ),
        )
    sae, ae = x("n_serious_adverse_events"), x("n_with_adverse_events")
    flag(
        sae > ae,
        "n_serious_adverse_events",
        lambda i: (
            f"{_num(sae[i])} patients with serious adverse events but "
            f"only {_num(ae[i])} with any adverse event"
        ),
    )
    age, amin, amax = x("age_years"), x("age_min"), x("age_max")
    flag(amin > age, "age_years", lambda i: f"age_years {_num(age[i])} is below age_min {_num(amin[i])}")
    flag(age > amax, "age_years", lambda i: f"age_years {_num(age[i])} is above age_max {_num(amax[i])}")
    for stem in ("age", "dose_g_kg", "days_per_cycle", "interval_weeks", "cycles"):
        lo, hi = x(f"{stem}_min"), x(f"{stem}_max")
        flag(
            lo > hi,
            f"{stem}_min",
            lambda i, lo=lo, hi=hi, stem=stem: (
                f"{stem}_min {_num(lo[i])} is greater than {stem}_max {_num(hi[i])} (swap them?)"
            ),
        )
    cmin, cmed, cmax = x("cycles_min"), x("cycles_median"), x("cycles_max")
    flag(
        (cmed < cmin) | (cmed > cmax),
        "cycles_median",
        lambda i: (
            f"cycles_median {_num(cmed[i])} is outside cycles_min..cycles_max "
            f"({_num(cmin[i])}..{_num(cmax[i])})"
        ),
    )
    if t.has("age_stat", "age_years"):
        stat, age_given = s("age_stat"), ~np.isnan(age) | (s("age_years") != "")
        flag(
            age_given & (stat == ""),
            "age_stat",
            lambda i: "age_years is given, so age_stat must say what it is (value, mean or median)",
        )
        flag(
            ~age_given & (stat != ""),
            "age_stat",
            lambda i: f"age_stat is {stat[i]!r} but age_years is empty; leave age_stat empty too",
        )
        flag(
            (stat == "value") & (n != 1) & ~np.isnan(n),
            "age_stat",
            lambda i: (
                f"age_stat 'value' is for a single patient, but n_patients is {_num(n[i])}; "
                "use mean or median"
            ),
        )
    dmax, dmin, days = x("dose_g_kg_max"), x("dose_g_kg_min"), x("days_per_cycle_min")
    with np.errstate(divide="ignore", invalid="ignore"):
        daily = dmax / days
    flag(
        daily > MAX_DAILY_DOSE,
        "dose_g_kg_max",
        lambda i: (
            f"daily dose {_num(round(daily[i], 3))} g/kg/day (dose_g_kg_max {_num(dmax[i])} "
            f"over days_per_cycle_min "
            f"{_num(days[i])}) is above {MAX_DAILY_DOSE} g/kg/day; check dose and days"
        ),
    )
    for col, v in (("dose_g_kg_min", dmin), ("dose_g_kg_max", dmax)):
        flag(
            v > MAX_CYCLE_DOSE,
            col,
            lambda i, v=v: (
                f"{_num(v[i])} g/kg per cycle is above {_num(MAX_CYCLE_DOSE)} g/kg; "
                "check the dose (per cycle, not in "
                "total?)"
            ),
        )
    year = x("year")
    this_year = datetime.date.today().year
    flag(year > this_year, "year", lambda i: f"year {_num(year[i])} is in the future (it is {this_year})")
    if t.has("case_id", "disease", "source"):
        cid, dis, src = s("case_id"), s("disease"), s("source")
        usable = t.valid["case_id"] & t.valid["disease"] & t.valid["source"]
        stem = np.array([c[:-3] for c in cid], dtype=object) if len(cid) else cid
        expected = dis + "-" + src if len(cid) else cid
        flag(
            usable & (stem != expected),
            "case_id",
            lambda i: (
                f"{cid[i]!r} does not match disease {dis[i]!r} and source {src[i]!r}; expected "
                f"'{expected[i]}-NN'"
            ),
        )
    if t.has("via", "source"):
        via, src = s("via"), s("source")
        flag(
            (via != "") & (via == src),
            "via",
            lambda i: (
                f"via is the same as source ({via[i]!r}); "
                "leave via empty when the row comes from the report itself"
            ),
        )
    for col in ("steroid_mg_day_before", "steroid_mg_day_after"):
        v = x(col)
        if "steroid_drug" in t.strings:
            flag(
                ~np.isnan(v) & (s("steroid_drug") == ""),
                "steroid_drug",
                lambda i, col=col: f"{col} is given, so steroid_drug must name the corticosteroid",
            )
    if "source" in t.strings and t.n:
        _check_sources(t, bib, flag)
    _check_duplicate_rows(t, flag)


def _check_sources(t: CheckedTable, bib: BibFile, flag: _Flagger) -> None:
    src = t.s("source")
    frame = pd.DataFrame({"source": src, "line": t.lines})
    first_line = frame.groupby("source", sort=False)["line"].transform("first").to_numpy()
    for col in ("year", "design", "country"):
        if col not in t.strings:
            continue
        vals = t.s(col)
        frame[col] = vals
        first = frame.groupby("source", sort=False)[col].transform("first").to_numpy()
        flag(
            vals != first,
            col,
            lambda i, vals=vals, first=first, col=col: (
                f"{col} {vals[i]!r} differs from {first[i]!r} on line {first_line[i]} "
                "(the first row of source "
                f"{src[i]!r}); all rows of one source must agree"
            ),
        )
    if t.has("design", "n_patients"):
        frame["n"] = t.x("n_patients")
        total = frame.groupby("source", sort=False)["n"].transform("sum").to_numpy()
        is_first = t.lines == first_line
        flag(
            is_first & (t.s("design") == "case_report") & (total != 1),
            "design",
            lambda i: (
                f"source {src[i]!r} is a case_report but its rows add up to {_num(total[i])} patients; use "
                "case_series, or correct n_patients"
            ),
        )
    if "year" in t.strings and not bib.errors:
        bib_year = {k: e.year for k, e in bib.entries.items()}
        expected = pd.Series(src).map(bib_year).to_numpy(dtype=float, na_value=np.nan)
        year = t.x("year")
        flag(
            ~np.isnan(expected) & ~np.isnan(year) & (year != expected),
            "year",
            lambda i: f"year {_num(year[i])} but references.bib gives {_num(expected[i])} for {src[i]!r}",
        )


def _check_duplicate_rows(t: CheckedTable, flag: _Flagger) -> None:
    cols = [c for c in t.codes if c != "case_id"]
    if t.n < 2 or not cols:
        return
    h = np.zeros(t.n, dtype=np.uint64)
    for c in cols:
        h = h * np.uint64(1_000_003) ^ t.codes[c].astype(np.uint64)
    dup = pd.Series(h).duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    first: dict[tuple, int] = {}
    bad = np.zeros(t.n, dtype=bool)
    of = np.zeros(t.n, dtype=np.int64)
    for r in np.flatnonzero(dup):
        key = tuple(t.strings[c][r] for c in cols)
        if key in first:
            bad[r], of[r] = True, t.lines[first[key]]
        else:
            first[key] = r
    flag(bad, "", lambda i: f"duplicate of line {of[i]} (identical in every column except case_id)")


def _check_outcomes(o: CheckedTable, cases: CheckedTable | None, problems: list[Problem]) -> None:
    flag = _Flagger(o, problems)
    x, s = o.x, o.s
    stat, tp = s("statistic"), s("timepoint")
    sd, value, n = x("sd"), x("value"), x("n")
    flag(
        ~np.isnan(sd) & (stat != "mean") & (stat != ""),
        "sd",
        lambda i: f"sd is given but statistic is {stat[i]!r}; an sd belongs to a mean only",
    )
    flag((stat == "percent") & (value > 100), "value", lambda i: f"{_num(value[i])} percent is above 100")
    if "value" in o.numbers:
        flag(
            (stat == "count") & ~np.isnan(value) & (value != np.floor(value)),
            "value",
            lambda i: f"a count must be a whole number, not {_num(value[i])}",
        )
    flag(
        (stat == "count") & (value > n),
        "value",
        lambda i: f"count {_num(value[i])} is more than n {_num(n[i])}",
    )
    if "p_value" in o.strings:
        p = s("p_value")
        flag(
            (p != "") & (tp != "after") & (tp != ""),
            "p_value",
            lambda i: f"p_value belongs on the 'after' row, but this row's timepoint is {tp[i]!r}",
        )
    key = [c for c in ("source", "case_id", "arm", "measure", "timepoint") if c in o.strings]
    if len(key) == 5 and o.n > 1:
        frame = pd.DataFrame({c: s(c) for c in key})
        dup = frame.duplicated(keep="first").to_numpy()
        if dup.any():
            firsts = {}
            for r in range(o.n):
                k = tuple(frame.iloc[r])
                if dup[r]:
                    flag(
                        np.arange(o.n) == r,
                        "measure",
                        lambda i, k=k: (
                            f"same source, case_id, arm, measure and timepoint as line {firsts[k]}; "
                            "merge or rename the "
                            "measure"
                        ),
                    )
                else:
                    firsts.setdefault(k, int(o.lines[r]))
    if cases is None or not cases.has("source", "case_id", "disease") or not o.has("source"):
        return
    # only the case rows that outcomes refer to matter for the lookups (cases.csv may be large)
    referred = _isin(cases.s("case_id"), o.s("case_id"))
    c_id, c_src, c_dis = (cases.s(c)[referred] for c in ("case_id", "source", "disease"))
    case_src = dict(zip(c_id, c_src, strict=True))
    case_dis = dict(zip(c_id, c_dis, strict=True))
    pairs = pd.DataFrame({"s": cases.s("source"), "d": cases.s("disease")}).drop_duplicates()
    src_dis: dict[str, set[str]] = {}
    for src_, dis_ in zip(pairs["s"], pairs["d"], strict=True):
        src_dis.setdefault(src_, set()).add(dis_)
    src, cid, oid = s("source"), s("case_id"), s("outcome_id")
    srcvalid = o.valid.get("source", np.ones(o.n, dtype=bool))
    flag(
        srcvalid & (src != "") & ~_isin(src, list(src_dis)),
        "source",
        lambda i: f"source {src[i]!r} has no rows in {cases.path}; add its case groups first",
    )
    for i in range(o.n):
        if cid[i] and cid[i] in case_src and src[i] and case_src[cid[i]] != src[i]:
            flag(
                np.arange(o.n) == i,
                "case_id",
                lambda i: f"case {cid[i]!r} belongs to source {case_src[cid[i]]!r}, not {src[i]!r}",
            )
        if "outcome_id" in o.strings and oid[i] and o.valid["outcome_id"][i] and src[i]:
            diseases = {case_dis[cid[i]]} if cid[i] in case_dis else src_dis.get(src[i], set())
            if diseases and not any(oid[i].startswith(f"{d}-{src[i]}-") for d in diseases):
                want = " or ".join(f"'{d}-{src[i]}-'" for d in sorted(diseases))
                flag(
                    np.arange(o.n) == i,
                    "outcome_id",
                    lambda i, want=want: (
                        f"{oid[i]!r} must start with {want} "
                        "(disease code of the source's cases and the source)"
                    ),
                )


# ---------------------------------------------------------------------------------------------- entry points


def check_package(root: str | Path) -> tuple[list[Problem], dict | None, dict[str, CheckedTable], BibFile]:
    """All problems, plus what was loaded (for summaries)."""
    root = Path(root)
    problems: list[Problem] = []
    package, descriptor_problems = load_descriptor(root)
    problems += descriptor_problems
    bib = load_bib(root / BIBFILE, BIBFILE)
    problems += bib_problems(bib)
    tables: dict[str, CheckedTable] = {}
    if package is not None:
        for res in package["resources"]:
            relpath = f"{DATA_DIR}/{res['path']}"
            raw, read_problems = read_table(root / DATA_DIR / res["path"], relpath)
            problems += read_problems
            if raw is not None:
                tables[res["name"]] = _check_table(res["name"], raw, res["schema"], problems)
        _check_foreign_keys(tables, problems)
        _check_references(tables, bib, problems)
        if "cases" in tables:
            _check_cases(tables["cases"], bib, problems)
        if "outcomes" in tables:
            _check_outcomes(tables["outcomes"], tables.get("cases"), problems)
        check_selection(tables, problems)
        if not problems and "screening" in tables:
            from livingreview.evidence.prisma import flow_problems

            problems += [Problem(tables["screening"].path, 1, "", m) for m in flow_problems(root)]
    return sorted(set(problems)), package, tables, bib


def validate_tree(root: str | Path) -> list[Problem]:
    """Every problem in ``data/`` and ``references.bib`` under ``root``, sorted by path and line. Never raises
    for bad input, never writes."""
    return check_package(root)[0]


def summary_line(package: dict, tables: dict[str, CheckedTable], bib: BibFile) -> str:
    parts = [
        f"{tables[r['name']].n} {LABELS.get(r['name'], r['name'])}"
        for r in package["resources"]
        if r["name"] in tables
    ]
    parts.append(f"{len(bib.entries)} references")
    return f"{DATA_DIR}/ OK: {', '.join(parts)}, version {package.get('version', '?')}"


def add_arguments(parser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing when everything is fine")


def run(args) -> int:
    problems, package, tables, bib = check_package(args.root)
    if problems:
        for p in problems:
            print(p)
        files = len({p.path for p in problems})
        print(f"{len(problems)} problem{'s' * (len(problems) != 1)} in {files} file{'s' * (files != 1)}")
        return 1
    if not getattr(args, "quiet", False) and package is not None:
        print(summary_line(package, tables, bib))
    return 0
