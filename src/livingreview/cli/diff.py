"""``livingreview diff [BASE]``: a Markdown report of the data changes between a git ref and the working tree.

Meant to be posted as a pull-request comment (``--output FILE`` writes it to a file as well). The base files
are read with ``git cat-file`` into a temporary directory (nothing is checked out); the report is laid out
by ``livingreview.render.changes_report``, with the per-disease pooled response
(``livingreview.evidence.reports``) before -> after.

Exit status: 0 when the working tree is valid, 1 when ``livingreview validate`` finds problems (they are
listed in the report).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from livingreview.cli.git import add_base_argument, base_tree, resolve_base
from livingreview.datapkg.compare import compare_trees, read_bib
from livingreview.datapkg.descriptor import data_version
from livingreview.datapkg.frames import load_cases
from livingreview.datapkg.release_rules import check_release
from livingreview.datapkg.validate import validate_tree
from livingreview.errors import UserError
from livingreview.evidence.reports import summarise
from livingreview.paths import table_path
from livingreview.render.changes_report import changes_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_base_argument(parser)
    parser.add_argument("--output", "-o", metavar="FILE", help="also write the report to FILE")


def run(args: argparse.Namespace) -> int:
    root = Path(args.root)
    base = resolve_base(root, args.base)
    report, ok = build_report(root, base)
    if args.output:
        out = Path(args.output)
        try:
            out.write_text(report, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write {out}: {exc.strerror}") from None
    sys.stdout.write(report)
    return 0 if ok else 1


def disease_summary(root: Path) -> dict[str, dict[str, Any]] | None:
    """``livingreview.evidence.reports.summarise`` per disease code, or None when the tree cannot be
    summarised."""
    if not (Path(root) / table_path("cases")).is_file():
        return None
    try:
        result = summarise(load_cases(root), data_version=data_version(root))
    except (UserError, ValueError, KeyError, TypeError, OSError):
        return None
    return {d["disease"]: d for d in result["diseases"]}


def build_report(root: Path, base: str) -> tuple[str, bool]:
    """(Markdown report, working tree valid?)."""
    problems = validate_tree(root)
    with base_tree(root, base) as before_root:
        changes = compare_trees(before_root, root)
        release_problems = check_release(before_root, root, changes)
        bib_before = read_bib(before_root)
        stats_before = disease_summary(before_root)
    report = changes_report(
        base,
        changes,
        problems=problems,
        release_problems=release_problems,
        bib_before=bib_before,
        bib_after=read_bib(root),
        stats_before=stats_before,
        stats_after=disease_summary(root) if not problems else None,
    )
    return report, not problems
