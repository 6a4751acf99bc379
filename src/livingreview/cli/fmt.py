"""``livingreview fmt``: rewrite the data package's CSV files in canonical form.

Fixes encoding (BOM), line endings (CRLF), column order, row order (primary key), number form and stray
whitespace; see ``livingreview.datapkg.csvfile``. A file is written (atomically) only when its bytes change. When
any file cannot be parsed safely (encoding, delimiter, missing/unknown columns, ragged rows, cells of a
numeric column that are not numbers), nothing is written and the problems are listed as for ``validate``.
"""

from __future__ import annotations

from pathlib import Path

from livingreview.datapkg.csvfile import Problem, canonical_text, read_table, write_atomic
from livingreview.datapkg.validate import DATA_DIR, load_descriptor

__all__ = ["add_arguments", "format_tree", "run"]


def format_tree(root: str | Path) -> tuple[dict[str, str], list[Problem]]:
    """The canonical text of every CSV file that would change (relative path -> text), or the problems that
    make formatting unsafe. Writes nothing."""
    root = Path(root)
    package, problems = load_descriptor(root)
    if package is None:
        return {}, problems
    problems = list(problems)
    changes: dict[str, str] = {}
    for res in package["resources"]:
        relpath = f"{DATA_DIR}/{res['path']}"
        path = root / DATA_DIR / res["path"]
        raw, read_problems = read_table(path, relpath, fast=False)
        if raw is None:
            problems += read_problems
            continue
        text, fmt_problems = canonical_text(raw, res["schema"]["fields"], res["schema"].get("primaryKey", []))
        if text is None:
            problems += fmt_problems
            continue
        if path.read_bytes() != text.encode("utf-8"):
            changes[relpath] = text
    return changes, sorted(set(problems))


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
    for relpath, text in changes.items():
        write_atomic(root / relpath, text)
        print(f"{relpath}: reformatted")
    if not changes:
        print("all data files are already in canonical form")
    return 0
