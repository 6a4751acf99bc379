"""What a disease chapter shows: ``ch = Chapter("LV"); ch.glue()``, then tables and charts by name.

Chapters stay thin: :meth:`Chapter.glue` makes every number the prose quotes available to ``{glue:text}``
(names listed by :meth:`Chapter.numbers`); the ``*_table`` and ``*_chart`` methods return objects that
render themselves, escaped by the render layer. All analyses come from one
:class:`~livingreview.evidence.disease.DiseaseEvidence`, computed once per page.
"""

from __future__ import annotations

import re

import pandas as pd

from livingreview.datapkg.frames import Data
from livingreview.evidence import regimens
from livingreview.evidence.disease import DiseaseEvidence
from livingreview.render import appraisal, charts, citations, evidence_tables, findings, forest, prose, tables
from livingreview.render.blocks import Figures, Note
from livingreview.render.numbers import Text, describe_pooled, format_range, pct, pct_interval, plain

TOO_FEW = (
    "Fewer than two uncontrolled reports count responders, so there is nothing to pool or compare: "
    "see the table of reports above."
)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _year(value) -> int | None:
    return None if pd.isna(value) else int(value)


def _usual(cases: pd.DataFrame, column: str, unit: str) -> str:
    """The value of ``column`` that applies to the most patients ('' when none is known)."""
    weights = cases.dropna(subset=[column]).groupby(column)["n_patients"].sum()
    return "" if weights.empty else f"{weights.idxmax():g} {unit}"


class Chapter:
    """Everything one disease chapter shows."""

    def __init__(self, disease: str, data: Data | None = None):
        self.evidence = DiseaseEvidence(disease, data or Data.load())
        self.disease, self.name = disease, self.evidence.name
        self.prefix = disease.lower()
        self.cases, self.outcomes = self.evidence.cases, self.evidence.outcomes

    @property
    def pooled(self):
        return self.evidence.pooled

    @property
    def reports(self) -> pd.DataFrame:
        return self.evidence.reports

    # --- numbers -------------------------------------------------------------------------------------------

    def numbers(self, rows: bool = True, certainty: bool = True) -> dict[str, object]:
        """Every number the chapter's prose may quote, by glue name (without the disease prefix).

        With ``rows``, also every numeric field of every case group, as ``<case id>_<field>``; without
        ``certainty``, not the certainty and the leave-out range (their analyses are the costliest, and a page
        that only tabulates the diseases does not quote them).
        """
        ev, c = self.evidence, self.cases
        crude, pooled, claims = ev.crude, ev.pooled, ev.claims
        first, last = _year(c["year"].min()), _year(c["year"].max())
        levels = ev.all_reports["extraction_level"].value_counts()
        n = {
            "name": Text(self.name),
            "reports": len(ev.all_reports),
            "case_groups": len(c),
            "patients": int(c["n_patients"].sum()),
            "responders": crude.n_events,
            "evaluable": crude.n_patients,
            "reports_with_response": pooled.k,
            "crude": Text(pct(crude.estimate)),
            "crude_ci": Text(pct_interval(crude.ci_low, crude.ci_high)),
            "pooled": Text(describe_pooled(pooled)),
            "pooled_method": Text(pooled.method),
            "first_year": first,
            "last_year": last,
            "year_span": Text(prose.year_span(first, last)),
            "year_unknown_reports": int(ev.all_reports["year"].isna().sum()),
            "countries": int(c["country"].nunique()),
            "women": int(c["n_female"].sum()),
            "men": int(c["n_male"].sum()),
            "sex_known": int(c.loc[c["n_female"].notna() | c["n_male"].notna(), "n_patients"].sum()),
            "age_range": Text(format_range(c["age_min"].min(), c["age_max"].max(), "years")),
            "dose_range": Text(format_range(c["dose_g_kg_min"].min(), c["dose_g_kg_max"].max(), "g/kg")),
            "days_range": Text(
                format_range(c["days_per_cycle_min"].min(), c["days_per_cycle_max"].max(), "days")
            ),
            "interval_range": Text(
                format_range(c["interval_weeks_min"].min(), c["interval_weeks_max"].max(), "weeks")
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
            **{key: Text(text) for key, text in prose.dose_cutoffs().items()},
            "high_dose_patients": int(
                c.loc[regimens.dose_group(c) == regimens.DOSE_HIGH, "n_patients"].sum()
            ),
            "low_dose_patients": int(c.loc[regimens.dose_group(c) == regimens.DOSE_LOW, "n_patients"].sum()),
            "design_mix": Text(prose.design_mix(ev.all_reports)),
            "reports_full_text": int(levels.get("full_text", 0)),
            "reports_abstract": int(levels.get("abstract", 0)),
            "reports_secondary": int(levels.get("secondary_source", 0)),
            "uncontrolled_reports": len(ev.reports),
            "controlled_reports": int(ev.controlled["source"].nunique()),
            "response_summary": Text(prose.response_summary(ev)),
            "controlled_summary": Text(prose.controlled_summary(ev.controlled)),
            "appraisal_summary": Text(prose.appraisal_summary(ev.appraisal["overall"])),
            **(self._certainty_numbers() if certainty else {}),
        }
        if pooled.k >= 2 and pooled.tau2 is not None:
            n["tau2"] = Text(f"{pooled.tau2:.2f}")
            n["i2"] = Text(pct(pooled.i2))
            n["pi"] = Text(pct_interval(pooled.pi_low, pooled.pi_high))
        for row in self.outcomes.itertuples(index=False):
            key = slug(row.outcome_id.removeprefix(f"{self.disease}-"))
            n[key] = plain(row.value)
            if pd.notna(row.sd):
                n[f"{key}_sd"] = plain(row.sd)
            if pd.notna(row.p_value):
                n[f"{key}_p"] = Text(row.p_value)
        # Every numeric field of every case group, under its stable case_id (ids are never reused).
        for row in c.to_dict("records") if rows else ():
            stem = slug(row["case_id"].removeprefix(f"{self.disease}-"))
            for field, value in row.items():
                if isinstance(value, int | float) and not pd.isna(value):
                    n[f"{stem}_{field}"] = plain(value)
        return n

    def _certainty_numbers(self) -> dict[str, object]:
        """The certainty of the response and why, and how far the leave-out analyses move the estimate."""
        ev = self.evidence
        response = next((f for f in ev.findings if f.outcome == "response"), None)
        out: dict[str, object] = {
            "certainty": Text(
                response.certainty if response else "not assessed (no report counts responders)"
            ),
            "certainty_reasons": Text(prose.certainty_reasons(response.main_reasons) if response else ""),
        }
        estimates = [a.pooled.estimate for a in ev.leave_out if a.left_out and a.pooled.estimate is not None]
        empty = sum(a.pooled.k == 0 for a in ev.leave_out)
        out["leave_out_range"] = Text(
            prose.estimate_range(ev.pooled.estimate, estimates, empty)
            if ev.poolable
            else "there is nothing to pool"
        )
        return out

    def glue(self, rows: bool = False) -> None:
        """Glue the chapter's numbers under ``<disease>_<name>`` (e.g. ``lv_patients``) for ``{glue:text}``.

        ``rows=True`` adds the case groups' own fields (``sjs_rist2011_04_n_improved``) for chapters whose
        prose quotes them; each glued value is a kernel message, so pages that don't need them skip them.
        """
        from myst_nb import glue

        for key, value in self.numbers(rows=rows).items():
            glue(f"{self.prefix}_{key}", value, display=False)

    # --- tables --------------------------------------------------------------------------------------------

    def reports_table(self) -> tables.Table:
        """Every report: design, how it was read, patients and responders (controlled studies' IVIG arm)."""
        caption = f"Reports of {self.name[0].lower() + self.name[1:]} treated with IVIG"
        return tables.show_linked(evidence_tables.reports_frame(self.evidence.all_reports), caption)

    def trials_table(self) -> tables.Table | Note:
        """Controlled studies, arm by arm: the IVIG arm beside its control, at the level reported."""
        if self.evidence.controlled.empty:
            return Note("No controlled study of IVIG in this disease was found.")
        frame = evidence_tables.trials_frame(self.evidence.controlled, self.outcomes)
        return tables.show_linked(
            frame, "Controlled studies: each arm as reported (not pooled with uncontrolled reports)"
        )

    def regimen_table(self) -> tables.Table:
        return tables.show_linked(
            evidence_tables.case_frame(self.cases, evidence_tables.regimen_columns(self.cases)),
            "IVIG regimens by case group (normalised units; the source's wording alongside)",
        )

    def response_table(self) -> tables.Table:
        return tables.show_linked(
            evidence_tables.case_frame(self.cases, evidence_tables.response_columns(self.cases)),
            "Response, response levels and relapse by case group",
        )

    def safety_table(self) -> tables.Table:
        return tables.show_linked(
            evidence_tables.case_frame(self.cases, evidence_tables.safety_columns(self.cases)),
            "Adverse events by case group",
        )

    def steroid_table(self) -> tables.Table:
        frame = evidence_tables.steroid_frame(self.cases, self.outcomes)
        return tables.show_linked(frame, "Corticosteroid doses before and after IVIG")

    def outcomes_table(self, domain: str | None = None) -> tables.Table | Note:
        o = self.evidence.uncontrolled_outcomes
        o = o if domain is None else o[o["domain"] == domain]
        if o.empty:
            return Note("No uncontrolled report gives group-level measures.")
        return tables.show_linked(
            evidence_tables.outcome_frame(o), "Group-level measures as the source reports them"
        )

    def subgroup_table(self) -> tables.Table | Note:
        if not self.evidence.poolable:
            return Note(TOO_FEW)
        frame = evidence_tables.subgroup_frame(self.evidence.subgroups)
        return tables.show(frame, caption="Response by subgroup (GLMM within each subgroup)")

    def sensitivity_table(self) -> tables.Table | Note:
        if not self.evidence.poolable:
            return Note(TOO_FEW)
        return tables.show(
            evidence_tables.sensitivity_frame(self.evidence.by_method),
            caption="Pooled response by method: the GLMM is primary, the others are sensitivity analyses",
            sortable=False,
        )

    def appraisal_table(self) -> tables.Table:
        """Every report's answers to the appraisal tool and its overall risk of bias."""
        return tables.show_linked(
            appraisal.appraisal_frame(self.evidence.appraisal),
            "Appraisal of the reports (Murad et al. 2018): answers and overall risk of bias",
        )

    def appraisal_reasons(self):
        return appraisal.reasons(self.evidence.appraisal)

    def leave_out_table(self) -> tables.Table | Note:
        if not self.evidence.poolable:
            return Note(TOO_FEW)
        return tables.show(
            appraisal.leave_out_frame(self.pooled, self.evidence.leave_out),
            caption="Pooled response without weaker reports, beside the primary estimate",
            sortable=False,
            formats={"Change (percentage points)": appraisal.signed_points},
        )

    def summary_of_findings(self) -> tables.Table:
        return tables.show(
            findings.sof_frame(self.evidence.findings),
            caption=f"Summary of findings: IVIG in {self.name[0].lower() + self.name[1:]}",
            sortable=False,
        )

    def summary_of_findings_notes(self):
        return findings.sof_notes(self.evidence.findings)

    def claims_table(self) -> tables.Table:
        frame = evidence_tables.claims_frame(self.evidence.claims)
        return tables.show(frame, caption="Totals stated by the sources, recomputed from data/")

    def references(self) -> citations.References:
        keys = list(self.reports.sort_values(["year", "source"])["source"]) + sorted(
            set(self.cases["via"].dropna())
        )
        return citations.show(keys)

    # --- charts --------------------------------------------------------------------------------------------

    def forest_chart(self):
        if not self.evidence.poolable:
            return Note(TOO_FEW)
        rows = forest.forest_rows(self.evidence.per_report, self.pooled, citations.label)
        return charts.show(forest.forest_chart(rows), forest.forest_description(rows, self.pooled))

    def cumulative_chart(self):
        if not self.evidence.poolable:
            return Note(TOO_FEW)
        undated = int(self.evidence.per_report["year"].isna().sum())
        series = self.evidence.cumulative
        return charts.show(forest.cumulative_chart(series), forest.cumulative_description(series, undated))

    def regimen_chart(self):
        return charts.regimens(self.cases, self.disease)

    def timeline_chart(self):
        """Patients and reports of this disease by publication year."""
        return charts.accumulation(self.cases)

    def before_after_chart(self, source: str):
        return charts.before_after(self.evidence.data.outcomes_of([source]), source)

    def before_after_charts(self) -> Figures | Note:
        """One before/after chart per uncontrolled report that gives measures at both times."""
        o = self.evidence.uncontrolled_outcomes
        tables_by_source = {s: charts.before_after_table(o, s) for s in sorted(set(o["source"]))}
        figures = [charts.before_after(o, s) for s, t in tables_by_source.items() if not t.empty]
        return Figures(figures) if figures else Note("No report gives a measure both before and after IVIG.")

    def subtype_chart(self):
        return charts.subtypes(self.cases, self.disease)
