"""The book layer (livingreview.book): what each page computes from data/."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from livingreview import stats
from livingreview.book import Chapter, Review, data_dictionary
from livingreview.datapkg.changelog import latest_entry
from livingreview.datapkg.descriptor import read_descriptor
from livingreview.datapkg.frames import DISEASES, Data
from livingreview.evidence import regimens
from livingreview.evidence.analyses import SENSITIVITY_METHODS
from livingreview.render import evidence_tables
from livingreview.render.blocks import Note
from livingreview.render.numbers import Text, describe_pooled, pct

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data() -> Data:
    return Data.load(ROOT)


def test_report_table_adds_up_case_groups_of_one_report(data):
    lv = Chapter("LV", data)
    reports = lv.reports.set_index("source")
    assert len(reports) == lv.cases["source"].nunique()
    # a report split into several case groups (e.g. one per dose group) is still one report
    sizes = lv.evidence.single_arm.groupby("source").size()
    split = sizes[sizes > 1].index[0]
    rows = lv.cases[lv.cases["source"] == split]
    expected = [len(rows), rows["n_patients"].sum(), rows["n_responders"].sum(min_count=1)]
    assert reports.loc[split, ["case_groups", "n_patients", "n_responders"]].tolist() == expected


def _with_cases(data: Data, cases: pd.DataFrame) -> Data:
    import dataclasses

    return dataclasses.replace(data, _cases=cases.reset_index(drop=True))


def test_report_without_response_counts_is_kept_but_not_pooled(data):
    silent = data.cases.assign(n_responders=data.cases["n_responders"].mask(data.cases["disease"] == "SSc"))
    ssc = Chapter("SSc", _with_cases(data, silent))
    assert ssc.reports["n_responders"].isna().all()
    assert len(ssc.reports) == ssc.evidence.single_arm["source"].nunique() > 0
    assert ssc.pooled.k == 0
    assert describe_pooled(ssc.pooled).startswith("not estimable")
    assert isinstance(ssc.forest_chart(), Note)


def test_controlled_study_arms_are_never_pooled(data):
    lv = data.cases[data.cases["disease"] == "LV"]
    trial_source = lv["source"].iloc[0]
    controlled_before = Chapter("LV", data).numbers()["controlled_reports"]
    as_trial = data.cases.assign(
        design=data.cases["design"].mask(data.cases["source"] == trial_source, "randomised_controlled_trial"),
        comparator=data.cases["comparator"].mask(data.cases["source"] == trial_source, "placebo"),
    )
    ch = Chapter("LV", _with_cases(data, as_trial))
    assert trial_source not in set(ch.reports["source"])
    assert trial_source in set(ch.evidence.all_reports["source"])
    assert ch.numbers()["controlled_reports"] == controlled_before + 1
    assert "placebo" in ch.numbers()["controlled_summary"]
    assert ch.pooled.n_events == int(ch.reports["n_responders"].sum())


def test_pooled_estimate_is_the_glmm_of_the_reports(data):
    lv = Chapter("LV", data)
    r = lv.reports
    expected = stats.pool_glmm(r["n_responders"].astype(int).tolist(), r["n_evaluable"].astype(int).tolist())
    assert lv.pooled == expected
    assert lv.numbers()["pooled"] == describe_pooled(expected)


def test_single_report_is_labelled_not_pooled(data):
    cle = data.cases[data.cases["disease"] == "CLE"]
    keep = cle.dropna(subset=["n_responders"])["source"].iloc[0]
    one = data.cases[(data.cases["disease"] != "CLE") | (data.cases["source"] == keep)]
    ch = Chapter("CLE", _with_cases(data, one))
    assert ch.numbers()["pooled"].endswith("from a single report (not pooled)")
    assert isinstance(ch.sensitivity_table(), Note)


@pytest.mark.parametrize("disease", DISEASES)
def test_numbers_are_consistent_with_the_case_rows(data, disease):
    ch = Chapter(disease, data)
    n = ch.numbers()
    assert n["patients"] == ch.cases["n_patients"].sum()
    assert n["reports"] == ch.cases["source"].nunique()
    assert n["responders"] <= n["evaluable"] <= n["patients"]
    assert n["claims_agree"] + n["claims_disagree"] + n["claims_uncheckable"] == n["claims"]
    for key, value in n.items():
        assert re.fullmatch(r"[a-z0-9_]+", key), key
        assert not (isinstance(value, float) and value.is_integer()), f"{key} should be glued as an int"


def test_glued_text_has_no_quotes():
    assert repr(Text("95 %")) == "95 %"


def test_outcome_values_are_glued_under_their_id(data):
    n = Chapter("SSc", data).numbers()
    row = data.outcomes.set_index("outcome_id").loc["SSc-sanges2017-muscle-pain-before"]
    assert n["sanges2017_muscle_pain_before"] == row["value"]
    assert n["sanges2017_muscle_pain_after_p"] == "<0.0001"


def test_every_glue_name_used_by_a_page_is_defined(data):
    """A typo in a {glue:text} role would only show up as a build warning; catch it here with a clear name."""
    from livingreview.book.selection import Selection

    names = {f"review_{k}" for k in Review(data).numbers()}
    names |= {f"selection_{k}" for k in Selection(data).numbers()}
    for disease in DISEASES:
        names |= {f"{disease.lower()}_{k}" for k in Chapter(disease, data).numbers()}
        names.add(f"{disease.lower()}_data_version")
    row_level = re.compile(r"^[a-z]+_[a-z]+[0-9]{4}[a-z]?_[0-9]{2}_")  # e.g. sjs_rist2011_04_n_improved
    for page in (ROOT / "book").glob("*.md"):
        text = page.read_text(encoding="utf-8")
        for used in re.findall(r"\{glue:text\}`([^`:]+)", text):
            assert used in names, f"{page.name} uses undefined glue name {used}"
            if row_level.match(used):
                assert "glue(rows=True)" in text, (
                    f"{page.name} quotes {used} but does not glue case-group rows"
                )


def test_subgroup_table_compares_only_classified_groups(data):
    frame = evidence_tables.subgroup_frame(Chapter("LV", data).evidence.subgroups)
    dose = frame[frame["Analysis"] == "Dose per cycle"].set_index("Subgroup")
    assert set(dose.index) == {regimens.DOSE_HIGH, regimens.DOSE_LOW, regimens.UNCLASSIFIED}
    assert dose.loc[regimens.UNCLASSIFIED, "Difference between subgroups"] == "not compared"
    assert dose.loc[regimens.DOSE_HIGH, "Difference between subgroups"].startswith("p = ")
    # every subgroup analysis accounts for every patient with a response outcome exactly once
    for _, part in frame.groupby("Analysis"):
        assert part["Patients"].sum() == Chapter("LV", data).numbers()["evaluable"]


def test_sensitivity_table_flags_the_clamped_freeman_tukey(data):
    frame = evidence_tables.sensitivity_frame(Chapter("LV", data).evidence.by_method).set_index("Method")
    ft = frame.loc[SENSITIVITY_METHODS["pft-dl"]]
    assert "cut off" in ft["Caveat"]
    assert frame.loc[SENSITIVITY_METHODS["glmm"], "Estimate"] == pct(Chapter("LV", data).pooled.estimate, 1)


def test_latest_change_reads_the_newest_entry():
    text = "# Changelog\n\n## 1.2.0 — 2027-01-05\n\n- x\n\n## 1.1.0 — 2026-12-01\n"
    assert latest_entry(text) == ("1.2.0", "2027-01-05")
    with pytest.raises(ValueError, match="no '## <version>"):
        latest_entry("# Changelog\n")


def test_shipped_changelog_matches_the_data_version(data):
    version, _ = latest_entry((ROOT / "data" / "CHANGELOG.md").read_text(encoding="utf-8"))
    assert version == data.version


def test_data_dictionary_lists_every_field_of_every_resource():
    package = read_descriptor(ROOT)
    html = "".join(t._repr_html_() for t in data_dictionary(ROOT))
    for resource in package["resources"]:
        for field in resource["schema"]["fields"]:
            assert f">{field['name']}<" in html, field["name"]


def test_steroid_frame_combines_patients_and_group_means(data):
    frame = evidence_tables.steroid_frame(data.cases, data.outcomes)
    per_patient = set(data.cases.dropna(subset=["steroid_mg_day_before"])["source"])
    group_means = set(data.outcomes.loc[data.outcomes["domain"] == "steroid", "source"])
    assert per_patient and group_means and set(frame["Report"]) == per_patient | group_means
    # the values the Sanges 2017 review states (a source document)
    ssc = frame[frame["Report"] == "sanges2017"].iloc[0]
    assert (ssc["Before (mg/day)"], ssc["After (mg/day)"], ssc["P value"]) == (
        "13 ± 11.6",
        "8.9 ± 10.4",
        "0.01",
    )


def test_data_text_is_escaped_in_chapter_tables(tmp_path, data):
    hostile = "<script>alert(1)</script>"
    cases = data.cases.copy()
    row = cases.index[cases["notes"].notna()][0]  # a case group whose notes the tables show
    cases.loc[row, "notes"] = hostile
    cases.loc[row, "subtype"] = hostile
    patched = _with_cases(data, cases)
    ch = Chapter(cases.loc[row, "disease"], patched)
    for table in (ch.response_table(), ch.regimen_table()):
        html = table._repr_html_()
        assert hostile not in html
        assert "&lt;script&gt;" in html


def test_unknown_disease_is_refused(data):
    with pytest.raises(ValueError, match="unknown disease"):
        Chapter("XYZ", data)


def test_review_summary_has_one_row_per_disease(data):
    frame = Review(data).summary_frame()
    assert frame["Patients"].sum() == data.cases["n_patients"].sum()
    assert len(frame) == len(DISEASES)
    json.dumps(frame.astype(str).to_dict())  # renders without exotic objects
    assert pd.api.types.is_integer_dtype(frame["Reports"])


def test_citation_comes_from_citation_cff_with_the_data_version(data):
    text = Review(data).numbers()["citation"]
    assert f"Data version {data.version}" in text
    assert "living review" in text


def test_every_chapter_follows_the_one_template():
    """The five disease chapters share their sections, in order: readers find the same thing in the same
    place, and a change to the template reaches every chapter."""
    headings = {}
    for disease in DISEASES:
        text = (ROOT / "book" / f"{disease.lower()}.md").read_text(encoding="utf-8")
        headings[disease] = [line for line in text.splitlines() if line.startswith("## ")]
    first = headings[DISEASES[0]]
    assert len(first) >= 8
    for disease, found in headings.items():
        assert found == first, disease


@pytest.mark.parametrize("disease", DISEASES)
def test_every_chapter_display_renders(data, disease):
    ch = Chapter(disease, data)
    for name in (
        "reports_table",
        "trials_table",
        "outcomes_table",
        "sensitivity_table",
        "subgroup_table",
        "forest_chart",
        "cumulative_chart",
        "before_after_charts",
        "regimen_table",
        "response_table",
        "safety_table",
        "steroid_table",
        "claims_table",
        "references",
    ):
        assert getattr(ch, name)()._repr_html_(), name


def test_reference_lists_decode_every_latex_command(tmp_path):
    """Chapter reference lists and table labels come from the same decoder as the bibliography page (pybtex's
    latexcodec): no LaTeX command or brace may survive, in a bib written here or in the review's own."""
    from livingreview.render import citations

    (tmp_path / "references.bib").write_text(
        '@article{senturk2020,\n  author = {{\\c{S}}ent{\\"u}rk, N. and M{\\o}ller, A.},\n'
        "  title = {A {\\'e}tude},\n  journal = {J},\n  year = {2020}\n}\n",
        encoding="utf-8",
    )
    assert citations.label("senturk2020", tmp_path) == "Şentürk & Møller 2020"
    assert "Şentürk N, Møller A" in citations.format_text("senturk2020", tmp_path)
    for root in (tmp_path, ROOT):
        for key in citations.references(root):
            text = citations.format_text(key, root) + citations.label(key, root)
            assert "\\" not in text and "{" not in text and "}" not in text, (key, text)
