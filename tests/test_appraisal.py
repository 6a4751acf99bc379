"""Appraisal, leave-out sensitivity analyses and summaries of findings (issue 11).

* the validator refuses incomplete or invalid appraisals and GRADE judgements with located messages, exit 1,
  no traceback and every file untouched (each corruption picks its rows by what they hold, so the tests do not
  depend on which reports are in the data today);
* the leave-out analyses agree with R (``tests/reference/r_leave_out.json``: metafor's ``rma.glmm`` with
  ``nAGQ = 25`` on each subset of the livedoid vasculopathy reports of Gao & Jin 2022 Table 2, with the flags
  recorded there; see ``tests/reference/README.md``);
* every summary of findings repeats its chapter's numbers, and the synthesis repeats the chapters'.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from livingreview.book import Chapter, Review
from livingreview.datapkg.appraisal_rules import CORE_ITEMS, ITEMS, RECORDED_DOMAINS
from livingreview.datapkg.frames import DISEASES
from livingreview.datapkg.summary_outcomes import OUTCOMES
from livingreview.evidence import certainty
from livingreview.evidence.analyses import pooled_response
from livingreview.evidence.appraisal import LEAVE_OUTS, leave_out
from livingreview.render import findings as sof
from livingreview.render.numbers import estimate_interval
from test_corruptions import Table, copy_tree, hashes, run_cli

REF = json.loads((Path(__file__).parent / "reference" / "r_leave_out.json").read_text(encoding="utf-8"))


# --- the validator ------------------------------------------------------------------------------------------


def _validate(root: Path, capsys) -> str:
    before = hashes(root)
    code, output = run_cli(["--root", str(root), "validate"], capsys)
    assert code == 1, output
    assert "Traceback" not in output and "internal error" not in output
    assert hashes(root) == before, "validate modified a file"
    return output


def _expect(output: str, location: str, fragment: str) -> None:
    lines = [line for line in output.splitlines() if line.startswith(location)]
    assert lines, f"expected {location} in:\n{output}"
    assert any(fragment in line for line in lines), f"expected {fragment!r} at {location} in:\n{output}"


def _with(t: Table, **answers: str) -> str:
    """The first appraisal row where every given column holds the given answer."""
    return t.find(lambda r: all(r[c] == v for c, v in answers.items()))


def test_a_report_without_appraisal_is_named_at_its_first_case_group(tmp_path, capsys):
    root = copy_tree(tmp_path)
    appraisal = Table(root, "appraisal")
    source = appraisal.rows[0][0]
    appraisal.rows = [r for r in appraisal.rows if r[0] != source]
    appraisal.save()
    rec = Table(root, "appraisal_reconciliation")  # its rows of that report would fail the foreign key
    rec.rows = [r for r in rec.rows if r[0] != source]
    rec.save()
    cases = Table(root, "cases")
    first = cases.find(lambda r: r["source"] == source)
    output = _validate(root, capsys)
    _expect(
        output,
        f"data/cases.csv:{cases.line(first)}:source:",
        f"report {source!r} has no row in data/appraisal.csv",
    )


@pytest.mark.parametrize("item", ITEMS)
def test_an_answer_outside_the_allowed_set_is_refused(item, tmp_path, capsys):
    root = copy_tree(tmp_path)
    t = Table(root, "appraisal")
    key = t.rows[-1][0]
    t.set(key, item, "probably").save()
    _expect(_validate(root, capsys), f"data/appraisal.csv:{t.line(key)}:{item}:", "probably")


@pytest.mark.parametrize("answer", ["yes", "no"])
def test_a_yes_or_no_without_reason_is_refused(answer, tmp_path, capsys):
    root = copy_tree(tmp_path)
    t = Table(root, "appraisal")
    item = next(i for i in ITEMS if any(r[i] == answer for r in t.dicts()))
    key = _with(t, **{item: answer})
    t.set(key, f"{item}_reason", "").save()
    _expect(
        _validate(root, capsys),
        f"data/appraisal.csv:{t.line(key)}:{item}_reason:",
        f"{item} is {answer!r} but has no reason",
    )


def test_low_risk_with_a_core_no_is_refused(tmp_path, capsys):
    root = copy_tree(tmp_path)
    t = Table(root, "appraisal")
    key = t.find(lambda r: any(r[i] == "no" for i in CORE_ITEMS))
    t.set(key, "overall", "low").save()
    _expect(
        _validate(root, capsys), f"data/appraisal.csv:{t.line(key)}:overall:", "low needs every core item yes"
    )


def test_high_risk_with_every_core_item_yes_is_refused(tmp_path, capsys):
    root = copy_tree(tmp_path)
    t = Table(root, "appraisal")
    key = t.rows[0][0]
    for item in CORE_ITEMS:
        t.set(key, item, "yes").set(key, f"{item}_reason", "Stated in the text.")
    t.set(key, "overall", "high").save()
    _expect(_validate(root, capsys), f"data/appraisal.csv:{t.line(key)}:overall:", "every core item is 'yes'")


def test_an_appraisal_of_a_report_not_included_is_refused(tmp_path, capsys):
    root = copy_tree(tmp_path)
    t = Table(root, "appraisal")
    included = {r["source"] for r in Table(root, "cases").dicts()}
    bib = (root / "references.bib").read_text(encoding="utf-8")
    outsider = next(k for k in ("balshem2011", "murad2018") if k not in included and f"{{{k}," in bib)
    row = list(t.rows[0])
    row[0] = outsider
    t.rows = sorted([*t.rows, row])
    t.save()
    _expect(
        _validate(root, capsys), f"data/appraisal.csv:{t.line(outsider)}:source:", "only included reports"
    )


def test_a_resolved_disagreement_must_be_the_answer_kept(tmp_path, capsys):
    root = copy_tree(tmp_path)
    rec = Table(root, "appraisal_reconciliation")
    row = rec.dicts()[0]
    other = next(a for a in ("yes", "no", "unclear") if a != row["resolved"])
    rec.rows[0][rec.header.index("resolved")] = other
    rec.save()
    output = _validate(root, capsys)
    _expect(output, "data/appraisal_reconciliation.csv:2:resolved:", f"resolved is {other!r}")


@pytest.mark.parametrize("domain", RECORDED_DOMAINS)
def test_an_outcome_without_its_recorded_judgement_is_refused(domain, tmp_path, capsys):
    root = copy_tree(tmp_path)
    t = Table(root, "certainty")
    gone = next(r for r in t.dicts() if r["domain"] == domain)
    t.rows = [r for r in t.rows if dict(zip(t.header, r, strict=True)) != gone]
    t.save()
    _expect(
        _validate(root, capsys),
        "data/certainty.csv:1:domain:",
        f"no {domain} judgement for {gone['disease']} {gone['outcome']}",
    )


def test_a_judgement_of_an_outcome_nobody_reports_is_refused(tmp_path, capsys):
    root = copy_tree(tmp_path)
    t = Table(root, "certainty")
    have = {(r["disease"], r["outcome"]) for r in t.dicts()}
    disease, outcome = next((d, o) for d in DISEASES for o in OUTCOMES if (d, o) not in have)
    t.rows = sorted([*t.rows, [disease, outcome, "indirectness", "not_serious", "A reason long enough."]])
    t.save()
    line = 1 + next(i for i, r in enumerate(t.rows, 1) if r[:2] == [disease, outcome])
    _expect(
        _validate(root, capsys),
        f"data/certainty.csv:{line}:outcome:",
        f"no report of {disease} gives {outcome}",
    )


# --- leave-out analyses against R ---------------------------------------------------------------------------


def test_leave_out_analyses_agree_with_metafor():
    data = REF["data"]
    reports = pd.DataFrame(
        {
            "disease": "LV",
            "source": data["source"],
            "year": data["year"],
            "n_patients": data["n"],
            "n_evaluable": data["n"],
            "n_responders": data["events"],
            "extraction_level": data["extraction_level"],
        }
    )
    appraisal = pd.DataFrame(
        {"source": data["source"], "overall": data["overall"], "immunosuppression": data["immunosuppression"]}
    )
    main = pooled_response(reports)
    assert main.estimate == pytest.approx(REF["primary"]["estimate"], abs=1e-4)
    results = {a.key: a for a in leave_out(reports, appraisal, main)}
    assert set(results) == set(LEAVE_OUTS) == set(REF["fits"])
    for key, expected in REF["fits"].items():
        got = results[key].pooled
        assert sorted(results[key].left_out) == sorted(expected["left_out"]), key
        assert got.k == expected["k"], key
        for field in ("estimate", "ci_low", "ci_high"):
            assert getattr(got, field) == pytest.approx(expected[field], abs=1e-4), (key, field)
        if expected["finite"]:
            assert got.tau2 == pytest.approx(expected["tau2"], abs=1e-4), key
            assert results[key].change == pytest.approx(
                expected["estimate"] - REF["primary"]["estimate"], abs=1e-4
            )


# --- summaries of findings ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def review() -> Review:
    return Review()


@pytest.mark.parametrize("disease", DISEASES)
def test_summary_of_findings_repeats_the_chapter(review, disease):
    ch: Chapter = review.chapters[disease]
    n = ch.numbers(rows=False)
    rows = {f.outcome: f for f in ch.evidence.findings}
    if "response" in rows:
        f = rows["response"]
        assert f.estimate == ch.pooled
        assert f.n_patients == n["evaluable"]
        assert f.n_reports == n["reports_with_response"]
        frame = sof.sof_frame(ch.evidence.findings)
        effect = frame.loc[frame["Outcome"] == OUTCOMES["response"], "Effect"].iloc[0]
        assert estimate_interval(ch.pooled.estimate, ch.pooled.ci_low, ch.pooled.ci_high) in effect
        assert n["certainty"] == f.certainty
    if "serious_adverse_events" in rows:
        counted = ch.cases.dropna(subset=["n_serious_adverse_events"])
        f = rows["serious_adverse_events"]
        assert f.estimate.n_events == int(counted["n_serious_adverse_events"].sum())
        assert f.n_patients == int(counted["n_patients"].sum())
    for f in rows.values():
        assert f.certainty == certainty.certainty(f.start, f.domains)
        assert [d.name for d in f.domains] == list(certainty.DOMAINS)


def test_the_synthesis_repeats_every_chapter(review):
    synthesis = review.summary_of_findings().frame.drop(columns="Disease").reset_index(drop=True)
    chapters = pd.concat(
        [ch.summary_of_findings().frame for ch in review.chapters.values()], ignore_index=True
    )
    pd.testing.assert_frame_equal(synthesis, chapters)


def test_computed_domains_follow_their_rules():
    from livingreview import stats

    tight = stats.PooledEstimate(
        "glmm", 5, 400, 200, 0.5, 0.45, 0.55, tau2=0.0, mu=0.0, pi_low=0.45, pi_high=0.55
    )
    assert certainty.imprecision(400, tight).judgement == "not_serious"
    assert certainty.imprecision(certainty.PATIENTS_SERIOUS - 1, tight).judgement == "serious"
    assert certainty.imprecision(certainty.PATIENTS_VERY_SERIOUS - 1, tight).judgement == "very_serious"
    wide = stats.PooledEstimate("glmm", 5, 400, 200, 0.5, 0.25, 0.75)
    assert certainty.imprecision(400, wide).judgement == "very_serious"
    assert certainty.imprecision(None, None).judgement == "very_serious"
    assert certainty.inconsistency(tight).judgement == "not_serious"
    spread = stats.PooledEstimate(
        "glmm", 5, 400, 200, 0.5, 0.4, 0.6, tau2=1.0, mu=0.0, pi_low=0.1, pi_high=0.9
    )
    assert certainty.inconsistency(spread).judgement == "very_serious"  # expit(±1.96) spans 75 points
    reports = pd.DataFrame({"source": ["a", "b", "c"], "n_patients": [1, 1, 8]})
    appraisal = pd.DataFrame(
        {"source": ["a", "b", "c"], "overall": ["high", "high", "low"], **{i: "yes" for i in CORE_ITEMS}}
    )
    assert certainty.risk_of_bias(reports, appraisal).judgement == "not_serious"  # 2 of 10 patients
    appraisal["overall"] = ["high", "high", "high"]
    assert certainty.risk_of_bias(reports, appraisal).judgement == "very_serious"
    down = [certainty.Domain("imprecision", "very_serious", "", True)]
    assert certainty.certainty("high", down) == "low"
    assert certainty.certainty("low", down) == "very low"
