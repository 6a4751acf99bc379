"""The evidence on one disease: its case groups, reports and every analysis of them, each computed once.

A chapter, its charts and their descriptions all read the same :class:`DiseaseEvidence`, so an estimate
quoted in the prose is the one drawn in the chart.
"""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from livingreview import stats
from livingreview.datapkg.frames import DISEASE_NAMES, DISEASES, Data
from livingreview.evidence import analyses, appraisal, findings
from livingreview.evidence.certainty import Finding
from livingreview.evidence.claims import check_claims
from livingreview.evidence.designs import CONTROLLED
from livingreview.evidence.reports import report_table


class DiseaseEvidence:
    """Case groups, outcome rows and analyses of one disease (reads only that disease's rows)."""

    def __init__(self, disease: str, data: Data):
        if disease not in DISEASES:
            raise ValueError(f"unknown disease {disease!r}; expected one of {', '.join(DISEASES)}")
        self.disease = disease
        self.name = DISEASE_NAMES[disease]
        self.data = data
        self.cases = data.cases_of(disease)
        self.outcomes = data.outcomes_of(self.cases["source"])
        controlled = self.cases["design"].isin(CONTROLLED)
        #: uncontrolled evidence (case reports, series, cohorts, single-arm trials): what is pooled
        self.single_arm = self.cases[~controlled].reset_index(drop=True)
        #: IVIG arms of controlled studies: shown with their comparator, never pooled with the above
        self.controlled = self.cases[controlled].reset_index(drop=True)

    @cached_property
    def reports(self) -> pd.DataFrame:
        """The uncontrolled reports, one row each: the pooling unit."""
        return report_table(self.single_arm)

    @cached_property
    def all_reports(self) -> pd.DataFrame:
        """Every report of the disease, controlled studies included."""
        return report_table(self.cases)

    @cached_property
    def pooled(self) -> stats.PooledEstimate:
        return analyses.pooled_response(self.reports)

    @cached_property
    def crude(self) -> stats.PooledEstimate:
        return analyses.crude_response(self.reports)

    @property
    def poolable(self) -> bool:
        """Whether at least two reports count responders (anything to pool or compare)."""
        return self.pooled.k >= 2

    @cached_property
    def by_method(self) -> dict[str, stats.PooledEstimate]:
        return analyses.by_method(self.reports, self.pooled)

    @cached_property
    def subgroups(self) -> list[analyses.Subgroup]:
        return analyses.subgroups(self.single_arm)

    @cached_property
    def per_report(self) -> pd.DataFrame:
        """The reports that count responders with their exact intervals (the forest plot's rows)."""
        return analyses.with_exact_intervals(self.reports)

    @cached_property
    def cumulative(self) -> pd.DataFrame:
        return analyses.cumulative(self.reports)

    @cached_property
    def appraisal(self) -> pd.DataFrame:
        """The appraisal of every report of the disease, controlled studies included, in report order."""
        return appraisal.appraisal_of(self.all_reports, self.data.appraisal_of(self.all_reports["source"]))

    @cached_property
    def leave_out(self) -> list[appraisal.LeaveOut]:
        """The pooled response without each kind of weaker report (:data:`appraisal.LEAVE_OUTS`)."""
        return appraisal.leave_out(self.reports, self.appraisal, self.pooled)

    @cached_property
    def findings(self) -> list[Finding]:
        """The summary of findings: one row per outcome the reports give, with its GRADE certainty."""
        return findings.summary_of_findings(self)

    @cached_property
    def claims(self) -> pd.DataFrame:
        """The source statements about this disease's case groups, checked against the data."""
        claims, cases, outcomes = self.data.claims_about(self.cases)
        return check_claims(cases, outcomes, claims)

    @cached_property
    def uncontrolled_outcomes(self) -> pd.DataFrame:
        return self.outcomes[~self.outcomes["source"].isin(set(self.controlled["source"]))]
