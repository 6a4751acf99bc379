"""A copy of the repository's data with a new search round whose records are not screened yet, written with
the package's own table writer. Ids, rounds and sources are derived from the copied data, never assumed."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from livingreview.datapkg import ledger
from livingreview.datapkg.canonical_form import table_text
from livingreview.datapkg.csvfile import resource_records, write_atomic
from livingreview.datapkg.descriptor import read_descriptor, resource

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class OpenRound:
    root: Path
    round: int
    records: list[dict[str, str]]  # the new, unscreened records


def copy_repo(dest: Path) -> Path:
    shutil.copytree(ROOT / "data", dest / "data")
    for name in ("references.bib", "CITATION.cff"):
        shutil.copy2(ROOT / name, dest / name)
    return dest


def rows(root: Path, name: str) -> list[dict[str, str]]:
    return resource_records(root, resource(read_descriptor(root), name))


def write_rows(root: Path, name: str, new_rows: list[dict[str, str]]) -> None:
    res = resource(read_descriptor(root), name)
    text, problems = table_text(res, new_rows)
    assert text is not None, problems
    write_atomic(root / "data" / res["path"], text)


def open_round(root: Path, n: int = 3, run_date: str = "2099-01-15") -> OpenRound:
    """Append a search of a new round that returned ``n`` new database records, none of them screened."""
    records, searches = rows(root, "records"), rows(root, "searches")
    results, screening = rows(root, "search_results"), rows(root, "screening")
    new_round = ledger.latest_round(records, searches, screening) + 1
    template = next(r for r in records if r["identified_by"] == ledger.DATABASE)
    search = next(s for s in searches if s["searched_in"] == template["identified_through"])
    search_id = f"S{new_round}-001"
    first = int(ledger.next_record_id(records)[1:])
    new: list[dict[str, str]] = []
    for i in range(n):
        pmid = str(990000001 + i)
        new.append(
            {
                **{k: "" for k in template},
                "record_id": f"R{first + i:04d}",
                "round": str(new_round),
                "date_identified": run_date,
                "identified_by": ledger.DATABASE,
                "identified_through": template["identified_through"],
                "address": f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/",
                "pmid": pmid,
                "doi": f"10.99999/lr-test.{i + 1}",
                "pmcid": f"PMC{99000001 + i}" if i == 0 else "",
                "title": f"Intravenous immunoglobulin in test case {i + 1}",
                "first_author": f"Tester{i + 1}",
                "year": "2098",
                "journal": "Journal of Tests",
                "diseases": "LV;SSc" if i == 0 else "LV",
            }
        )
    write_rows(root, "records", [*records, *new])
    write_rows(
        root,
        "searches",
        [
            *searches,
            {
                **search,
                "search_id": search_id,
                "round": str(new_round),
                "run_date": run_date,
                "n_results": str(n),
                "notes": "",
            },
        ],
    )
    hits = [
        {"search_id": search_id, "rank": str(i + 1), "address": r["address"], "record_id": r["record_id"]}
        for i, r in enumerate(new)
    ]
    write_rows(root, "search_results", [*results, *hits])
    return OpenRound(root, new_round, new)
