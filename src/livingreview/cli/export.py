"""``livingreview export``: the search and selection ledger in formats other tools read.

- ``--ris FILE``: every record as RIS (``livingreview.render.ris``), with its decisions in the notes, for
  reference managers, Rayyan or ASReview LAB;
- ``--prisma FILE``: the counts of one round (default: the latest) in the layout of the PRISMA2020 R
  package's CSV template, for ``PRISMA2020::PRISMA_flowdiagram``.

Nothing is written when the data do not validate; each file is written atomically.
"""

from __future__ import annotations

from pathlib import Path

from livingreview.cli.output import write_outputs
from livingreview.datapkg.validate import validate_tree
from livingreview.errors import UserError
from livingreview.render.ris import records_ris

__all__ = ["add_arguments", "run"]


def add_arguments(parser) -> None:
    parser.add_argument("--ris", metavar="FILE", help="write every record as RIS")
    parser.add_argument("--prisma", metavar="FILE", help="write the PRISMA2020 template CSV of one round")
    parser.add_argument("--round", type=int, help="round for --prisma (default: the latest)")


def run(args) -> int:
    from livingreview.datapkg import prisma_flow
    from livingreview.render import prisma

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
        flows = prisma_flow.flow(root)
        chosen = [f for f in flows if args.round is None or f.round == args.round]
        if not chosen:
            known = ", ".join(str(f.round) for f in flows)
            raise UserError(f"there is no round {args.round}; rounds: {known}")
        outputs[Path(args.prisma)] = prisma.prisma2020_csv(chosen[-1])
    if args.ris:
        outputs[Path(args.ris)] = records_ris(root)
    write_outputs(outputs)
    return 0
