"""The living review's own record: the PRISMA flow computed from the screening log, its exports, and the
ledger entries a contributor's report adds. Expectations come from the tables themselves or from fixtures
built here, so a new search round needs no test edit. A round in progress (records awaiting screening,
retrieval or assessment) is tested on small ledgers built here and on a copy of the data with a new round."""

from __future__ import annotations

import csv
import html
import io
import itertools
import shutil
from pathlib import Path

import pandas as pd
import pytest

from ledger_fixture import copy_repo, open_round, rows, write_rows
from livingreview import cli
from livingreview.datapkg import ledger, prisma_flow
from livingreview.datapkg.frames import Data, load_table
from livingreview.datapkg.validate import validate_tree
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
        assert f["records_screened"] + f["awaiting_screening"] == len(new_db)
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
        k: 0
        for k in (
            "previous_studies",
            "previous_reports",
            "register_results",
            "excluded_automatic",
            *prisma_flow.AWAITING,
        )
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
    f.counts["records_screened"] = 6  # two records not screened yet: adds up only if they await screening
    f.counts["records_excluded"] = 3
    with pytest.raises(prisma_flow.FlowError, match="records screened plus records awaiting screening is 6"):
        prisma_flow._check(f, "x")
    f.counts["awaiting_screening"] = 2
    prisma_flow._check(f, "x")


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


# --- a round in progress ------------------------------------------------------------------------------------


def _ledger(late_record_round: int = 2) -> dict[str, pd.DataFrame]:
    """Round 1 complete (one record included, one excluded on title and abstract); round 2 in progress: R0003
    not screened, R0004 included on title and abstract but not sought, R0005 retrieved but not assessed.
    ``late_record_round`` is the round R0003 was found in."""
    db = "database"
    rnd = late_record_round
    records = pd.DataFrame(
        [
            ("R0001", 1, db, "2030-01-01"),
            ("R0002", 1, db, "2030-01-01"),
            ("R0003", rnd, db, f"2030-0{rnd}-01"),
            ("R0004", 2, db, "2030-02-01"),
            ("R0005", 2, db, "2030-02-01"),
        ],
        columns=["record_id", "round", "identified_by", "date_identified"],
    )
    searches = pd.DataFrame(
        [("S1-001", 1, "source-x", "2030-01-01"), ("S2-001", 2, "source-x", "2030-02-01")],
        columns=["search_id", "round", "searched_in", "run_date"],
    )
    results = pd.DataFrame(
        [(f"S{r}-001", f"https://example.org/{rid}", rid) for rid, r, *_ in records.itertuples(index=False)],
        columns=["search_id", "address", "record_id"],
    )
    screening = pd.DataFrame(
        [
            ("R0001", 1, "1_title_abstract", "include", None, None),
            ("R0001", 1, "2_retrieval", "retrieved", None, None),
            ("R0001", 1, "3_eligibility", "include", None, "primary"),
            ("R0002", 1, "1_title_abstract", "exclude", None, None),
            ("R0004", 2, "1_title_abstract", "include", None, None),
            ("R0005", 2, "1_title_abstract", "include", None, None),
            ("R0005", 2, "2_retrieval", "retrieved", None, None),
        ],
        columns=["record_id", "round", "stage", "decision", "reason", "role"],
    )
    protocol = pd.DataFrame({"item_id": ["source-x"]})
    return {
        "protocol": protocol,
        "searches": searches,
        "search_results": results,
        "records": records,
        "screening": screening,
    }


def test_the_latest_round_may_be_in_progress_and_every_box_still_adds_up():
    first, latest = prisma_flow.count_flow(_ledger(), "x")
    assert [first[k] for k in prisma_flow.AWAITING] == [0, 0, 0]
    assert latest["database_results"] - latest["duplicates"] == 3
    assert (latest["records_screened"], latest["awaiting_screening"]) == (2, 1)
    assert (latest["dbr_sought_reports"], latest["awaiting_retrieval"]) == (1, 1)
    assert (latest["dbr_assessed"], latest["awaiting_assessment"]) == (0, 1)
    assert latest["total_studies"] == first["total_studies"] == 1


def test_an_earlier_round_may_not_be_in_progress():
    with pytest.raises(prisma_flow.FlowError, match=r"round 1 is not the latest round.*1 for title/abstract"):
        prisma_flow.count_flow(_ledger(late_record_round=1), "x")


def test_the_round_in_progress_is_shown_in_the_csv_and_the_diagram():
    flows = prisma_flow.count_flow(_ledger(), "x")
    rows = list(csv.DictReader(io.StringIO(prisma.prisma2020_csv(flows[-1]))))
    by_key = {r["data"]: r for r in rows}
    for count, box, key, label, what in prisma.AWAITING_ROWS:
        assert int(by_key[key]["n"]) == flows[-1][count] == 1
        assert by_key[key]["boxtext"] == label
        assert by_key[box]["boxtext"].endswith(f"(1 more awaiting {what})")
        # the R package finds each box by grep on `data`: no box's key may be found inside an extra row's key
        assert not [k for k, *_ in prisma.TEMPLATE if k != "NA" and k in key]
    labels = [r["label"] for r in prisma.flow_rows(flows)]
    for _count, _box, _key, label, _what in prisma.AWAITING_ROWS:
        assert labels.count(label) == 1
        assert html.escape(label) in prisma.flow_svg(flows)
    # the screened box is followed by what awaits screening, and so on down the column
    assert labels.index("Records awaiting screening") == labels.index("Records screened") + 1


def test_a_complete_round_shows_nothing_awaiting():
    flows = prisma_flow.count_flow(_ledger(), "x")[:1]
    text = prisma.prisma2020_csv(flows[0])
    assert "awaiting" not in text
    assert [r for r in prisma.flow_rows(flows) if r["kind"] == "pending"] == []
    assert "awaiting" not in prisma.flow_svg(flows).lower()


def test_awaiting_note_says_what_awaits():
    from livingreview.book.selection import awaiting_note

    assert awaiting_note({k: 0 for k in prisma_flow.AWAITING}) == ""
    note = awaiting_note({"awaiting_screening": 3, "awaiting_retrieval": 1, "awaiting_assessment": 0})
    assert note == (
        "This round is still in progress: 3 records await title/abstract screening, "
        "1 report awaits retrieval."
    )


def test_unscreened_records_are_valid_in_the_latest_round_only(tmp_path):
    root = copy_repo(tmp_path)
    new = open_round(root, n=2)
    assert validate_tree(root) == []
    latest = prisma_flow.flow(root)[-1]
    assert (latest.round, latest["awaiting_screening"], latest["records_screened"]) == (new.round, 2, 0)
    searches = rows(root, "searches")
    later = {
        **searches[-1],
        "search_id": f"S{new.round + 1}-001",
        "round": str(new.round + 1),
        "n_results": "0",
    }
    write_rows(root, "searches", [*searches, later])
    problems = [str(p) for p in validate_tree(root)]
    lines = {r["record_id"]: i for i, r in enumerate(rows(root, "records"), start=2)}
    for r in new.records:
        assert any(
            p.startswith(f"data/records.csv:{lines[r['record_id']]}:record_id:")
            and f"only records of the latest round (round {new.round + 1})" in p
            for p in problems
        ), problems


def test_the_pages_quote_what_awaits_screening(tmp_path):
    from livingreview.book.selection import Selection

    root = copy_repo(tmp_path)
    new = open_round(root, n=2)
    selection = Selection(Data.load(root))
    numbers = selection.numbers()
    assert numbers["latest_round"] == new.round and numbers["awaiting_latest"] == 2
    assert str(numbers["awaiting_note"]).startswith("This round is still in progress: 2 records await")
    table = selection.by_disease()
    mine = table[table["round"] == new.round].set_index("disease")["awaiting"]
    for disease in mine.index:
        assert mine[disease] == sum(disease in r["diseases"].split(";") for r in new.records)


def test_validation_counts_the_same_flow_from_its_checked_tables(flows):
    """`livingreview validate` counts the flow from the tables it has already checked (not a second read):
    the same counts, boxes, reasons and dates as the flow read with pandas."""
    from livingreview.datapkg.validate import check_package

    _, _, checked, _ = check_package(ROOT)
    frames = {name: checked[name].frame() for name in prisma_flow.TABLES}
    again = prisma_flow.count_flow(frames, "test")
    assert [
        (f.round, f.date, f.counts, f.database_specific, f.dbr_excluded, f.other_excluded) for f in again
    ] == [(f.round, f.date, f.counts, f.database_specific, f.dbr_excluded, f.other_excluded) for f in flows]
