"""``livingreview validate``: check ``data/`` and ``references.bib`` (``livingreview.datapkg.validate``);
never modifies a file."""

from __future__ import annotations

from livingreview.datapkg.problems import count_text
from livingreview.datapkg.validate import check_package, summary_line


def add_arguments(parser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing when everything is fine")


def run(args) -> int:
    problems, package, tables, bib = check_package(args.root)
    if problems:
        for p in problems:
            print(p)
        print(count_text(problems))
        return 1
    if not args.quiet and package is not None:
        print(summary_line(package, tables, bib))
    return 0
