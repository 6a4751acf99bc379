"""Every total the five source documents state, recomputed from data/ (the numbers here are the sources').

Each test names the document and the place where it states the number. Where a source contradicts itself,
the test pins what its tables add up to and data/claims.csv records the discrepancy for the book.
"""

from pathlib import Path

import pandas as pd
import pytest

from livingreview.datapkg.descriptor import read_descriptor
from livingreview.datapkg.frames import load_cases, load_outcomes
from livingreview.evidence import regimens
from livingreview.evidence.claims import QUANTITIES, check_claims, load_claims

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cases() -> pd.DataFrame:
    return load_cases(ROOT)


@pytest.fixture(scope="module")
def outcomes() -> pd.DataFrame:
    return load_outcomes(ROOT)


@pytest.fixture(scope="module")
def lv(cases) -> pd.DataFrame:
    return cases[cases["via"] == "gao2022"]


def outcome(outcomes, outcome_id):
    row = outcomes[outcomes["outcome_id"] == outcome_id]
    assert len(row) == 1, outcome_id
    return row.iloc[0]


# --- Leukocytoclastic vasculitis: Ferranti 2021 (seed 000) -------------------------------------------------


def test_lcv_single_patient_regimen_and_steroid_withdrawal(cases):
    lcv = cases[cases["source"] == "ferranti2021"]
    assert lcv["n_patients"].tolist() == [1]
    row = lcv.iloc[0]
    # 2 g/kg over 2 days, then six monthly infusions: 7 cycles in all.
    assert (row.dose_g_kg_min, row.days_per_cycle_min, row.cycles_min) == (2, 2, 7)
    # prednisone 25 mg/day, stopped three months after the last infusion
    assert (row.steroid_drug, row.steroid_mg_day_before, row.steroid_mg_day_after) == ("prednisone", 25, 0)
    assert pd.isna(row.country) and pd.isna(row.age_years)  # the summary states neither


# --- Cutaneous lupus: Singh 2020 (seed 001) -----------------------------------------------------------------


def test_cle_single_patient(cases):
    cle = cases[cases["source"] == "singh2020"]
    assert len(cle) == 1
    row = cle.iloc[0]
    assert (row.n_patients, row.age_years, row.n_female, row.country) == (1, 47, 1, "India")
    # 2 g/kg over five days, then 1 g/kg monthly for four months
    assert (row.dose_g_kg_min, row.dose_g_kg_max, row.cycles_min) == (1, 2, 5)
    # deflazacort tapered from 18 to 6 mg/day without relapse
    assert (row.steroid_mg_day_before, row.steroid_mg_day_after, row.n_relapsed) == (18, 6, 0)


# --- Livedoid vasculopathy: Gao & Jin 2022 (seed 002) -------------------------------------------------------


def test_lv_review_includes_17_reports_80_patients_76_responders(lv):
    # Abstract and Results: "Eighty LV patients from 17 articles"; effective in 95% (76/80)
    assert lv["source"].nunique() == 17
    assert lv["n_patients"].sum() == 80
    assert lv["n_responders"].sum() == 76
    assert round(100 * lv["n_responders"].sum() / lv["n_patients"].sum()) == 95


def test_lv_table2_responders_per_report(lv):
    per_report = lv.groupby("source")[["n_responders", "n_patients"]].sum()
    # Table 2 "Responded patients": the four reports with a non-responder
    non_responders = (per_report["n_patients"] - per_report["n_responders"])[lambda s: s > 0]
    assert non_responders.to_dict() == {"bounfour2013": 1, "kofler2021": 1, "kreuter2004": 1, "monshi2014": 1}


def test_lv_sex_counts_reproduce_table1_not_the_text(lv):
    # Text: 24 men and 56 women; Table 1 gives Levy 1999 (2 patients) as 0/1, so the table adds up to 23/56.
    assert lv["n_female"].sum() == 56
    assert lv["n_male"].sum() == 23
    assert lv.loc[lv["source"] == "levy1999", ["n_male", "n_female", "n_patients"]].values.tolist() == [
        [0, 1, 2]
    ]


def test_lv_age_range(lv):
    # Results: ages ranged from 17 to 83 years
    assert (lv["age_min"].min(), lv["age_max"].max()) == (17, 83)


def test_lv_thrombophilia_screening(lv, outcomes):
    # Results: 63 patients screened, 14 with at least one thrombophilic factor
    per_group = lv["n_thrombophilic"].sum()
    screened_groups = lv.loc[lv["n_thrombophilic"].notna(), "n_patients"].sum()
    ravat = outcome(outcomes, "LV-ravat2002-thrombophilic-overall")  # reported for its two patients together
    assert (per_group + ravat.value, screened_groups + ravat.n) == (14, 63)


def test_lv_dose_groups(lv):
    # Table 4 and text: 65 high-dose (2-2.1 g/kg) and 12 low-dose patients;
    # Takahagi 2021 (1.75 g/kg) is in neither group
    groups = lv.groupby(regimens.dose_group(lv))["n_patients"].sum().to_dict()
    assert groups == {regimens.DOSE_HIGH: 65, regimens.DOSE_LOW: 13, regimens.UNCLASSIFIED: 2}
    takahagi = lv[lv["source"] == "takahagi2021"]
    assert takahagi["dose_g_kg_max"].tolist() == [1.75]


def test_lv_daily_dose_groups_among_high_dose(lv):
    # Text: 27 high daily dose (> 0.5 g/kg/day), 31 conventional; Kim 2015 (7 patients) not classifiable
    high = lv[regimens.dose_group(lv) == regimens.DOSE_HIGH]
    daily = high.groupby(regimens.daily_dose_group(high))["n_patients"].sum().to_dict()
    assert daily == {regimens.DAILY_HIGH: 27, regimens.DAILY_CONVENTIONAL: 31, regimens.UNCLASSIFIED: 7}
    assert high.loc[regimens.daily_dose_group(high) == regimens.UNCLASSIFIED, "source"].tolist() == [
        "kim2015"
    ]


def test_lv_designs_and_countries(lv):
    # Results: 2 retrospective studies, 1 open prospective trial, 14 case series/reports, 12 countries
    designs = lv.drop_duplicates("source")["design"].value_counts().to_dict()
    assert designs == {
        "case_report": 8,
        "case_series": 6,
        "retrospective_cohort": 2,
        "prospective_open_trial": 1,
    }
    assert lv["country"].nunique() == 12


def test_lv_recurrence_table_adds_to_22_not_23(lv):
    # Text: 23 patients relapsed; Table 2's recurrence column adds up to 22
    assert lv["n_relapsed"].sum() == 22


def test_lv_headache_reports(lv):
    # Adverse events: headache reported by refs 5, 6, 13, 16, 17, 20, 22
    named = lv[lv["adverse_events"].str.contains("headache", na=False)]["source"].unique()
    assert sorted(named) == sorted(
        ["scarpone2020", "monshi2014", "kreuter2004", "bounfour2013", "kim2015", "ozden2020", "kofler2021"]
    )


# --- Systemic sclerosis: Sanges 2017 (seed 003) ------------------------------------------------------------


def test_ssc_cohort_and_before_after_outcomes(cases, outcomes):
    ssc = cases[cases["source"] == "sanges2017"]
    assert ssc["n_patients"].tolist() == [46]
    assert ssc["n_serious_adverse_events"].tolist() == [2]
    expected = {  # measure slug: (before, after, p)
        "muscle-pain": (74, 20, "<0.0001"),
        "muscle-weakness": (45, 21, "0.01"),
        "joint-pain": (44, 19, "0.02"),
        "ck": (1069, 288, "<0.0001"),
        "crp": (13.1, 9.2, "0.001"),
        "gerd": (68, 53, "0.06"),
        "bowel": (42, 27, "0.06"),
        "steroid-dose": (13.0, 8.9, "0.01"),
    }
    for slug, (before, after, p) in expected.items():
        b = outcome(outcomes, f"SSc-sanges2017-{slug}-before")
        a = outcome(outcomes, f"SSc-sanges2017-{slug}-after")
        assert (b.value, a.value, a.p_value) == (before, after, p), slug
    sds = {
        s: (
            outcome(outcomes, f"SSc-sanges2017-{s}-before").sd,
            outcome(outcomes, f"SSc-sanges2017-{s}-after").sd,
        )
        for s in ("ck", "crp", "steroid-dose")
    }
    assert sds == {"ck": (1552, 449), "crp": (17.6, 16.6), "steroid-dose": (11.6, 10.4)}


# --- Sjögren's neuropathy: Rist 2011 (seed 004) ------------------------------------------------------------


def test_sjs_neuropathy_types_add_up_to_19(cases):
    sjs = cases[cases["source"] == "rist2011"].set_index("subtype")
    assert sjs["n_patients"].sum() == 19
    assert sjs["n_patients"].to_dict() == {
        "sensorimotor neuropathy": 5,
        "non-ataxic sensory neuropathy": 4,
        "neuropathy with conduction block": 1,
        "ataxic sensory neuropathy": 9,
    }
    ataxic = sjs.loc["ataxic sensory neuropathy"]
    assert (ataxic.n_improved, ataxic.n_stable, ataxic.n_worsened) == (2, 3, 4)
    # Everyone outside the ataxic group improved or stabilised.
    others = sjs.drop("ataxic sensory neuropathy")
    assert (others["n_responders"] == others["n_patients"]).all()


def test_sjs_cohort_level_outcomes(outcomes):
    assert outcome(outcomes, "SjS-rist2011-schedule-5-days-overall").value == 10
    assert outcome(outcomes, "SjS-rist2011-schedule-2-days-overall").value == 9
    assert outcome(outcomes, "SjS-rist2011-on-steroids-before").value == 13
    assert outcome(outcomes, "SjS-rist2011-steroid-reduced-after").value == 10
    before = outcome(outcomes, "SjS-rist2011-prednisone-dose-before").value
    after = outcome(outcomes, "SjS-rist2011-prednisone-dose-after").value
    assert (before, after) == (15, 10)
    assert outcome(outcomes, "SjS-rist2011-age-overall").value == 60


# --- data/claims.csv: the statements the book checks -------------------------------------------------------

# The statements of the five source documents (the seeds); claims from other reports are checked below
# without pinning them, so a new report's claims need no test edit.
SEED_SOURCES = {"ferranti2021", "singh2020", "gao2022", "sanges2017", "rist2011"}
EXPECTED_DISAGREEMENTS = {"gao2022-men": 23, "gao2022-recurrence": 22, "gao2022-low-dose": 13}
NOT_CHECKABLE = {
    "gao2022-age-median",
    "gao2022-headache-patients",
    "gao2022-hypertension",
    "gao2022-serious-ae",
    "rist2011-schedules",
}


def _seed_claims(checked: pd.DataFrame) -> pd.DataFrame:
    """Claims the seed documents make (a report's own abstract, read later, is another document)."""
    from_seed = checked["source"].isin(SEED_SOURCES) & ~checked.index.str.contains("-abstract-")
    return checked[from_seed]


def test_every_stated_total_agrees_except_the_known_discrepancies(cases, outcomes):
    checked = _seed_claims(check_claims(cases, outcomes, load_claims(ROOT)).set_index("claim_id"))
    agrees = checked["agrees"]  # nullable boolean: <NA> where the data cannot check the statement
    disagree = checked[agrees.eq(False).fillna(False)]
    assert disagree["computed_value"].to_dict() == EXPECTED_DISAGREEMENTS
    assert set(checked.index[agrees.isna()]) == NOT_CHECKABLE
    assert agrees.eq(True).fillna(False).sum() > 0  # the rest agree, and there is a rest


def test_every_claim_that_differs_or_cannot_be_checked_says_why(cases, outcomes):
    checked = check_claims(cases, outcomes, load_claims(ROOT))
    unresolved = checked[~checked["agrees"].eq(True).fillna(False)]
    assert unresolved["notes"].notna().all(), list(unresolved.loc[unresolved["notes"].isna(), "claim_id"])


def test_claim_quantities_match_the_schema_enum():
    package = read_descriptor(ROOT)
    claims = next(r for r in package["resources"] if r["name"] == "claims")
    enum = next(f for f in claims["schema"]["fields"] if f["name"] == "quantity")["constraints"]["enum"]
    assert sorted(enum) == sorted(QUANTITIES)
