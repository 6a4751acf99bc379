"""Check the data package and ``references.bib`` without modifying a file: the descriptor, then each table
against its schema (``schema_checks``), the links between tables, the review's rules (``review_rules``,
``selection_rules``, ``search_run_rules``, ``appraisal_rules``), the ``.bib`` file itself and, once all that
passes, the PRISMA flow (``prisma_flow``).
``validate_staged`` checks the tree as it would be with some files replaced, before anything is written.

Every check is driven by ``data/datapackage.json``; all problems are reported at once, sorted, as
``path:line:column: message``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from livingreview.datapkg.appraisal_rules import check_appraisal, check_certainty
from livingreview.datapkg.bibfile import BibFile, bib_problems, load_bib
from livingreview.datapkg.csvfile import read_table, write_atomic
from livingreview.datapkg.descriptor import load_descriptor, resource_path
from livingreview.datapkg.prisma_flow import TABLES as FLOW_TABLES
from livingreview.datapkg.prisma_flow import flow_problems
from livingreview.datapkg.problems import Problem
from livingreview.datapkg.review_rules import check_cases, check_outcomes
from livingreview.datapkg.schema_checks import CheckedTable, check_foreign_keys, check_references, check_table
from livingreview.datapkg.search_run_rules import check_search_runs
from livingreview.datapkg.selection_rules import check_selection
from livingreview.paths import BIBFILE, DATA_DIR

__all__ = ["check_package", "summary_line", "validate_staged", "validate_tree"]

#: how the summary line counts the rows of a resource; other resources are counted by their name
LABELS = {"cases": "case groups", "outcomes": "outcome measures"}


def check_package(root: str | Path) -> tuple[list[Problem], dict | None, dict[str, CheckedTable], BibFile]:
    """All problems (sorted, each once), plus what was loaded: the descriptor (``None`` when unusable), the
    checked tables by resource name and the parsed ``references.bib``."""
    root = Path(root)
    problems: list[Problem] = []
    package, descriptor_problems = load_descriptor(root)
    problems += descriptor_problems
    bib = load_bib(root / BIBFILE, BIBFILE)
    problems += bib_problems(bib)
    tables: dict[str, CheckedTable] = {}
    if package is not None:
        for res in package["resources"]:
            relpath = resource_path(res)
            raw, read_problems = read_table(root / relpath, relpath)
            problems += read_problems
            if raw is not None:
                tables[res["name"]] = check_table(res["name"], raw, res["schema"], problems)
        check_foreign_keys(tables, problems)
        check_references(tables, bib, problems)
        if "cases" in tables:
            check_cases(tables["cases"], bib, problems)
        if "outcomes" in tables:
            check_outcomes(tables["outcomes"], tables.get("cases"), problems)
        check_selection(tables, problems)
        check_search_runs(tables, problems)
        check_appraisal(tables, problems)
        check_certainty(tables, problems)
        if not problems and set(FLOW_TABLES) <= set(tables):  # counted from the tables: only valid ones
            frames = {name: tables[name].frame() for name in FLOW_TABLES}
            version = str(package.get("version", ""))
            problems += [Problem(tables["screening"].path, 1, "", m) for m in flow_problems(frames, version)]
    return sorted(set(problems)), package, tables, bib


def validate_tree(root: str | Path) -> list[Problem]:
    """Every problem in ``data/`` and ``references.bib`` under ``root``, sorted by path and line. Never raises
    for bad input, never writes."""
    return check_package(root)[0]


def validate_staged(root: str | Path, texts: dict[str, str]) -> list[Problem]:
    """``validate_tree`` of a temporary copy of ``data/`` and ``references.bib`` under ``root`` in which each
    file named in ``texts`` (relative path -> new text) is replaced. The paths of the problems are relative,
    as they will be in the tree; nothing under ``root`` is written."""
    root = Path(root)
    with tempfile.TemporaryDirectory(prefix="livingreview-staged-") as tmp:
        copy = Path(tmp)
        shutil.copytree(root / DATA_DIR, copy / DATA_DIR)
        if (root / BIBFILE).is_file():
            shutil.copy2(root / BIBFILE, copy / BIBFILE)
        for rel, text in texts.items():
            write_atomic(copy / rel, text)
        return validate_tree(copy)


def summary_line(package: dict, tables: dict[str, CheckedTable], bib: BibFile) -> str:
    """``data/ OK: 12 case groups, 30 outcome measures, ..., 40 references, version 1.2.0``."""
    parts = [
        f"{tables[r['name']].n} {LABELS.get(r['name'], r['name'])}"
        for r in package["resources"]
        if r["name"] in tables
    ]
    parts.append(f"{len(bib.entries)} references")
    return f"{DATA_DIR}/ OK: {', '.join(parts)}, version {package.get('version', '?')}"
