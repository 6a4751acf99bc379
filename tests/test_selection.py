"""The living review's own record: the PRISMA flow computed from the screening log, its exports, and the
ledger entries a contributor's report adds. Expectations come from the tables themselves or from fixtures
built here, so a new search round needs no test edit."""

from __future__ import annotations

import csv
import io
import itertools
import shutil
from pathlib import Path

import pandas as pd
import pytest

from livingreview import cli
from livingreview.datapkg import ledger, prisma_flow
from livingreview.datapkg.frames import load_table
from livingreview.render import prisma

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def flows() -> list[prisma_flow.RoundFlow]:
    return prisma_flow.flow(ROOT)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    names = ("searches", "search_results", "records", "screening")
    return {name: load_table(ROOT, name) for name in names}


def test_every_round_of_the_ledger_has_a_flow(flows, tables):
    rounds = set(tables["records"]["round"]) | set(tables["screening"]["round"])
    assert [f.round for f in flows] == sorted(int(r) for r in rounds)


def test_flow_counts_come_from_the_log(flows, tables):
    s, records, results, searches = (
        tables["screening"],
        tables["records"],
        tables["search_results"],
        tables["searches"],
    )
    for f in flows:
        mine = searches[searches["round"] == f.round]
        hits = results[results["search_id"].isin(mine["search_id"])]
        assert f["database_results"] == hits["address"].nunique()
        new_db = records[(records["round"] == f.round) & (records["identified_by"] == "database")]
        assert f["records_screened"] == len(new_db)
        eligible = s[(s["round"] == f.round) & (s["stage"] == "3_eligibility")]
        assert f["new_reports"] == int((eligible["decision"] == "include").sum())
        assert f["dbr_excluded"] + f["other_excluded"] == int((eligible["decision"] == "exclude").sum())


def test_totals_carry_over_between_rounds(flows):
    for before, after in itertools.pairwise(flows):
        assert after["previous_studies"] == before["total_studies"]
        assert after["total_studies"] == before["total_studies"] + after["new_studies"]
        assert after["total_reports"] == before["total_reports"] + after["new_reports"]


def test_a_box_that_does_not_add_up_fails():
    f = prisma_flow.RoundFlow(1, "2026-01-01")
    f.counts = {
        k: 0 for k in ("previous_studies", "previous_reports", "register_results", "excluded_automatic")
    }
    f.counts.update(
        database_results=10,
        duplicates=2,
        excluded_other=0,
        records_screened=8,
        records_excluded=5,
        dbr_sought_reports=4,
        dbr_notretrieved_reports=0,
        dbr_assessed=4,
        dbr_excluded=1,
        dbr_included=3,
        website_results=0,
        organisation_results=0,
        citations_results=0,
        submission_results=0,
        other_sought_reports=0,
        other_notretrieved_reports=0,
        other_assessed=0,
        other_excluded=0,
        other_included=0,
    )
    with pytest.raises(
        prisma_flow.FlowError, match="records screened minus excluded is 3, but reports sought"
    ):
        prisma_flow._check(f, "x")
    f.counts["dbr_sought_reports"] = 3
    f.counts["dbr_assessed"] = 3
    f.counts["dbr_included"] = 2
    prisma_flow._check(f, "x")  # adds up now


def test_prisma2020_csv_has_the_template_layout(flows):
    rows = list(csv.DictReader(io.StringIO(prisma.prisma2020_csv(flows[-1]))))
    assert list(rows[0]) == ["data", "node", "box", "description", "boxtext", "tooltips", "url", "n"]
    by_key = {r["data"]: r["n"] for r in rows if r["data"] != "NA"}
    for key in (
        "previous_studies",
        "database_results",
        "duplicates",
        "records_screened",
        "dbr_assessed",
        "new_studies",
        "total_studies",
        "identification",
        "screening",
        "included",
    ):
        assert key in by_key, key
    assert int(by_key["records_screened"]) == flows[-1]["records_screened"]
    excluded = by_key["dbr_excluded"]
    # "Reason, n; Reason, n" adds up to the box ("0" when nothing was excluded)
    parts = [p for p in excluded.split(";") if "," in p]
    assert sum(int(part.rsplit(",", 1)[1]) for part in parts) == flows[-1]["dbr_excluded"]
    assert parts or excluded == "0"


def test_svg_is_offline_and_has_a_text_alternative(flows):
    svg = prisma.flow_svg(flows)
    assert svg.startswith("<svg") and 'viewBox="0 0 ' in svg and 'width="100%"' in svg
    assert "<title" in svg and "<desc" in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    rows = prisma.flow_rows(flows)
    assert all(len(r["values"]) == len(flows) for r in rows)


def test_export_writes_ris_and_csv_that_read_back(tmp_path, capsys):
    import rispy

    ris, csv_path = tmp_path / "records.ris", tmp_path / "prisma.csv"
    assert cli.main(["--root", str(ROOT), "export", "--ris", str(ris), "--prisma", str(csv_path)]) == 0
    entries = rispy.loads(ris.read_text(encoding="utf-8"))
    records = load_table(ROOT, "records")
    assert [e["id"] for e in entries] == list(records["record_id"])
    assert csv_path.read_text(encoding="utf-8").startswith("data,node,box,")
    assert cli.main(["--root", str(ROOT), "export", "--prisma", str(csv_path), "--round", "999"]) == 1
    assert "there is no round 999" in capsys.readouterr().err


def test_export_refuses_invalid_data_and_writes_nothing(tmp_path, capsys):
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copy2(ROOT / "references.bib", tmp_path / "references.bib")
    path = tmp_path / "data" / "screening.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",include,", ",maybe,", 1), encoding="utf-8")
    out = tmp_path / "x.ris"
    assert cli.main(["--root", str(tmp_path), "export", "--ris", str(out)]) == 1
    assert "nothing was exported" in capsys.readouterr().out
    assert not out.exists()


def test_a_submission_becomes_a_retrieved_and_included_record():
    records = [{"record_id": "R0007", "round": "1"}, {"record_id": "R0002", "round": "0"}]
    searches = [{"round": "2"}]
    bib = {"author": "Doe, Jane and Roe, R.", "title": "{IVIG} in X", "year": "2025", "doi": "10.1/x"}
    record, decisions = ledger.submission_rows("doe2025", "LV", bib, records, searches)
    assert record["record_id"] == "R0008" and record["round"] == "3"  # after the latest round
    assert record["identified_by"] == "contributor_submission"
    assert (record["first_author"], record["title"], record["address"]) == (
        "Doe",
        "IVIG in X",
        "https://doi.org/10.1/x",
    )
    assert [(d["stage"], d["decision"], d.get("role")) for d in decisions] == [
        ("2_retrieval", "retrieved", None),
        ("3_eligibility", "include", "primary"),
    ]
    assert ledger.is_included("doe2025", [record], decisions)
    assert not ledger.is_included("doe2025", [record], decisions[:1])
