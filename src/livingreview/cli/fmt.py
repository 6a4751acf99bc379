"""``livingreview fmt``: rewrite the data package's CSV files in canonical form.

Fixes encoding (BOM), line endings (CRLF), column order, row order (primary key), number form and stray
whitespace; see ``livingreview.datapkg.canonical_form``. A file is written (atomically) only when its bytes
change. When any file cannot be parsed safely (encoding, delimiter, missing/unknown columns, ragged rows,
cells of a numeric column that are not numbers), nothing is written and the problems are listed as for
``validate``.
"""

from __future__ import annotations

from pathlib import Path

from livingreview.datapkg.canonical_form import format_tree
from livingreview.datapkg.file_set import write_files

__all__ = ["add_arguments", "run"]


def add_arguments(parser) -> None:
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 and list the files that would change"
    )


def run(args) -> int:
    root = Path(args.root)
    changes, problems = format_tree(root)
    if problems:
        for p in problems:
            print(p)
        print(
            f"{len(problems)} problem{'s' * (len(problems) != 1)}; nothing was written (fix these by hand, "
            "then rerun `livingreview fmt`)"
        )
        return 1
    if args.check:
        for relpath in changes:
            print(f"{relpath}: would be reformatted")
        if changes:
            print(f"{len(changes)} file{'s' * (len(changes) != 1)} would change; run `livingreview fmt`")
            return 1
        print("all data files are in canonical form")
        return 0
    write_files(root, changes)  # every file or none
    for relpath in changes:
        print(f"{relpath}: reformatted")
    if not changes:
        print("all data files are already in canonical form")
    return 0
