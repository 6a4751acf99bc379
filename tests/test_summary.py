"""Tests of ``livingreview summary`` (on a synthetic table and on the shipped data) and of the forest and
cumulative charts built from the same reports."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from livingreview import cli, stats
from livingreview.cli import summary
from livingreview.errors import UserError
from livingreview.evidence import analyses, reports
from livingreview.evidence.reports import report_table
from livingreview.render import forest

ROOT = Path(__file__).resolve().parents[1]


def cases(rows):
    frame = pd.DataFrame(rows, columns=["case_id", "disease", "source", "year", "n_patients", "n_responders"])
    for col in ("year", "n_patients", "n_responders"):
        frame[col] = frame[col].astype("Int64")
    return frame


SYNTH = cases(
    [
        ("A-1", "LV", "a2001", 2001, 3, 2),
        ("A-2", "LV", "a2001", 2001, 2, 2),  # same report, second dose group
        ("B-1", "LV", "b2005", 2005, 10, 7),
        ("C-1", "LV", "c2010", 2010, 4, 4),
        ("D-1", "LV", "d2012", 2012, 6, pd.NA),  # response not reported
        ("S-1", "SSc", "s2017", 2017, 46, pd.NA),
        ("J-1", "SjS", "j2011", 2011, 9, 5),
    ]
)


def test_reports_are_summed_by_source():
    rep = reports.reports_by_source(SYNTH)
    lv = rep[rep["disease"] == "LV"].set_index("source")
    assert list(lv.index) == ["a2001", "b2005", "c2010"]
    assert (lv.loc["a2001", "n_patients"], lv.loc["a2001", "n_responders"]) == (5, 4)
    assert lv.loc["a2001", "n_case_groups"] == 2


def test_summarise_counts_and_methods():
    out = reports.summarise(SYNTH, data_version="9.9.9")
    assert out["schema_version"] == reports.SCHEMA_VERSION
    by = {d["disease"]: d for d in out["diseases"]}
    assert list(by) == ["LV", "SSc", "SjS"]
    lv = by["LV"]
    assert (lv["reports"], lv["case_groups"], lv["patients"]) == (4, 5, 25)
    assert (lv["reports_with_response"], lv["patients_with_response"], lv["responders"]) == (3, 19, 15)
    assert lv["patients_excluded"] == 6
    want = stats.pool_glmm([4, 7, 4], [5, 10, 4]).to_dict()
    assert lv["pooled"] == want
    lo, hi = stats.clopper_pearson(15, 19)
    assert (lv["crude"]["ci_low"], lv["crude"]["ci_high"]) == (lo, hi)
    assert by["SSc"]["pooled"]["method"] == stats.METHOD_NONE
    assert by["SSc"]["patients_excluded"] == 46
    assert by["SjS"]["pooled"]["method"] == stats.METHOD_SINGLE
    json.dumps(out, allow_nan=False)


def test_format_table_mentions_every_disease():
    text = summary.format_table(reports.summarise(SYNTH))
    for code in ("LV", "SSc", "SjS"):
        assert code in text
    assert "6 patient(s) without response data excluded" in text


def test_invalid_counts_are_a_user_error():
    bad = cases([("X-1", "LV", "x", 2000, 2, 3)])
    with pytest.raises(UserError, match="between 0 and n_patients"):
        reports.summarise(bad)


def test_cli_json_on_repository_data(capsys):
    assert cli.main(["--root", str(ROOT), "summary", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["schema_version"] == reports.SCHEMA_VERSION
    for d in out["diseases"]:
        assert d["patients"] == d["patients_with_response"] + d["patients_excluded"]
        p = d["pooled"]
        assert p["k"] == d["reports_with_response"]
        if p["estimate"] is not None:
            assert 0 <= p["ci_low"] <= p["estimate"] <= p["ci_high"] <= 1


def test_cli_json_is_stable(capsys):
    cli.main(["--root", str(ROOT), "summary", "--json"])
    first = capsys.readouterr().out
    cli.main(["--root", str(ROOT), "summary", "--json"])
    assert capsys.readouterr().out == first
    assert list(json.loads(first)) == sorted(json.loads(first))


def test_cli_text(capsys):
    assert cli.main(["--root", str(ROOT), "summary"]) == 0
    assert "Pooled (95% CI)" in capsys.readouterr().out


def test_cli_missing_data_is_user_error(tmp_path, capsys):
    assert cli.main(["--root", str(tmp_path), "summary"]) == 1
    assert "no data/cases.csv" in capsys.readouterr().err


def _lv_reports():
    reports_ = report_table(SYNTH)
    return reports_[reports_["disease"] == "LV"]


def test_forest_chart_and_description():
    lv = _lv_reports()
    per_report = analyses.with_exact_intervals(lv)
    pooled = analyses.pooled_response(lv)
    rows = forest.forest_rows(per_report, pooled)
    assert list(rows["kind"]) == ["report"] * 3 + ["pooled"]
    assert forest.forest_chart(rows, title="LV").to_dict()["title"]["text"] == "LV"
    text = forest.forest_description(rows, pooled)
    assert "3 report(s) (19 patients, 15 responders)" in text


def test_cumulative_chart_and_description():
    cum = analyses.cumulative(_lv_reports())
    assert forest.cumulative_chart(cum).to_dict()["title"]
    assert list(cum["year"]) == [2001, 2005, 2010]
    assert "After 2010 (3 reports, 19 patients)" in forest.cumulative_description(cum)
