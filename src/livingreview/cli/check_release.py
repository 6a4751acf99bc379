"""``livingreview check-release [BASE]``: check the data version bump, changelog entry and CITATION.cff
against a git ref, by the rule of ``livingreview.datapkg.release_rules``."""

from __future__ import annotations

import argparse
from pathlib import Path

from livingreview.cli.git import add_base_argument, base_tree, resolve_base
from livingreview.datapkg.compare import compare_trees
from livingreview.datapkg.descriptor import require_descriptor
from livingreview.datapkg.release_rules import check_release


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_base_argument(parser)


def run(args: argparse.Namespace) -> int:
    root = Path(args.root)
    base = resolve_base(root, args.base)
    with base_tree(root, base) as before:
        changes = compare_trees(before, root)
        problems = check_release(before, root, changes)
    print(f"Changes against {base}: {changes.summary()}")
    if problems:
        for problem in problems:
            print(f"error: {problem}")
        print(f"check-release: {len(problems)} problem(s); see CONTRIBUTING.md, section 'Versioning'")
        return 1
    print(f"check-release: ok (data version {require_descriptor(root).get('version')})")
    return 0
