"""What a chapter of the book shows, computed from ``data/`` at build time.

Chapters stay thin: ``ch = Chapter("LV"); ch.glue()`` makes every number the prose uses available to the
``{glue:text}`` role (names listed by :meth:`Chapter.numbers`), and the ``*_table`` and chart methods return
objects that render themselves. Text from the data is escaped by the rendering layer (``tables``, ``charts``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from livingreview import stats
from livingreview.datapkg.descriptor import data_version
from livingreview.datapkg.frames import DISEASE_NAMES, DISEASES, load_cases, load_outcomes
from livingreview.evidence import regimens
from livingreview.evidence.claims import check_claims, load_claims
from livingreview.evidence.reports import report_table
from livingreview.paths import find_root
from livingreview.render import charts, citations, forest, tables

DESIGN_LABELS = {
    "case_report": "case report",
    "case_series": "case series",
    "retrospective_cohort": "retrospective cohort",
    "prospective_open_trial": "prospective open trial",
    "nonrandomised_controlled_study": "non-randomised controlled study",
    "randomised_controlled_trial": "randomised controlled trial",
}
#: designs whose IVIG arm is shown with its comparator, never pooled with single-arm proportions
CONTROLLED = ("nonrandomised_controlled_study", "randomised_controlled_trial")
EXTRACTION_LABELS = {"full_text": "full text", "abstract": "abstract", "secondary_source": "secondary source"}


class Note:
    """A short statement shown where a table or chart has nothing to show (e.g. fewer than two reports)."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        import html

        return f'<p class="lr-note">{html.escape(self.text)}</p>'

    def __repr__(self) -> str:
        return self.text


def _plural(noun: str, n: int) -> str:
    if n == 1:
        return noun
    return noun[:-1] + "ies" if noun.endswith("study") else noun if noun.endswith("s") else noun + "s"


def _series(counts: dict[str, int]) -> str:
    """'3 case reports, 2 case series and 1 retrospective cohort'."""
    parts = [f"{n} {_plural(noun, n)}" for noun, n in counts.items() if n]
    if not parts:
        return "none"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _year(value) -> int | None:
    return None if pd.isna(value) else int(value)


class Figures:
    """Several charts shown one after the other."""

    def __init__(self, figures: list):
        self.figures = figures

    def _repr_html_(self) -> str:
        return "".join(f._repr_html_() for f in self.figures)

    def __repr__(self) -> str:
        return "\n".join(repr(f) for f in self.figures)


class Text(str):
    """A string whose plain-text representation has no quotes, so ``{glue:text}`` shows it as is."""

    def __repr__(self) -> str:
        return str(self)


def pct(p: float | None, digits: int = 1) -> str:
    """A proportion as a percentage: 0.95 -> '95.0 %'; unknown -> '—'."""
    if p is None or pd.isna(p):
        return "—"
    return f"{100 * p:.{digits}f} %"


def pct_interval(lo: float | None, hi: float | None, digits: int = 1) -> str:
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return "—"
    return f"{100 * lo:.{digits}f}–{100 * hi:.{digits}f} %"


def describe_pooled(result: stats.PooledEstimate) -> str:
    """One phrase for prose: '95 % (95 % CI 88–98 %)', with the method's caveat when not pooled."""
    if result.k == 0 or result.estimate is None:
        return "not estimable (no report gives responders)"
    text = f"{pct(result.estimate)} (95 % CI {pct_interval(result.ci_low, result.ci_high)})"
    if result.k == 1:
        return f"{text}, from a single report (not pooled)"
    return text


def _plain(value: float) -> int | float:
    """12.0 -> 12 so that glued numbers read as the source wrote them."""
    return int(value) if float(value).is_integer() else float(value)


def _usual(cases: pd.DataFrame, column: str, unit: str) -> str:
    """The value of ``column`` that applies to the most patients ('' when none is known)."""
    weights = cases.dropna(subset=[column]).groupby(column)["n_patients"].sum()
    return "" if weights.empty else f"{weights.idxmax():g} {unit}"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def pooled_response(reports: pd.DataFrame) -> stats.PooledEstimate:
    """Primary estimate (random-intercept logistic GLMM) over the reports that give responders."""
    known = reports.dropna(subset=["n_responders"])
    return stats.pool_glmm(
        known["n_responders"].astype(int).tolist(), known["n_evaluable"].astype(int).tolist()
    )


@dataclass(frozen=True)
class Data:
    """The whole data package, loaded once per kernel."""

    root: Path
    cases: pd.DataFrame
    outcomes: pd.DataFrame
    claims: pd.DataFrame
    version: str

    @classmethod
    def load(cls, root: str | Path | None = None) -> Data:
        root = find_root(root or Path.cwd())
        return cls(root, load_cases(root), load_outcomes(root), load_claims(root), data_version(root))


class Chapter:
    """Everything one disease chapter shows."""

    def __init__(self, disease: str, data: Data | None = None):
        if disease not in DISEASES:
            raise ValueError(f"unknown disease {disease!r}; expected one of {', '.join(DISEASES)}")
        self.disease = disease
        self.name = DISEASE_NAMES[disease]
        self.data = data or Data.load()
        self.prefix = disease.lower()
        self.cases = self.data.cases[self.data.cases["disease"] == disease].reset_index(drop=True)
        sources = set(self.cases["source"])
        self.outcomes = self.data.outcomes[self.data.outcomes["source"].isin(sources)].reset_index(drop=True)
        controlled = self.cases["design"].isin(CONTROLLED)
        #: uncontrolled evidence (case reports, series, cohorts, single-arm trials): what is pooled
        self.single_arm = self.cases[~controlled].reset_index(drop=True)
        #: IVIG arms of controlled studies: shown with their comparator, never pooled with the above
        self.controlled = self.cases[controlled].reset_index(drop=True)

    # --- numbers -------------------------------------------------------------------------------------------

    @cached_property
    def reports(self) -> pd.DataFrame:
        """The uncontrolled reports, one row each: the pooling unit."""
        return report_table(self.single_arm)

    @cached_property
    def all_reports(self) -> pd.DataFrame:
        """Every report of the disease, controlled studies included: what the reports table lists."""
        return report_table(self.cases)

    @cached_property
    def pooled(self) -> stats.PooledEstimate:
        return pooled_response(self.reports)

    @cached_property
    def claims(self) -> pd.DataFrame:
        """The source statements about this disease's case groups, checked against the data."""
        sources = set(self.cases["source"]) | set(self.cases["via"].dropna())
        mine = self.data.claims[self.data.claims["source"].isin(sources)]
        return check_claims(self.data.cases, self.data.outcomes, mine)

    def numbers(self, rows: bool = True) -> dict[str, object]:
        """Every number the chapter's prose may quote, by glue name (without the disease prefix).

        With ``rows``, also every numeric field of every case group, as ``<case id>_<field>``.
        """
        c, r = self.cases, self.reports
        known = r.dropna(subset=["n_responders"])
        crude = stats.crude_pooled(
            known["n_responders"].astype(int).tolist(), known["n_evaluable"].astype(int).tolist()
        )
        pooled = self.pooled
        claims = self.claims
        n = {
            "name": Text(self.name),
            "reports": len(self.all_reports),
            "case_groups": len(c),
            "patients": int(c["n_patients"].sum()),
            "responders": int(known["n_responders"].sum()),
            "evaluable": int(known["n_evaluable"].sum()),
            "reports_with_response": len(known),
            "crude": Text(pct(crude.estimate)),
            "crude_ci": Text(pct_interval(crude.ci_low, crude.ci_high)),
            "pooled": Text(describe_pooled(pooled)),
            "pooled_method": Text(pooled.method),
            "first_year": _year(c["year"].min()),
            "last_year": _year(c["year"].max()),
            "countries": int(c["country"].nunique()),
            "women": int(c["n_female"].sum()),
            "men": int(c["n_male"].sum()),
            "sex_known": int(c.loc[c["n_female"].notna() | c["n_male"].notna(), "n_patients"].sum()),
            "age_range": Text(regimens.format_range(c["age_min"].min(), c["age_max"].max(), "years")),
            "dose_range": Text(
                regimens.format_range(c["dose_g_kg_min"].min(), c["dose_g_kg_max"].max(), "g/kg")
            ),
            "days_range": Text(
                regimens.format_range(c["days_per_cycle_min"].min(), c["days_per_cycle_max"].max(), "days")
            ),
            "interval_range": Text(
                regimens.format_range(c["interval_weeks_min"].min(), c["interval_weeks_max"].max(), "weeks")
            ),
            "dose_unknown_patients": int(c.loc[c["dose_g_kg_min"].isna(), "n_patients"].sum()),
            "complete": int(c["n_complete"].sum()),
            "partial": int(c["n_partial"].sum()),
            "relapsed": int(c["n_relapsed"].sum()),
            "relapse_known_patients": int(c.loc[c["n_relapsed"].notna(), "n_patients"].sum()),
            "ae_reports": int(
                c.loc[c["adverse_events"].notna() & (c["adverse_events"] != "none"), "source"].nunique()
            ),
            "ae_none_reports": int(c.loc[c["adverse_events"] == "none", "source"].nunique()),
            "ae_unreported_reports": int(c.loc[c["adverse_events"].isna(), "source"].nunique()),
            "serious_ae": int(c["n_serious_adverse_events"].sum()),
            "claims": len(claims),
            "claims_agree": int(claims["agrees"].eq(True).fillna(False).sum()),
            "claims_disagree": int(claims["agrees"].eq(False).fillna(False).sum()),
            "claims_uncheckable": int(claims["agrees"].isna().sum()),
            "study_patients": int(
                c.loc[~c["design"].isin(["case_report", "case_series"]), "n_patients"].sum()
            ),
            "split_reports": int((c.groupby("source").size() > 1).sum()),
            "usual_interval": Text(_usual(c, "interval_weeks_min", "weeks")),
            "high_dose_cutoff": Text(f"{regimens.HIGH_DOSE_PER_CYCLE:g} g/kg"),
            "daily_dose_cutoff": Text(f"{regimens.CONVENTIONAL_DAILY_MAX:g} g/kg per day"),
            "high_dose_patients": int(
                c.loc[regimens.dose_group(c) == regimens.DOSE_HIGH, "n_patients"].sum()
            ),
            "low_dose_patients": int(c.loc[regimens.dose_group(c) == regimens.DOSE_LOW, "n_patients"].sum()),
        }
        n.update(self._summaries(n))
        if pooled.k >= 2 and pooled.tau2 is not None:
            n["tau2"] = Text(f"{pooled.tau2:.2f}")
            n["i2"] = Text(pct(pooled.i2))
            n["pi"] = Text(pct_interval(pooled.pi_low, pooled.pi_high))
        for row in self.outcomes.itertuples(index=False):
            key = slug(row.outcome_id.removeprefix(f"{self.disease}-"))
            n[key] = _plain(row.value)
            if pd.notna(row.sd):
                n[f"{key}_sd"] = _plain(row.sd)
            if pd.notna(row.p_value):
                n[f"{key}_p"] = Text(row.p_value)
        # Every numeric field of every case group, under its stable case_id (ids are never reused).
        for row in c.to_dict("records") if rows else ():
            stem = slug(row["case_id"].removeprefix(f"{self.disease}-"))
            for field, value in row.items():
                if isinstance(value, int | float) and not pd.isna(value):
                    n[f"{stem}_{field}"] = _plain(value)
        return n

    def _summaries(self, n: dict[str, object]) -> dict[str, object]:
        """Sentences the chapter template uses, so its prose holds for any number of reports."""
        all_reports = self.all_reports
        levels = all_reports["extraction_level"].value_counts().to_dict()
        designs = all_reports["design"].value_counts().reindex(list(DESIGN_LABELS)).dropna().astype(int)
        controlled = self.controlled
        pooled = self.pooled
        if pooled.k == 0:
            response = (
                "No uncontrolled report counts responders patient by patient, so no response proportion "
                "can be given; the group-level measures below are what the reports give."
            )
        else:
            which = "the one report" if pooled.k == 1 else f"the {pooled.k} reports"
            response = (
                f"{n['responders']} of {n['evaluable']} patients responded in {which} that count responders "
                f"(crude proportion {n['crude']}, exact 95 % CI {n['crude_ci']})."
            )
            if pooled.k >= 2:
                response += (
                    " The primary pooled estimate, a random-intercept logistic model across the reports, is "
                    f"{describe_pooled(pooled)}"
                )
                if pooled.tau2 is not None:
                    response += (
                        f", with between-report variance τ² = {pooled.tau2:.2f} and a 95 % prediction "
                        f"interval of {pct_interval(pooled.pi_low, pooled.pi_high)} for the response in a "
                        "new report"
                    )
                response += "."
        if controlled.empty:
            trials = "No controlled study of IVIG in this disease was found."
        else:
            k = controlled["source"].nunique()
            comparators = sorted(set(controlled["comparator"].dropna()))
            trials = (
                f"{_series({'controlled study': k})} compared IVIG ({int(controlled['n_patients'].sum())} "
                f"patients in IVIG arms) with {'; '.join(comparators) or 'a control group'}. Their results "
                "are shown arm by arm below and are never pooled with the uncontrolled reports."
            )
        unknown_year = int(all_reports["year"].isna().sum())
        first, last = n["first_year"], n["last_year"]
        return {
            "design_mix": Text(_series({DESIGN_LABELS[k]: v for k, v in designs.items()})),
            "reports_full_text": int(levels.get("full_text", 0)),
            "reports_abstract": int(levels.get("abstract", 0)),
            "reports_secondary": int(levels.get("secondary_source", 0)),
            "uncontrolled_reports": len(self.reports),
            "controlled_reports": int(controlled["source"].nunique()),
            "response_summary": Text(response),
            "controlled_summary": Text(trials),
            "year_span": Text(
                "years not shown" if first is None else str(first) if first == last else f"{first}–{last}"
            ),
            "year_unknown_reports": unknown_year,
        }

    def glue(self, rows: bool = False) -> None:
        """Glue the chapter's numbers under ``<disease>_<name>`` (e.g. ``lv_patients``) for ``{glue:text}``.

        ``rows=True`` adds the case groups' own fields (``sjs_rist2011_04_n_improved``) for chapters whose
        prose quotes them; each glued value is a kernel message, so pages that don't need them skip them.
        """
        from myst_nb import glue

        for key, value in self.numbers(rows=rows).items():
            glue(f"{self.prefix}_{key}", value, display=False)
        glue(f"{self.prefix}_data_version", Text(self.data.version), display=False)

    # --- tables --------------------------------------------------------------------------------------------

    def _label(self, frame: pd.DataFrame) -> pd.Series:
        return frame["source"].map(citations.label)

    def reports_table(self) -> tables.Table:
        """Every report: design, how it was read, patients and responders (controlled studies' IVIG arm)."""
        r = self.all_reports
        ci = [
            stats.clopper_pearson(int(x), int(n)) if pd.notna(x) else (None, None)
            for x, n in zip(r["n_responders"], r["n_evaluable"], strict=True)
        ]
        frame = pd.DataFrame(
            {
                "Report": r["source"],
                "Year": r["year"],
                "Country": r["country"],
                "Design": r["design"].map(DESIGN_LABELS),
                "Read from": r["extraction_level"].map(EXTRACTION_LABELS),
                "Patients": r["n_patients"],
                "Responders": r["n_responders"],
                "Response (exact 95 % CI)": [
                    _response_text(x, n, lo, hi) + (" (IVIG arm; not pooled)" if d in CONTROLLED else "")
                    for (x, n), (lo, hi), d in zip(
                        zip(r["n_responders"], r["n_evaluable"], strict=True), ci, r["design"], strict=True
                    )
                ],
            }
        )
        return tables.show(
            frame,
            caption=f"Reports of {self.name[0].lower() + self.name[1:]} treated with IVIG",
            link_column="Report",
            link_text=citations.label,
        )

    def trials_table(self) -> tables.Table | Note:
        """Controlled studies, arm by arm: the IVIG arm beside its control, at the level reported."""
        if self.controlled.empty:
            return Note("No controlled study of IVIG in this disease was found.")
        sources = list(dict.fromkeys(self.controlled["source"]))
        o = self.outcomes[self.outcomes["source"].isin(sources)]
        comparator = self.controlled.drop_duplicates("source").set_index("source")["comparator"]
        rows = []
        for (source, measure, timepoint), group in o.groupby(["source", "measure", "timepoint"], sort=False):
            by_arm = {row.arm: row for row in group.itertuples(index=False)}
            ivig, control = by_arm.get("ivig") or by_arm.get(pd.NA), by_arm.get("control")
            rows.append(
                {
                    "Report": source,
                    "Control arm": comparator.get(source, pd.NA),
                    "Measure": measure + ("" if timepoint == "overall" else f" ({timepoint})"),
                    "IVIG arm": _arm_text(ivig),
                    "Control": _arm_text(control),
                    "P value": next((r.p_value for r in group.itertuples() if pd.notna(r.p_value)), pd.NA),
                    "Where": "; ".join(dict.fromkeys(group["locator"])),
                }
            )
        return tables.show(
            _drop_empty(pd.DataFrame(rows)),
            caption="Controlled studies: each arm as reported (not pooled with uncontrolled reports)",
            link_column="Report",
            link_text=citations.label,
        )

    def _case_table(self, caption: str, columns: dict[str, object]) -> tables.Table:
        """A table with one row per case group: report, subgroup and patients, then ``columns``."""
        c = self.cases
        frame = pd.DataFrame(
            {"Report": c["source"], "Subgroup": c["subtype"], "Patients": c["n_patients"], **columns}
        )
        return tables.show(
            _drop_empty(frame), caption=caption, link_column="Report", link_text=citations.label
        )

    def regimen_table(self) -> tables.Table:
        c = self.cases
        cycles = zip(c["cycles_min"], c["cycles_max"], c["cycles_median"], strict=True)
        return self._case_table(
            "IVIG regimens by case group (normalised units; the source's wording alongside)",
            {
                "Dose per cycle (g/kg)": _ranges(c, "dose_g_kg"),
                "Days per cycle": _ranges(c, "days_per_cycle"),
                "Interval (weeks)": _ranges(c, "interval_weeks"),
                "Cycles": [_cycles(lo, hi, med) for lo, hi, med in cycles],
                "Regimen as reported": c["regimen_text"],
                "Prior treatments": c["prior_treatments"],
                "Given with IVIG": c["concomitant_therapy"],
            },
        )

    def response_table(self) -> tables.Table:
        c = self.cases
        return self._case_table(
            "Response, response levels and relapse by case group",
            {
                "Responders": c["n_responders"],
                "Improved": c["n_improved"],
                "Stable": c["n_stable"],
                "Worsened": c["n_worsened"],
                "Complete": c["n_complete"],
                "Partial": c["n_partial"],
                "Relapsed": c["n_relapsed"],
                "Recurrence as reported": c["relapse_text"],
                "Response definition": c["response_definition"],
                "Notes": c["notes"],
            },
        )

    def safety_table(self) -> tables.Table:
        c = self.cases
        return self._case_table(
            "Adverse events by case group",
            {
                "Adverse events as reported": c["adverse_events"].fillna("not reported"),
                "Patients with an adverse event": c["n_with_adverse_events"],
                "Patients with a serious adverse event": c["n_serious_adverse_events"],
            },
        )

    def steroid_table(self) -> tables.Table:
        return tables.show(
            steroid_frame(self.cases, self.outcomes),
            caption="Corticosteroid doses before and after IVIG",
            link_column="Report",
            link_text=citations.label,
        )

    def outcomes_table(self, domain: str | None = None) -> tables.Table | Note:
        o = self.outcomes[~self.outcomes["source"].isin(set(self.controlled["source"]))]
        o = o if domain is None else o[o["domain"] == domain]
        if o.empty:
            return Note("No uncontrolled report gives group-level measures.")
        return tables.show(
            outcome_frame(o),
            caption="Group-level measures as the source reports them",
            link_column="Report",
            link_text=citations.label,
        )

    def subgroup_table(self) -> tables.Table | Note:
        if note := self._too_few():
            return note
        return tables.show(
            subgroup_frame(self.single_arm), caption="Response by subgroup (GLMM within each subgroup)"
        )

    def _too_few(self) -> Note | None:
        if self.pooled.k >= 2:
            return None
        return Note(
            "Fewer than two uncontrolled reports count responders, so there is nothing to pool or compare: "
            "see the table of reports above."
        )

    def sensitivity_table(self) -> tables.Table | Note:
        if note := self._too_few():
            return note
        return tables.show(
            sensitivity_frame(self.reports),
            caption="Pooled response by method: the GLMM is primary, the others are sensitivity analyses",
            sortable=False,
        )

    def claims_table(self) -> tables.Table:
        k = self.claims
        status = k["agrees"].map({True: "agrees", False: "differs"}).fillna("not checkable").astype("string")
        frame = pd.DataFrame(
            {
                "Statement": k["statement"],
                "Where": k["locator"],
                "Stated": k["stated_value"],
                "In the data": k["computed_value"],
                "Check": status,
                "Why they differ": k["notes"],
            }
        )
        return tables.show(
            frame,
            caption="Totals stated by the sources, recomputed from data/",
        )

    def references(self) -> citations.References:
        keys = list(self.reports.sort_values(["year", "source"])["source"]) + sorted(
            set(self.cases["via"].dropna())
        )
        return citations.show(keys)

    # --- charts --------------------------------------------------------------------------------------------

    def forest_chart(self):
        if note := self._too_few():
            return note
        reports = self.reports.dropna(subset=["n_responders"]).assign(
            label=lambda f: f["source"].map(citations.label), n_patients=lambda f: f["n_evaluable"]
        )
        return charts.show(
            forest.forest_chart(reports, self.pooled), forest.forest_description(reports, self.pooled)
        )

    def cumulative_chart(self):
        if note := self._too_few():
            return note
        reports = self.reports.dropna(subset=["n_responders"]).assign(
            label=lambda f: f["source"].map(citations.label), n_patients=lambda f: f["n_evaluable"]
        )
        return charts.show(forest.cumulative_chart(reports), forest.cumulative_description(reports))

    def regimen_chart(self):
        return charts.regimens(self.data.cases, self.disease)

    def timeline_chart(self):
        """Patients and reports of this disease by publication year (its own rows only, so a change to
        another disease leaves the chapter untouched)."""
        return charts.accumulation(self.cases)

    def before_after_chart(self, source: str):
        return charts.before_after(self.data.outcomes, source)

    def before_after_charts(self) -> list | Note:
        """One before/after chart per uncontrolled report that gives measures at both times."""
        o = self.outcomes[~self.outcomes["source"].isin(set(self.controlled["source"]))]
        figures = [
            charts.before_after(o, source)
            for source in sorted(set(o["source"]))
            if not charts.before_after_table(o, source).empty
        ]
        return Figures(figures) if figures else Note("No report gives a measure both before and after IVIG.")

    def subtype_chart(self):
        return charts.subtypes(self.data.cases, self.disease)


def _arm_text(row) -> object:
    if row is None:
        return pd.NA
    value = f"{row.value:g}" + (f" ± {row.sd:g}" if pd.notna(row.sd) else "")
    unit = "" if pd.isna(row.unit) or row.unit in ("%", "patients") else f" {row.unit}"
    pct_sign = " %" if row.unit == "%" or row.statistic == "percent" else ""
    n = f" (n = {row.n})" if pd.notna(row.n) else ""
    return f"{value}{pct_sign}{unit}{n}"


def _response_text(x, n, lo, hi) -> str:
    if pd.isna(x):
        return "not reported"
    return f"{x}/{n}: {pct(x / n)} ({pct_interval(lo, hi)})"


def _ranges(cases: pd.DataFrame, stem: str) -> list[str]:
    return [
        regimens.format_range(lo, hi)
        for lo, hi in zip(cases[f"{stem}_min"], cases[f"{stem}_max"], strict=True)
    ]


def _cycles(lo, hi, median) -> str:
    text = regimens.format_range(lo, hi)
    if pd.notna(median):
        return f"median {median:g}" + (f" ({text})" if text else "")
    return text


def _drop_empty(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop columns with nothing to show (all missing or empty text) so small chapters stay readable."""
    keep = [
        c for c in frame.columns if c in ("Report", "Patients") or frame[c].replace("", pd.NA).notna().any()
    ]
    return frame[keep]


def steroid_frame(cases: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Steroid doses before and after IVIG: per-patient values from cases, group means from outcomes."""
    rows = []
    for c in cases.dropna(subset=["steroid_mg_day_before"]).itertuples(index=False):
        rows.append(
            {
                "Report": c.source,
                "Who": f"{c.n_patients} patient" + ("s" if c.n_patients > 1 else ""),
                "Drug": c.steroid_drug,
                "Before (mg/day)": c.steroid_mg_day_before,
                "After (mg/day)": c.steroid_mg_day_after,
                "Statistic": "value",
                "P value": pd.NA,
            }
        )
    doses = outcomes[(outcomes["domain"] == "steroid") & (outcomes["unit"] == "mg/day")]
    for (source, measure), group in doses.groupby(["source", "measure"], sort=False):
        before = group[group["timepoint"] == "before"]
        after = group[group["timepoint"] == "after"]
        n = group["n"].dropna()
        rows.append(
            {
                "Report": source,
                "Who": measure + (f" (n = {int(n.iloc[0])})" if len(n) else ""),
                "Drug": pd.NA,
                "Before (mg/day)": _mean_sd(before),
                "After (mg/day)": _mean_sd(after),
                "Statistic": group["statistic"].iloc[0],
                "P value": after["p_value"].iloc[0] if len(after) else pd.NA,
            }
        )
    columns = ["Report", "Who", "Drug", "Before (mg/day)", "After (mg/day)", "Statistic", "P value"]
    return pd.DataFrame(rows, columns=columns)


def _mean_sd(rows: pd.DataFrame) -> object:
    if rows.empty:
        return pd.NA
    row = rows.iloc[0]
    return f"{row.value:g} ± {row.sd:g}" if pd.notna(row.sd) else row.value


def outcome_frame(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Before/after pairs side by side, single-time measures with the value in 'Overall'."""
    rows = []
    for (source, measure), group in outcomes.groupby(["source", "measure"], sort=False):
        by_time = {row.timepoint: row for row in group.itertuples(index=False)}
        first = group.iloc[0]
        rows.append(
            {
                "Report": source,
                "Measure": measure,
                "Statistic": first["statistic"],
                "Unit": first["unit"],
                "Before": _value_text(by_time.get("before")),
                "After": _value_text(by_time.get("after")),
                "Overall": _value_text(by_time.get("overall")),
                "n": first["n"],
                "P value": by_time["after"].p_value if "after" in by_time else pd.NA,
                "Where": "; ".join(dict.fromkeys(group["locator"])),
                "Notes": "; ".join(dict.fromkeys(group["notes"].dropna())) or pd.NA,
            }
        )
    return _drop_empty(pd.DataFrame(rows))


def _value_text(row) -> object:
    if row is None:
        return pd.NA
    return f"{row.value:g} ± {row.sd:g}" if pd.notna(row.sd) else f"{row.value:g}"


SUBGROUP_ANALYSES = {
    "Dose per cycle": lambda c: regimens.dose_group(c),
    "Daily dose": lambda c: regimens.daily_dose_group(c),
    "Study design": lambda c: c["design"].map(DESIGN_LABELS).astype("string"),
    "Report size": lambda c: (
        c.groupby("source")["n_patients"]
        .transform("sum")
        .gt(1)
        .map({True: "reports of several patients", False: "single-patient reports"})
        .astype("string")
    ),
}


SENSITIVITY_METHODS = {
    "glmm": "Random-intercept logistic GLMM (primary)",
    "crude": "All patients added up (no between-report variation)",
    "plo-reml": "Inverse-variance, log-odds, REML τ²",
    "plo-dl": "Inverse-variance, log-odds, DerSimonian–Laird τ²",
    "pft-reml": "Inverse-variance, Freeman–Tukey, REML τ²",
    "pft-dl": "Inverse-variance, Freeman–Tukey, DerSimonian–Laird τ²",
}


def sensitivity_frame(reports: pd.DataFrame) -> pd.DataFrame:
    """The pooled response by every method, on the reports that give responders."""
    known = reports.dropna(subset=["n_responders"])
    events, n = known["n_responders"].astype(int).tolist(), known["n_evaluable"].astype(int).tolist()
    rows = []
    for method, label in SENSITIVITY_METHODS.items():
        result = stats.pool(events, n, method=method)
        rows.append(
            {
                "Method": label,
                "Estimate": pct(result.estimate, 1),
                "95 % CI": pct_interval(result.ci_low, result.ci_high, 1),
                "τ²": result.tau2,
                "I²": pct(result.i2) if result.i2 is not None else pd.NA,
                "Caveat": result.note
                or ("back-transform cut off at 0 or 100 %" if result.clamped else pd.NA),
            }
        )
    return pd.DataFrame(rows)


def subgroup_frame(cases: pd.DataFrame) -> pd.DataFrame:
    """Pooled response per subgroup and a likelihood-ratio test of the difference between subgroups.

    The pooling unit is a report's case groups within the subgroup (a report whose patients received
    different doses contributes to each dose subgroup).
    """
    rows = []
    for analysis, assign in SUBGROUP_ANALYSES.items():
        labelled = cases.assign(subgroup=assign(cases))
        per_report = pd.concat(
            [
                report_table(part).assign(subgroup=label)
                for label, part in labelled.groupby("subgroup", sort=True)
            ],
            ignore_index=True,
        )
        # Unclassifiable case groups are shown but kept out of the test: they belong to no compared group.
        compared = sorted(set(per_report["subgroup"]) - {regimens.UNCLASSIFIED})
        result = stats.subgroup_analysis(
            per_report, "subgroup", events="n_responders", n="n_evaluable", subgroups=compared
        )
        test = f"p = {result.p_value:.2f}" if result.p_value is not None else result.note
        groups = list(result.subgroups)
        if regimens.UNCLASSIFIED in set(per_report["subgroup"]):
            unclassified = stats.subgroup_analysis(
                per_report,
                "subgroup",
                events="n_responders",
                n="n_evaluable",
                subgroups=[regimens.UNCLASSIFIED],
            )
            groups += [{**g, "test": "not compared"} for g in unclassified.subgroups]
        for group in groups:
            pooled = stats.PooledEstimate(**group["pooled"])
            rows.append(
                {
                    "Analysis": analysis,
                    "Subgroup": group["subgroup"],
                    "Reports": group["k"],
                    "Patients": group["n_patients"],
                    "Responders": group["n_events"],
                    "Pooled response (95 % CI)": describe_pooled(pooled),
                    "Method": pooled.method,
                    "Difference between subgroups": group.get("test", test),
                }
            )
    return pd.DataFrame(rows)


CHANGELOG_HEADING = re.compile(r"^## (?P<version>\S+) — (?P<date>\d{4}-\d{2}-\d{2})\s*$", re.M)


def latest_change(changelog_text: str) -> tuple[str, str]:
    """Version and date of the newest entry of ``data/CHANGELOG.md`` (entries are newest first)."""
    match = CHANGELOG_HEADING.search(changelog_text)
    if match is None:
        raise ValueError("data/CHANGELOG.md has no '## <version> — <YYYY-MM-DD>' entry")
    return match["version"], match["date"]


def citation_text(root: Path, date: str) -> str:
    """How to cite this edition, from CITATION.cff (its version must equal the data version)."""
    import yaml

    cff = yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))
    authors = "; ".join(
        a.get("name") or f"{a.get('family-names', '')} {a.get('given-names', '')}".strip()
        for a in cff["authors"]
    )
    return f"{authors}. {cff['title']}. Data version {cff['version']} ({date})."


class Review:
    """Numbers and tables across the five diseases: the landing page and the synthesis."""

    def __init__(self, data: Data | None = None):
        self.data = data or Data.load()
        self.chapters = {d: Chapter(d, self.data) for d in DISEASES}

    def summary_frame(self) -> pd.DataFrame:
        rows = []
        for disease, ch in self.chapters.items():
            n = ch.numbers()
            rows.append(
                {
                    "Disease": ch.name,
                    "Reports": n["reports"],
                    "Designs": n["design_mix"],
                    "Patients": n["patients"],
                    "Patients with a response outcome": n["evaluable"],
                    "Responders": n["responders"] if n["evaluable"] else pd.NA,
                    "Crude response (exact 95 % CI)": (
                        f"{n['crude']} ({n['crude_ci']})" if n["evaluable"] else "no per-patient response"
                    ),
                    "Pooled response (95 % CI)": n["pooled"],
                    "Method": ch.pooled.method,
                    "Chapter": f"{disease.lower()}.html",
                }
            )
        return pd.DataFrame(rows)

    def numbers(self) -> dict[str, object]:
        c = self.data.cases
        version, date = latest_change((self.data.root / "data" / "CHANGELOG.md").read_text(encoding="utf-8"))
        return {
            "diseases": len(DISEASES),
            "reports": int(c["source"].nunique()),
            "patients": int(c["n_patients"].sum()),
            "case_groups": len(c),
            "outcome_measures": len(self.data.outcomes),
            "first_year": int(c["year"].min()),
            "last_year": int(c["year"].max()),
            "data_version": Text(self.data.version),
            "changelog_version": Text(version),
            "last_change": Text(date),
            "claims": len(self.data.claims),
            "citation": Text(citation_text(self.data.root, date)),
        }

    def glue(self) -> None:
        from myst_nb import glue

        for key, value in self.numbers().items():
            glue(f"review_{key}", value, display=False)

    def summary_table(self) -> tables.Table:
        frame = self.summary_frame()
        return tables.show(
            frame.drop(columns=["Chapter", "Method"]),
            caption=f"Evidence by disease (data version {self.data.version})",
        )

    def regimen_table(self) -> tables.Table:
        c = self.data.cases
        frame = pd.DataFrame(
            {
                "Disease": c["disease"],
                "Report": c["source"],
                "Subgroup": c["subtype"],
                "Patients": c["n_patients"],
                "Dose per cycle (g/kg)": _ranges(c, "dose_g_kg"),
                "Days per cycle": _ranges(c, "days_per_cycle"),
                "Daily dose group": regimens.daily_dose_group(c),
                "Interval (weeks)": _ranges(c, "interval_weeks"),
            }
        ).sort_values(["Disease", "Report"], kind="stable")
        return tables.show(
            frame,
            caption="IVIG regimens by case group, all diseases",
            link_column="Report",
            link_text=citations.label,
        )

    def safety_frame(self) -> pd.DataFrame:
        rows = []
        for ch in self.chapters.values():
            c = ch.cases
            named = c["adverse_events"].dropna()
            terms = sorted({t.strip() for text in named[named != "none"] for t in text.split(",")})
            n = ch.numbers()
            rows.append(
                {
                    "Disease": ch.name,
                    "Reports": n["reports"],
                    "Reports naming adverse events": n["ae_reports"],
                    "Reports stating none": n["ae_none_reports"],
                    "Reports silent on safety": n["ae_unreported_reports"],
                    "Patients with a serious adverse event": c["n_serious_adverse_events"].sum(min_count=1),
                    "Events named": ", ".join(terms) or pd.NA,
                }
            )
        return pd.DataFrame(rows)

    def safety_table(self) -> tables.Table:
        return tables.show(self.safety_frame(), caption="Adverse events by disease")

    def steroid_table(self) -> tables.Table:
        frame = steroid_frame(self.data.cases, self.data.outcomes)
        disease = self.data.cases.drop_duplicates("source").set_index("source")["disease"]
        frame.insert(0, "Disease", frame["Report"].map(disease))
        return tables.show(
            frame,
            caption="Corticosteroid doses before and after IVIG, all diseases",
            link_column="Report",
            link_text=citations.label,
        )

    def claims_table(self) -> tables.Table:
        checked = check_claims(self.data.cases, self.data.outcomes, self.data.claims)
        status = checked["agrees"].map({True: "agrees", False: "differs"}).fillna("not checkable")
        frame = (
            checked.assign(Check=status)
            .groupby(["source", "Check"])
            .size()
            .unstack(fill_value=0)
            .reset_index()
            .rename(columns={"source": "Document"})
        )
        return tables.show(
            frame,
            caption="Totals stated by the source documents, checked against the data",
            link_column="Document",
            link_text=citations.label,
        )

    def regimen_chart(self):
        return charts.regimens(self.data.cases)

    def accumulation_chart(self):
        return charts.accumulation(self.data.cases)


def data_dictionary(root: str | Path | None = None) -> list[tables.Table]:
    """One table per resource of ``datapackage.json``: every field with its type, rules and description."""
    from livingreview.datapkg.descriptor import read_descriptor

    package = read_descriptor(find_root(root or Path.cwd()))
    out = []
    for res in package["resources"]:
        rows = []
        for field in res["schema"]["fields"]:
            rules = dict(field.get("constraints", {}))
            required = rules.pop("required", False)
            rows.append(
                {
                    "Field": field["name"],
                    "Type": field["type"],
                    "Required": "yes" if required else "",
                    "Rules": "; ".join(_rule_text(k, v) for k, v in rules.items()) or pd.NA,
                    "Description": field["description"],
                }
            )
        caption = f"{res['path']} — {res['title']}. {res['description']}"
        out.append(tables.show(pd.DataFrame(rows), caption=caption, sortable=False))
    return out


def _rule_text(name: str, value: object) -> str:
    if name == "enum":
        return "one of " + ", ".join(map(str, value))
    labels = {"minimum": "≥", "maximum": "≤", "minLength": "length ≥", "maxLength": "length ≤"}
    if name in labels:
        return f"{labels[name]} {value}"
    if name == "unique":
        return "unique"
    return f"{name} {value}"
