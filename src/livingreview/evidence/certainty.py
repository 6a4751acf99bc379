"""GRADE certainty per outcome: the summary of findings of one disease.

Risk of bias, inconsistency and imprecision are computed here from the appraisal and the estimates, by the
rules below; indirectness and publication bias cannot be computed and are read from ``data/certainty.csv``,
each with its recorded reason. Evidence from uncontrolled reports starts at low certainty (randomised trials
alone would start at high); each serious concern lowers it one level, each very serious one two, down to
very low. Nothing is rated up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from livingreview import stats
from livingreview.datapkg.appraisal_rules import CORE_ITEMS
from livingreview.datapkg.summary_outcomes import OUTCOMES
from livingreview.evidence.appraisal import ITEM_LABELS

__all__ = [
    "DOMAINS",
    "LEVELS",
    "Domain",
    "Finding",
    "certainty",
    "imprecision",
    "inconsistency",
    "risk_of_bias",
]

LEVELS = ("very low", "low", "moderate", "high")
DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
DOMAIN_LABELS = {
    "risk_of_bias": "Risk of bias",
    "inconsistency": "Inconsistency",
    "indirectness": "Indirectness",
    "imprecision": "Imprecision",
    "publication_bias": "Publication bias",
}
STEPS_DOWN = {"not_serious": 0, "serious": 1, "very_serious": 2}
JUDGEMENT_LABELS = {"not_serious": "not serious", "serious": "serious", "very_serious": "very serious"}

# Risk of bias: the share of the outcome's patients in reports judged at high risk of bias.
HIGH_RISK_SERIOUS = 0.25
HIGH_RISK_VERY_SERIOUS = 0.75
# Inconsistency: how far apart the true responses of reports lie (95 % of them, from tau²).
SPREAD_SERIOUS = 0.30
SPREAD_VERY_SERIOUS = 0.60
TAU2_ZERO = 1e-6  # the ML estimate of tau² sits on its boundary
# Imprecision: the width of the 95 % confidence interval, and the patients behind it (100 patients pin a
# proportion near 50 % to about +/- 10 points; fewer than 30 cannot pin it to +/- 20).
CI_SERIOUS, CI_VERY_SERIOUS = 0.20, 0.40
PATIENTS_SERIOUS, PATIENTS_VERY_SERIOUS = 100, 30


@dataclass(frozen=True)
class Domain:
    name: str
    judgement: str
    reason: str
    #: computed from the data here, or recorded with its reason in data/certainty.csv
    computed: bool

    @property
    def label(self) -> str:
        return DOMAIN_LABELS[self.name]


@dataclass(frozen=True)
class Finding:
    """One row of a summary of findings."""

    disease: str
    outcome: str
    #: ``None`` when no report says how many patients the outcome concerns
    n_patients: int | None
    n_reports: int
    #: the pooled or crude proportion (response, serious adverse events); ``None`` for steroid doses
    estimate: stats.PooledEstimate | None
    #: steroid doses before and after, one row per report or patient group (steroid-sparing only)
    doses: pd.DataFrame | None
    start: str
    domains: tuple[Domain, ...]

    @property
    def label(self) -> str:
        return OUTCOMES[self.outcome]

    @property
    def certainty(self) -> str:
        return certainty(self.start, self.domains)

    @property
    def main_reasons(self) -> list[Domain]:
        """The domains that lowered the certainty, the most serious first."""
        down = [d for d in self.domains if STEPS_DOWN[d.judgement] > 0]
        return sorted(down, key=lambda d: -STEPS_DOWN[d.judgement])


def certainty(start: str, domains: tuple[Domain, ...] | list[Domain]) -> str:
    steps = sum(STEPS_DOWN[d.judgement] for d in domains)
    return LEVELS[max(0, LEVELS.index(start) - steps)]


def start_level(designs: pd.Series) -> str:
    """High when every report is a randomised trial, low otherwise (observational or uncontrolled)."""
    return "high" if len(designs) and designs.eq("randomised_controlled_trial").all() else "low"


def _reports(n: int) -> str:
    return f"{n} report{'s' * (n != 1)}"


def risk_of_bias(reports: pd.DataFrame, appraisal: pd.DataFrame) -> Domain:
    """From the overall appraisal of the reports behind the outcome, weighted by all their patients (the
    appraisal judges a report, not one of its outcomes)."""
    overall = reports["source"].map(dict(zip(appraisal["source"], appraisal["overall"], strict=True)))
    is_high = overall.eq("high").fillna(False).astype(bool)
    patients = reports["n_patients"].astype(int)
    total, high = int(patients.sum()), int(patients[is_high].sum())
    share = high / total if total else 0.0
    judgement = (
        "very_serious"
        if share >= HIGH_RISK_VERY_SERIOUS
        else "serious"
        if share >= HIGH_RISK_SERIOUS
        else "not_serious"
    )
    k, n_high = len(reports), int(is_high.sum())
    who = f"{total} patient{'s' * (total != 1)}"
    behind = f"{_reports(k)} behind the outcome ({who})"
    if k == 1:
        reason = f"The one report ({who}) was judged at {overall.iloc[0]} risk of bias"
    elif n_high == 0:
        reason = f"None of the {behind} was judged at high risk of bias"
    elif n_high == k:
        reason = f"All the {behind} were judged at high risk of bias"
    else:
        reason = (
            f"{n_high} of the {behind} {'was' if n_high == 1 else 'were'} judged at high risk of bias, "
            f"with {high} of the patients"
        )
    weak = _weakest_item(reports["source"], appraisal)
    return Domain("risk_of_bias", judgement, reason + (f"; {weak}" if weak else "") + ".", True)


def _weakest_item(sources: pd.Series, appraisal: pd.DataFrame) -> str:
    """The core item most often not answered yes among these reports (on a tie, the one most often answered
    no), in words; for a single report, the items it answers no."""
    rows = appraisal[appraisal["source"].isin(set(sources))]
    if rows.empty:
        return ""
    if len(rows) == 1:
        noes = [_lower(ITEM_LABELS[i]) for i in CORE_ITEMS if rows[i].iloc[0] == "no"]
        return f"answered no: {', '.join(noes)}" if noes else ""
    missing = {item: (int(rows[item].ne("yes").sum()), int(rows[item].eq("no").sum())) for item in CORE_ITEMS}
    item = max(missing, key=missing.get)
    if not missing[item][0]:
        return ""
    return f"most often not shown: {_lower(ITEM_LABELS[item])} ({missing[item][0]} of {len(rows)} reports)"


def _lower(label: str) -> str:
    """'Other causes ruled out' -> 'other causes ruled out'; 'IVIG ascertained' stays."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def inconsistency(pooled: stats.PooledEstimate) -> Domain:
    """From the between-report variance: the range in which the true response of 95 % of reports would lie,
    ``expit(mu ± 1.96 tau)`` (the prediction interval adds the uncertainty of the mean, which is imprecision).
    A single report has nothing to compare; when every report has all its patients responding the model has no
    finite estimate, and there is no variation to judge either."""
    if pooled.k < 2:
        return Domain(
            "inconsistency",
            "not_serious",
            "A single report: there is no variation between reports to judge.",
            True,
        )
    if pooled.tau2 is None or pooled.mu is None:
        return Domain(
            "inconsistency",
            "not_serious",
            f"All {pooled.k} reports have every patient responding: no variation between them can be "
            "estimated.",
            True,
        )
    if pooled.tau2 < TAU2_ZERO:
        return Domain(
            "inconsistency",
            "not_serious",
            f"τ² = 0: no variation between the {pooled.k} reports was estimated "
            f"(95 % prediction interval {pooled.pi_low * 100:.0f}–{pooled.pi_high * 100:.0f} %).",
            True,
        )
    tau = math.sqrt(pooled.tau2)
    low, high = stats.expit(pooled.mu - stats.Z95 * tau), stats.expit(pooled.mu + stats.Z95 * tau)
    spread = high - low
    judgement = (
        "very_serious"
        if spread >= SPREAD_VERY_SERIOUS
        else "serious"
        if spread >= SPREAD_SERIOUS
        else "not_serious"
    )
    reason = (
        f"τ² = {pooled.tau2:.2f} (logit scale): the true response of 95 % of reports would lie within "
        f"{spread * 100:.0f} percentage points ({low * 100:.0f}–{high * 100:.0f} %)"
    )
    if pooled.pi_low is not None and pooled.pi_high is not None:
        reason += f"; 95 % prediction interval {pooled.pi_low * 100:.0f}–{pooled.pi_high * 100:.0f} %"
    return Domain("inconsistency", judgement, reason + ".", True)


def imprecision(n_patients: int | None, pooled: stats.PooledEstimate | None) -> Domain:
    """From the interval's width and the number of patients. Without an interval (steroid doses, which the
    reports give as single values or means) imprecision is at least serious: nothing shows how far off the
    figures may be. ``n_patients`` is ``None`` when no report says how many patients it concerns."""
    width = None
    if pooled is not None and pooled.ci_low is not None and pooled.ci_high is not None:
        width = pooled.ci_high - pooled.ci_low
    few = n_patients is None or n_patients < PATIENTS_VERY_SERIOUS
    if few or (width is not None and width >= CI_VERY_SERIOUS):
        judgement = "very_serious"
    elif width is None or n_patients < PATIENTS_SERIOUS or width >= CI_SERIOUS:
        judgement = "serious"
    else:
        judgement = "not_serious"
    patients = (
        "The reports do not say how many patients;"
        if n_patients is None
        else f"{n_patients} patient{'s' * (n_patients != 1)},"
    )
    interval = (
        f"a 95 % confidence interval {width * 100:.0f} percentage points wide"
        if width is not None
        else "no interval can be computed from what the reports give"
    )
    return Domain("imprecision", judgement, f"{patients} {interval}.", True)


def steroid_direction(doses: pd.DataFrame) -> Domain:
    """Inconsistency of steroid doses: whether the dose moved the same way in every report that gives one."""
    fell = doses["after"] < doses["before"]
    known = doses["after"].notna() & doses["before"].notna()
    n_fell, n_known = int((fell & known).sum()), int(known.sum())
    if n_known < 2:
        return Domain(
            "inconsistency", "not_serious", "One report or patient group: nothing to compare.", True
        )
    judgement = "not_serious" if n_fell in (0, n_known) else "serious"
    return Domain(
        "inconsistency",
        judgement,
        f"The dose fell in {n_fell} of {n_known} patient groups with both doses.",
        True,
    )


def recorded(judgements: pd.DataFrame, disease: str, outcome: str, domain: str) -> Domain:
    rows = judgements[
        (judgements["disease"] == disease)
        & (judgements["outcome"] == outcome)
        & (judgements["domain"] == domain)
    ]
    if rows.empty:  # the validator refuses this; unvalidated data shows it instead of guessing
        return Domain(domain, "not_serious", "Not yet judged (no row in data/certainty.csv).", False)
    row = rows.iloc[0]
    return Domain(domain, str(row["judgement"]), str(row["reason"]), False)
