"""``livingreview export``: the search and selection ledger in formats other tools read.

- ``--ris FILE``: every record as RIS (rispy), with its decisions in the notes, for reference managers,
  Rayyan or ASReview LAB;
- ``--prisma FILE``: the counts of one round (default: the latest) in the layout of the PRISMA2020 R
  package's CSV template, for ``PRISMA2020::PRISMA_flowdiagram``.

Nothing is written when the data do not validate; each file is written atomically.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from livingreview.datapkg.csvfile import write_atomic
from livingreview.datapkg.frames import load_table
from livingreview.errors import UserError

__all__ = ["add_arguments", "records_ris", "run"]


def records_ris(root: str | Path) -> str:
    """Every record of ``data/records.csv`` as RIS text, decisions and identifiers in notes."""
    import rispy

    records = load_table(root, "records")
    screening = load_table(root, "screening")
    decisions = {
        rid: "; ".join(
            f"round {r.round} {r.stage.split('_', 1)[1]}: {r.decision}"
            + (f" ({r.reason})" if pd.notna(r.reason) else "")
            + (f" [{r.role}]" if pd.notna(r.role) else "")
            for r in group.itertuples(index=False)
        )
        for rid, group in screening.groupby("record_id", sort=False)
    }
    entries = []
    for r in records.itertuples(index=False):
        entry: dict[str, object] = {"type_of_reference": "JOUR", "id": r.record_id, "title": r.title}
        if pd.notna(r.first_author):
            entry["authors"] = [r.first_author]
        if pd.notna(r.year):
            entry["year"] = str(r.year)
        if pd.notna(r.journal):
            entry["journal_name"] = r.journal
        if pd.notna(r.doi):
            entry["doi"] = r.doi
        entry["urls"] = [r.address] if str(r.address).startswith("http") else []
        notes = [
            f"identified: round {r.round}, {r.identified_by} ({r.identified_through}), {r.date_identified}"
        ]
        if pd.notna(r.pmid):
            notes.append(f"PMID {r.pmid}")
        if pd.notna(r.pmcid):
            notes.append(r.pmcid)
        if r.record_id in decisions:
            notes.append(decisions[r.record_id])
        if pd.notna(r.bib_key):
            notes.append(f"cited as {r.bib_key}")
        entry["notes"] = notes
        entry["keywords"] = str(r.diseases).split(";")
        entries.append({k: v for k, v in entry.items() if v not in ([], "")})
    return rispy.dumps(entries)


def add_arguments(parser) -> None:
    parser.add_argument("--ris", metavar="FILE", help="write every record as RIS")
    parser.add_argument("--prisma", metavar="FILE", help="write the PRISMA2020 template CSV of one round")
    parser.add_argument("--round", type=int, help="round for --prisma (default: the latest)")


def run(args) -> int:
    from livingreview.datapkg.validate import validate_tree
    from livingreview.evidence import prisma

    if not (args.ris or args.prisma):
        raise UserError("name at least one output: --ris FILE and/or --prisma FILE")
    root = Path(args.root)
    problems = validate_tree(root)
    if problems:
        for p in problems:
            print(p)
        print(f"{len(problems)} problems; nothing was exported (run `livingreview validate`)")
        return 1
    outputs: dict[Path, str] = {}
    if args.prisma:
        flows = prisma.flow(root)
        chosen = [f for f in flows if args.round is None or f.round == args.round]
        if not chosen:
            known = ", ".join(str(f.round) for f in flows)
            raise UserError(f"there is no round {args.round}; rounds: {known}")
        outputs[Path(args.prisma)] = prisma.prisma2020_csv(chosen[-1])
    if args.ris:
        outputs[Path(args.ris)] = records_ris(root)
    for path, text in outputs.items():
        try:
            write_atomic(path, text)
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
        print(f"{path}: written")
    return 0
