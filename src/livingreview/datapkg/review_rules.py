"""The review's rules for case groups and outcome measures that a Table Schema cannot express: counts that
cannot exceed the patients, consistent ranges and age statistics, plausible IVIG doses, ids built from disease
and source, rows of one source that agree with each other and with ``references.bib``, and outcome rows that
belong to the cases of their source.

Called by ``livingreview.datapkg.validate`` after the schema checks, on the same checked tables, so every
problem is reported as ``path:line:column: message`` like any other.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from livingreview.datapkg.bibfile import BibFile
from livingreview.datapkg.problems import Problem
from livingreview.datapkg.schema_checks import CheckedTable, Flagger, isin, number_text

__all__ = ["MAX_CYCLE_DOSE", "MAX_DAILY_DOSE", "check_cases", "check_outcomes"]

MAX_DAILY_DOSE = 2.5  # g/kg/day
MAX_CYCLE_DOSE = 3.0  # g/kg per cycle


def check_cases(t: CheckedTable, bib: BibFile, problems: list[Problem]) -> None:
    """The rules of ``cases.csv`` (one row per case group)."""
    flag = Flagger(t, problems)
    x, s = t.x, t.s
    n = x("n_patients")
    r = x("n_responders")
    flag(
        r > n,
        "n_responders",
        lambda i: (
            f"{number_text(r[i])} responders but n_patients is {number_text(n[i])} "
            "(responders cannot exceed patients)"
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
                " + ".join(cols) + f" = {number_text(total[i])} but n_patients is "
                f"{number_text(n[i])} ({what} cannot exceed patients)"
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
                f"{col} is {number_text(v[i])} but n_patients is {number_text(n[i])} (cannot exceed patients)"
            ),
        )
    sae, ae = x("n_serious_adverse_events"), x("n_with_adverse_events")
    flag(
        sae > ae,
        "n_serious_adverse_events",
        lambda i: (
            f"{number_text(sae[i])} patients with serious adverse events but "
            f"only {number_text(ae[i])} with any adverse event"
        ),
    )
    age, amin, amax = x("age_years"), x("age_min"), x("age_max")
    flag(
        amin > age,
        "age_years",
        lambda i: f"age_years {number_text(age[i])} is below age_min {number_text(amin[i])}",
    )
    flag(
        age > amax,
        "age_years",
        lambda i: f"age_years {number_text(age[i])} is above age_max {number_text(amax[i])}",
    )
    for stem in ("age", "dose_g_kg", "days_per_cycle", "interval_weeks", "cycles"):
        lo, hi = x(f"{stem}_min"), x(f"{stem}_max")
        flag(
            lo > hi,
            f"{stem}_min",
            lambda i, lo=lo, hi=hi, stem=stem: (
                f"{stem}_min {number_text(lo[i])} is greater than {stem}_max {number_text(hi[i])} "
                "(swap them?)"
            ),
        )
    cmin, cmed, cmax = x("cycles_min"), x("cycles_median"), x("cycles_max")
    flag(
        (cmed < cmin) | (cmed > cmax),
        "cycles_median",
        lambda i: (
            f"cycles_median {number_text(cmed[i])} is outside cycles_min..cycles_max "
            f"({number_text(cmin[i])}..{number_text(cmax[i])})"
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
                f"age_stat 'value' is for a single patient, but n_patients is {number_text(n[i])}; "
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
            f"daily dose {number_text(round(daily[i], 3))} g/kg/day (dose_g_kg_max {number_text(dmax[i])} "
            f"over days_per_cycle_min "
            f"{number_text(days[i])}) is above {MAX_DAILY_DOSE} g/kg/day; check dose and days"
        ),
    )
    for col, v in (("dose_g_kg_min", dmin), ("dose_g_kg_max", dmax)):
        flag(
            v > MAX_CYCLE_DOSE,
            col,
            lambda i, v=v: (
                f"{number_text(v[i])} g/kg per cycle is above {number_text(MAX_CYCLE_DOSE)} g/kg; "
                "check the dose (per cycle, not in "
                "total?)"
            ),
        )
    year = x("year")
    this_year = datetime.date.today().year
    flag(
        year > this_year,
        "year",
        lambda i: f"year {number_text(year[i])} is in the future (it is {this_year})",
    )
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


def _check_sources(t: CheckedTable, bib: BibFile, flag: Flagger) -> None:
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
                f"source {src[i]!r} is a case_report but its rows add up to {number_text(total[i])} "
                "patients; use case_series, or correct n_patients"
            ),
        )
    if "year" in t.strings and not bib.errors:
        bib_year = {k: e.year for k, e in bib.entries.items()}
        expected = pd.Series(src).map(bib_year).to_numpy(dtype=float, na_value=np.nan)
        year = t.x("year")
        flag(
            ~np.isnan(expected) & ~np.isnan(year) & (year != expected),
            "year",
            lambda i: (
                f"year {number_text(year[i])} but references.bib gives {number_text(expected[i])} "
                f"for {src[i]!r}"
            ),
        )


def _check_duplicate_rows(t: CheckedTable, flag: Flagger) -> None:
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


def check_outcomes(o: CheckedTable, cases: CheckedTable | None, problems: list[Problem]) -> None:
    """The rules of ``outcomes.csv`` (group-level measures) and its links to ``cases``."""
    flag = Flagger(o, problems)
    x, s = o.x, o.s
    stat, tp = s("statistic"), s("timepoint")
    sd, value, n = x("sd"), x("value"), x("n")
    flag(
        ~np.isnan(sd) & (stat != "mean") & (stat != ""),
        "sd",
        lambda i: f"sd is given but statistic is {stat[i]!r}; an sd belongs to a mean only",
    )
    flag(
        (stat == "percent") & (value > 100),
        "value",
        lambda i: f"{number_text(value[i])} percent is above 100",
    )
    if "value" in o.numbers:
        flag(
            (stat == "count") & ~np.isnan(value) & (value != np.floor(value)),
            "value",
            lambda i: f"a count must be a whole number, not {number_text(value[i])}",
        )
    flag(
        (stat == "count") & (value > n),
        "value",
        lambda i: f"count {number_text(value[i])} is more than n {number_text(n[i])}",
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
    referred = isin(cases.s("case_id"), o.s("case_id"))
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
        srcvalid & (src != "") & ~isin(src, list(src_dis)),
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
