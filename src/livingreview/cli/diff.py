"""``livingreview diff [BASE]``: a Markdown report of the data changes between a git ref and the working tree.

Meant to be posted as a pull-request comment (``--output FILE`` writes it to a file as well). The base files
are read with ``git cat-file`` into a temporary directory (nothing is checked out). The report shows the data
version change and the bump it needs (see ``livingreview check-release``), the rows added, removed and changed
field by field in every table of the data package, the references added and removed, and per disease the
reports, patients and responders and the pooled response estimate (GLMM, from ``livingreview.cli.summary``)
before -> after.

Exit status: 0 when the working tree is valid, 1 when ``livingreview validate`` finds problems (they are
listed in the report).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from livingreview.cli import check_release as release
from livingreview.errors import UserError

UP, DOWN = "↑", "↓"
_MAX_CELL = 80


def add_arguments(parser: argparse.ArgumentParser) -> None:
    release.add_base_argument(parser)
    parser.add_argument("--output", "-o", metavar="FILE", help="also write the report to FILE")


def run(args: argparse.Namespace) -> int:
    root = Path(args.root)
    base = release.resolve_base(root, args.base)
    report, ok = build_report(root, base)
    if args.output:
        out = Path(args.output)
        try:
            out.write_text(report, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write {out}: {exc.strerror}") from None
    sys.stdout.write(report)
    return 0 if ok else 1


# --------------------------------------------------------------------------------------------
# building blocks


def validate(root: Path) -> list[str]:
    """The working tree's problems, as ``path:line:column: message`` lines (livingreview.datapkg.validate)."""
    from livingreview.datapkg.validate import validate_tree

    return [_problem_text(p) for p in validate_tree(root)]


def _problem_text(problem: Any) -> str:
    return f"{problem.path}:{problem.line}:{problem.column}: {problem.message}"


def disease_summary(root: Path) -> dict[str, dict[str, Any]] | None:
    """``livingreview.evidence.reports.summarise`` per disease code, or None when the tree cannot be summarised."""
    from livingreview.datapkg.descriptor import data_version
    from livingreview.datapkg.frames import load_cases
    from livingreview.evidence.reports import summarise

    if not (Path(root) / "data" / "cases.csv").is_file():
        return None
    try:
        result = summarise(load_cases(root), data_version=data_version(root))
    except (UserError, ValueError, KeyError, TypeError, OSError):
        return None
    return {d["disease"]: d for d in result["diseases"]}


def _cell(text: str) -> str:
    text = (text or "").replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    if len(text) > _MAX_CELL:
        text = text[: _MAX_CELL - 1] + "…"
    return f"`{text}`" if text else "*(empty)*"


def _arrow(before: float | None, after: float | None) -> str:
    if before is None or after is None or before == after:
        return ""
    return f" {UP}" if after > before else f" {DOWN}"


def _count(before: int | None, after: int | None) -> str:
    if before == after:
        return f"{after}"
    b = "–" if before is None else str(before)
    a = "–" if after is None else str(after)
    return f"{b} → {a}{_arrow(before, after)}"


def format_estimate(pooled: dict[str, Any] | None) -> str:
    if not pooled or pooled.get("estimate") is None:
        return "–"
    lo, hi = pooled.get("ci_low"), pooled.get("ci_high")
    text = f"{100 * pooled['estimate']:.1f}%"
    if lo is not None and hi is not None:
        text += f" ({100 * lo:.1f}–{100 * hi:.1f})"
    return text


def _estimate_change(before: dict | None, after: dict | None) -> str:
    b, a = format_estimate(before), format_estimate(after)
    if b == a:
        return a
    eb = before.get("estimate") if before else None
    ea = after.get("estimate") if after else None
    return f"{b} → {a}{_arrow(eb, ea)}"


def _table_title(name: str) -> str:
    return {"cases": "Case groups", "outcomes": "Outcome measures", "claims": "Stated totals"}.get(
        name, f"Table `{name}`"
    )


# --------------------------------------------------------------------------------------------
# the report


def build_report(root: Path, base: str) -> tuple[str, bool]:
    """(Markdown report, working tree valid?)."""
    problems = validate(root)
    with release.base_tree(root, base) as before_root:
        changes = release.compare_trees(before_root, root)
        release_problems = release.check_release(before_root, root, changes)
        bib_before = release.read_bib(before_root)
        stats_before = disease_summary(before_root)
    bib_after = release.read_bib(root)
    stats_after = disease_summary(root) if not problems else None
    lines: list[str] = [f"## Data changes against `{base}`", ""]

    version = changes.version_before
    if changes.version_after != changes.version_before:
        version = f"{changes.version_before} → {changes.version_after}"
    kind = changes.kind()
    lines.append(f"**Data version:** {version}" + (f" (the change needs a **{kind}** bump)" if kind else ""))
    lines.append("")
    if problems:
        lines += [f"❌ **The working tree is invalid** ({len(problems)} problem(s)):", "", "```"]
        lines += problems
        lines += ["```", ""]
    else:
        lines += ["✅ The working tree passes `livingreview validate`.", ""]
    if release_problems:
        lines += ["⚠️ **Versioning** (`livingreview check-release`):", ""]
        lines += [f"- {p}" for p in release_problems]
        lines.append("")
    else:
        lines += ["✅ Version, changelog and CITATION.cff follow the versioning rule.", ""]

    if kind is None:
        lines += ["No data change.", ""]
    for table in changes.tables.values():
        lines += _table_section(table)
    lines += _bib_section(changes, bib_before, bib_after)
    if changes.schema:
        lines += ["### Schema", ""] + [f"- {s}" for s in changes.schema] + [""]
    if changes.metadata or changes.other_files:
        lines += ["### Other changes", ""]
        lines += [f"- `datapackage.json`: `{k}` changed" for k in changes.metadata]
        lines += [f"- `{p}` changed" for p in changes.other_files]
        lines.append("")
    lines += _disease_section(stats_before, stats_after, bool(problems))
    return "\n".join(lines).rstrip() + "\n", not problems


def _table_section(table: release.TableChanges) -> list[str]:
    if not table.any():
        return []
    key = ", ".join(table.key_fields)
    lines = [f"### {_table_title(table.name)} (`{table.name}`)", ""]
    if table.added:
        lines += [f"**Added ({len(table.added)}):**", ""]
        lines += _rows_table(table, table.added)
    if table.removed:
        lines += [f"**Removed ({len(table.removed)}):**", ""]
        lines += _rows_table(table, table.removed)
    if table.changed:
        lines += [f"**Changed ({len(table.changed_keys)} row(s), {len(table.changed)} field(s)):**", ""]
        lines += [f"| {key} | field | before → after |", "|---|---|---|"]
        for k, col, old, new in table.changed:
            lines.append(f"| `{k}` | `{col}` | {_cell(old)} → {_cell(new)} |")
        lines.append("")
    if table.reformatted:
        lines += ["The file was reformatted; no value changed.", ""]
    return lines


_SHOWN = {
    "cases": ("case_id", "disease", "source", "n_patients", "n_responders", "locator"),
    "outcomes": ("outcome_id", "case_id", "measure", "timepoint", "statistic", "value", "unit"),
}


def _rows_table(table: release.TableChanges, rows: list[dict[str, str]]) -> list[str]:
    columns = _SHOWN.get(table.name)
    if columns is None:
        columns = tuple(list(rows[0])[:6])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |")
    lines.append("")
    return lines


def _bib_label(entry: dict[str, str]) -> str:
    title = entry.get("title", "").replace("{", "").replace("}", "")
    where = ", ".join(v for v in (entry.get("journal", ""), entry.get("year", "")) if v)
    return f"{title} ({where})" if where else title


def _bib_section(changes: release.Changes, before: dict, after: dict) -> list[str]:
    if not (changes.bib_added or changes.bib_removed or changes.bib_changed):
        return []
    lines = ["### References (`references.bib`)", ""]
    lines += [f"- added `{k}`: {_bib_label(after.get(k, {}))}" for k in changes.bib_added]
    lines += [f"- removed `{k}`: {_bib_label(before.get(k, {}))}" for k in changes.bib_removed]
    for k in changes.bib_changed:
        fields = sorted(f for f in before[k].keys() | after[k].keys() if before[k].get(f) != after[k].get(f))
        lines.append(f"- changed `{k}`: {', '.join(fields)}")
    lines.append("")
    return lines


def _disease_section(before: dict | None, after: dict | None, invalid: bool) -> list[str]:
    lines = ["### Per disease (response pooled by report, GLMM, 95% CI)", ""]
    if after is None:
        why = "the working tree is invalid" if invalid else "the working tree cannot be summarised"
        return [*lines, f"Not computed: {why}.", ""]
    before = before or {}
    lines += [
        "| Disease | Reports | Patients | Responders | Pooled response (95% CI) |",
        "|---|---|---|---|---|",
    ]
    for code, now in after.items():
        old = before.get(code, {})
        changed = any(old.get(k) != now.get(k) for k in ("reports", "patients", "responders")) or (
            format_estimate(old.get("pooled")) != format_estimate(now.get("pooled"))
        )
        name = f"**{code}**" if changed else code
        lines.append(
            f"| {name} | {_count(old.get('reports'), now.get('reports'))} "
            f"| {_count(old.get('patients'), now.get('patients'))} "
            f"| {_count(old.get('responders'), now.get('responders'))} "
            f"| {_estimate_change(old.get('pooled'), now.get('pooled'))} |"
        )
    lines += ["", "Responders count only case groups that report `n_responders`; bold rows changed.", ""]
    return lines
