"""``livingreview screen``: the queue of records awaiting screening written for ASReview LAB and Rayyan, and
their decisions read back into ``screening.csv``. Offline, on a copy of the data with a new round of
unscreened database records appended (``ledger_fixture``); ids, rounds and counts come from that copy."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
import rispy

from ledger_fixture import OpenRound, copy_repo, open_round, rows
from livingreview import cli
from livingreview.datapkg import prisma_flow
from livingreview.datapkg.validate import validate_tree


@pytest.fixture
def repo(tmp_path) -> OpenRound:
    new = open_round(copy_repo(tmp_path / "repo"), n=4)
    assert validate_tree(new.root) == []
    return new


def screen(root: Path, *args: str) -> int:
    return cli.main(["--root", str(root), "screen", *map(str, args)])


def snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def write_csv(path: Path, header: list[str], body: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(body)
    return path


def decisions(root: Path, round_: int) -> dict[str, dict[str, str]]:
    return {r["record_id"]: r for r in rows(root, "screening") if r["round"] == str(round_)}


def asreview_export(
    repo: OpenRound, tmp_path: Path, labels: list[str], notes: list[str], name: str = "asreview-export.csv"
) -> Path:
    """What ASReview LAB exports after screening our dataset: its columns plus label, time and note."""
    out = tmp_path / "queue.csv"
    assert screen(repo.root, "export", "--asreview", out) == 0
    with out.open(encoding="utf-8") as handle:
        body = list(csv.DictReader(handle))
    for row, label, note in zip(body, labels, notes, strict=True):
        row.pop("included")
        row.update(asreview_label=label, asreview_time="2099-02-01 10:00:00", asreview_note=note)
    return write_csv(tmp_path / name, list(body[0]), body)


# --- export -------------------------------------------------------------------------------------------------


def test_export_writes_the_queue_as_ris_and_asreview_csv(repo, tmp_path, capsys):
    ris, dataset = tmp_path / "queue.ris", tmp_path / "queue.csv"
    assert screen(repo.root, "export", "--ris", ris, "--asreview", dataset) == 0
    assert f"{len(repo.records)} records of round {repo.round}" in capsys.readouterr().out
    entries = rispy.loads(ris.read_text(encoding="utf-8"))
    assert [e["id"] for e in entries] == [r["record_id"] for r in repo.records]
    for entry, r in zip(entries, repo.records, strict=True):
        assert entry["title"] == r["title"] and entry["authors"] == [r["first_author"]]
        assert (entry["year"], entry["journal_name"], entry["doi"]) == (r["year"], r["journal"], r["doi"])
        assert entry["urls"] == [r["address"]]
        assert f"PMID {r['pmid']}" in entry["notes"]
        assert (r["pmcid"] in entry["notes"]) if r["pmcid"] else len(entry["notes"]) == 1
    with dataset.open(encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [t["lr_record_id"] for t in table] == [r["record_id"] for r in repo.records]
    for t, r in zip(table, repo.records, strict=True):
        assert t["record_id"] == str(int(r["record_id"][1:]))
        assert (t["title"], t["authors"], t["doi"], t["url"]) == (
            r["title"],
            r["first_author"],
            r["doi"],
            r["address"],
        )
        assert t["abstract"] == t["included"] == ""
        assert t["keywords"].split("; ") == r["diseases"].split(";")


def test_export_refuses_when_nothing_awaits_screening(tmp_path, capsys):
    root = copy_repo(tmp_path / "repo")
    out = tmp_path / "queue.ris"
    assert screen(root, "export", "--ris", out) == 1
    assert "awaits title/abstract screening; nothing was written" in capsys.readouterr().err
    assert not out.exists()
    assert screen(root, "export") == 1
    assert "--ris FILE and/or --asreview FILE" in capsys.readouterr().err


def test_export_of_an_earlier_round_is_empty(repo, tmp_path, capsys):
    out = tmp_path / "queue.ris"
    assert screen(repo.root, "export", "--round", repo.round - 1, "--ris", out) == 1
    assert f"no record of round {repo.round - 1} awaits" in capsys.readouterr().err
    assert not out.exists()


# --- import -------------------------------------------------------------------------------------------------


def test_import_asreview_labels_and_reasons_from_notes(repo, tmp_path, capsys):
    export = asreview_export(
        repo,
        tmp_path,
        labels=["1", "0", "0", ""],
        notes=["", "Kawasaki disease, so wrong_disease.", "", ""],
    )
    first, excluded, plain, undecided = (r["record_id"] for r in repo.records)
    assert screen(repo.root, "import", export, "--from", "asreview") == 0
    assert "1 undecided row(s) skipped" in capsys.readouterr().out
    added = decisions(repo.root, repo.round)
    assert set(added) == {first, excluded, plain} and undecided not in added
    assert (added[first]["stage"], added[first]["decision"], added[first]["reason"]) == (
        "1_title_abstract",
        "include",
        "",
    )
    assert (added[excluded]["decision"], added[excluded]["reason"]) == ("exclude", "wrong_disease")
    assert added[excluded]["notes"] == "Kawasaki disease, so wrong_disease."
    # a reason is optional on title and abstract
    assert (added[plain]["decision"], added[plain]["reason"]) == ("exclude", "")
    assert validate_tree(repo.root) == []
    latest = prisma_flow.flow(repo.root)[-1]
    assert (latest["records_screened"], latest["awaiting_screening"], latest["awaiting_retrieval"]) == (
        3,
        1,
        1,
    )
    # the same file again adds nothing: those decisions are in the ledger already
    before = snapshot(repo.root)
    assert screen(repo.root, "import", export, "--from", "asreview") == 0
    assert "3 already in the ledger; nothing to write" in capsys.readouterr().out
    assert snapshot(repo.root) == before


def test_reason_default_and_dry_run(repo, tmp_path, capsys):
    export = asreview_export(repo, tmp_path, labels=["0", "", "", ""], notes=["", "", "", ""])
    before = snapshot(repo.root)
    args = ("import", export, "--from", "asreview", "--reason-default", "wrong_design", "--dry-run")
    assert screen(repo.root, *args) == 0
    out = capsys.readouterr().out
    assert f"{repo.records[0]['record_id']},{repo.round},1_title_abstract,exclude,wrong_design," in out
    assert "Nothing was written." in out
    assert snapshot(repo.root) == before
    assert screen(repo.root, "import", export, "--from", "asreview", "--reason-default", "bogus") == 1
    assert "'bogus' is not a reason code" in capsys.readouterr().err


def test_import_rayyan_inclusion_and_reasons_by_label(repo, tmp_path, capsys):
    by_doi, by_pmid, maybe, excluded_by_code = repo.records
    header = ["key", "title", "authors", "journal", "year", "url", "abstract", "notes", "doi"]

    def row(key: str, r: dict[str, str], notes: str, doi: str = "") -> dict[str, str]:
        return {"key": key, "title": r["title"], "authors": r["first_author"], "journal": r["journal"],
                "year": r["year"], "url": "", "abstract": "", "notes": notes, "doi": doi}  # fmt: skip

    pmid_only = row("2", by_pmid, "", "")
    pmid_only["url"] = by_pmid["address"]  # the PubMed address: found by its PMID
    pmid_only["notes"] = (
        'RAYYAN-INCLUSION: {"Ann"=>"Excluded", "Ben"=>"Excluded"} | '
        "RAYYAN-EXCLUSION-REASONS: NOT THE DISEASE IN SCOPE | RAYYAN-LABELS: vasculitis"
    )
    body = [
        row("1", by_doi, 'RAYYAN-INCLUSION: {"Ann"=>"Included"}', f"https://doi.org/{by_doi['doi'].upper()}"),
        pmid_only,
        row("3", maybe, 'RAYYAN-INCLUSION: {"Ann"=>"Maybe"}', maybe["doi"]),
        {
            **row(excluded_by_code["record_id"], excluded_by_code, ""),
            "notes": 'RAYYAN-INCLUSION: {"Ann"=>"Excluded"} | RAYYAN-EXCLUSION-REASONS: Design-out-of-scope',
        },
    ]
    export = write_csv(tmp_path / "rayyan.csv", header, body)
    assert screen(repo.root, "import", export, "--from", "rayyan") == 0
    assert "1 undecided row(s) skipped" in capsys.readouterr().out
    added = decisions(repo.root, repo.round)
    assert set(added) == {by_doi["record_id"], by_pmid["record_id"], excluded_by_code["record_id"]}
    assert (added[by_doi["record_id"]]["decision"], added[by_doi["record_id"]]["notes"]) == (
        "include",
        "Screened in Rayyan.",
    )
    assert (added[by_pmid["record_id"]]["decision"], added[by_pmid["record_id"]]["reason"]) == (
        "exclude",
        "wrong_disease",
    )
    assert added[excluded_by_code["record_id"]]["reason"] == "wrong_design"
    assert validate_tree(repo.root) == []


def test_rayyan_reviewers_who_disagree_or_unknown_reasons_are_refused(repo, tmp_path, capsys):
    a, b, *_ = repo.records
    header = ["key", "title", "notes", "doi"]
    body = [
        {"key": "1", "title": a["title"], "doi": a["doi"],
         "notes": 'RAYYAN-INCLUSION: {"Ann"=>"Included", "Ben"=>"Excluded"}'},
        {"key": "2", "title": b["title"], "doi": b["doi"],
         "notes": 'RAYYAN-INCLUSION: {"Ann"=>"Excluded"} | RAYYAN-EXCLUSION-REASONS: wrong population'},
    ]  # fmt: skip
    export = write_csv(tmp_path / "rayyan.csv", header, body)
    before = snapshot(repo.root)
    assert screen(repo.root, "import", export, "--from", "rayyan") == 1
    err = capsys.readouterr().err
    assert f"{export}:2:notes: reviewers disagree (Ann: Included, Ben: Excluded)" in err
    assert f"{export}:3:notes: unknown exclusion reason 'wrong population'" in err
    assert snapshot(repo.root) == before


def test_a_decision_without_a_required_reason_is_refused(repo, tmp_path, capsys):
    # exclusions at eligibility need a reason (title/abstract ones do not: see the ASReview test)
    export = asreview_export(repo, tmp_path, labels=["", "0", "", ""], notes=["", "too few details", "", ""])
    before = snapshot(repo.root)
    assert screen(repo.root, "import", export, "--from", "asreview", "--stage", "3_eligibility") == 1
    err = capsys.readouterr().err
    rid = repo.records[1]["record_id"]
    assert f"{export}:3:asreview_note: {rid} is excluded at 3_eligibility without a reason" in err
    assert "nothing was written" in err
    assert snapshot(repo.root) == before


def test_a_conflicting_decision_is_refused(repo, tmp_path, capsys):
    first = asreview_export(repo, tmp_path, ["1", "", "", ""], ["", "", "", ""], "first.csv")
    second = asreview_export(repo, tmp_path, ["0", "", "", ""], ["wrong_disease", "", "", ""], "second.csv")
    assert screen(repo.root, "import", first, "--from", "asreview") == 0
    before = snapshot(repo.root)
    assert screen(repo.root, "import", second, "--from", "asreview") == 1
    err = capsys.readouterr().err
    rid = repo.records[0]["record_id"]
    assert f"{second}:2:asreview_label: conflict: {rid} already has the decision include" in err
    assert snapshot(repo.root) == before
    assert decisions(repo.root, repo.round)[rid]["decision"] == "include"


def test_an_unknown_record_is_refused(repo, tmp_path, capsys):
    known = {r["record_id"] for r in rows(repo.root, "records")}
    unknown = f"R{max(int(r[1:]) for r in known) + 1:04d}"
    header = ["record_id", "lr_record_id", "title", "doi", "asreview_label", "asreview_note"]
    body = [{"record_id": unknown[1:], "lr_record_id": unknown, "title": "Not in the ledger",
             "doi": "10.99999/not-in-the-ledger", "asreview_label": "1", "asreview_note": ""}]  # fmt: skip
    export = write_csv(tmp_path / "unknown.csv", header, body)
    before = snapshot(repo.root)
    assert screen(repo.root, "import", export, "--from", "asreview") == 1
    err = capsys.readouterr().err
    assert f"{export}:2:lr_record_id: no record of the ledger has record id {unknown}" in err
    assert snapshot(repo.root) == before


def test_a_decision_the_data_package_refuses_is_not_written(repo, tmp_path, capsys):
    # same_patients needs linked_record: only the whole package's validation can tell
    export = asreview_export(
        repo, tmp_path, labels=["0", "", "", ""], notes=["Same patients as another report", "", "", ""]
    )
    before = snapshot(repo.root)
    assert screen(repo.root, "import", export, "--from", "asreview") == 1
    err = capsys.readouterr().err
    assert "needs linked_record" in err and f"(the decision of {export}:2)" in err
    assert snapshot(repo.root) == before
