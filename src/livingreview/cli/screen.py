"""``livingreview screen``: title/abstract screening in ASReview LAB or Rayyan, with the ledger as the record.

- ``screen export [--round N] [--ris FILE] [--asreview FILE]`` writes the queue, the database records of a
  round (default: the latest) that await screening, as RIS and/or as an ASReview LAB dataset;
- ``screen import FILE --from asreview|rayyan [--stage S] [--round N] [--reason-default R] [--dry-run]`` adds
  the decisions of a tool's export to ``data/screening.csv``: undecided rows are skipped and counted, a
  decision already in the ledger is never overwritten (a different one is a conflict), and nothing is written
  unless every row is matched and the whole data package validates with the new rows.

Refusals print ``FILE:line:column: what is wrong``, exit 1 and leave every file byte-identical.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from livingreview.cli.output import write_outputs
from livingreview.datapkg.csvfile import to_csv_text
from livingreview.datapkg.file_set import write_files
from livingreview.datapkg.problems import count_text
from livingreview.datapkg.screening_formats import TOOLS
from livingreview.datapkg.screening_queue import STAGES, Ledger, plan_import
from livingreview.datapkg.selection_rules import STAGE_TA
from livingreview.datapkg.validate import validate_tree
from livingreview.errors import UserError
from livingreview.render.ris import queue_ris
from livingreview.render.screening_export import asreview_csv

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Hand the records awaiting title/abstract screening to ASReview LAB or Rayyan (export), and read "
        "their decisions back into data/screening.csv (import)."
    )
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = sub.add_parser(
        "export",
        help="write the records awaiting screening as RIS and/or an ASReview LAB CSV",
        description="Write the database records of a round that have no decision yet (the screening "
        "queue) as RIS (ID = record_id, TI, AU, PY, JO, DO, UR, N1 = PMID/PMCID) and/or as a CSV dataset "
        "for ASReview LAB (record_id = the number of our id, lr_record_id = our id, empty included "
        "column). Refuses when the data do not validate or nothing awaits screening.",
    )
    export.add_argument("--round", type=int, metavar="N", help="round whose queue to write (default: latest)")
    export.add_argument("--ris", metavar="FILE", help="write the queue as RIS (Rayyan, reference managers)")
    export.add_argument("--asreview", metavar="FILE", help="write the queue as an ASReview LAB CSV dataset")
    imp = sub.add_parser(
        "import",
        help="add the decisions of an ASReview LAB or Rayyan export to data/screening.csv",
        description="Read the decisions of a CSV export of ASReview LAB (label column asreview_label, "
        "included or label_included: 1 include, 0 exclude, blank undecided; the reason of an exclusion "
        "as a code or label in asreview_note) or Rayyan (RAYYAN-INCLUSION and RAYYAN-EXCLUSION-REASONS "
        "in the notes column) and add them to data/screening.csv. Rows are matched to records by our "
        "record id (lr_record_id, record_id or key), then DOI, then PMID. Nothing is written unless every "
        "decision is matched, has the reason the selection rules require, overwrites nothing, and the "
        "whole data package validates with the new rows.",
    )
    imp.add_argument("file", metavar="FILE", help="the tool's CSV export")
    imp.add_argument("--from", dest="tool", required=True, choices=list(TOOLS), help="the tool that wrote it")
    imp.add_argument("--stage", default=STAGE_TA, choices=STAGES, help=f"stage decided (default: {STAGE_TA})")
    imp.add_argument("--round", type=int, metavar="N", help="round of the decisions (default: the latest)")
    imp.add_argument(
        "--reason-default",
        metavar="REASON",
        help="reason code for exclusions whose note names none (e.g. wrong_disease)",
    )
    imp.add_argument(
        "--dry-run", action="store_true", help="show the rows that would be added; write nothing"
    )


def run(args: argparse.Namespace) -> int:
    root = Path(args.root)
    return _export(root, args) if args.action == "export" else _import(root, args)


def _export(root: Path, args: argparse.Namespace) -> int:
    if not (args.ris or args.asreview):
        raise UserError("name at least one output: --ris FILE and/or --asreview FILE")
    problems = validate_tree(root)
    if problems:
        raise UserError(
            f"{count_text(problems)}; nothing was exported (run `livingreview validate`):\n"
            + "\n".join(map(str, problems))
        )
    round_, queue = Ledger(root).queue(args.round)
    if not queue:
        raise UserError(f"no record of round {round_} awaits title/abstract screening; nothing was written")
    outputs = {}
    if args.ris:
        outputs[Path(args.ris)] = queue_ris(queue)
    if args.asreview:
        outputs[Path(args.asreview)] = asreview_csv(queue)
    write_outputs(outputs, f"{len(queue)} records of round {round_} awaiting screening")
    return 0


def _import(root: Path, args: argparse.Namespace) -> int:
    if not Path(args.file).is_file():
        raise UserError(f"{args.file}: no such file")
    plan = plan_import(root, args.file, args.tool, args.stage, args.round, args.reason_default)
    if plan.problems:
        raise UserError(
            f"{count_text(plan.problems)}; nothing was written:\n" + "\n".join(map(str, plan.problems))
        )
    decided = ", ".join(f"{n} {d}" for d, n in sorted(plan.counts().items())) or "no new decision"
    skipped = f"{plan.undecided} undecided row(s) skipped, {plan.already} already in the ledger"
    what = f"round {plan.round}, {plan.stage}: {decided}; {skipped}"
    if not plan.rows:
        print(f"{plan.path}: {what}; nothing to write")
        return 0
    if args.dry_run:
        header = list(plan.rows[0])
        print(f"Dry run: {what}. These rows would be added:")
        print(to_csv_text(header, ([row[k] for k in header] for row in plan.rows)), end="")
        print("Nothing was written.")
        return 0
    write_files(root, plan.texts)  # every file or none
    for rel in plan.texts:
        print(f"{rel}: {what}")
    return 0
