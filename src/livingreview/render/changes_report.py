"""The Markdown report of data changes between a git base and the working tree (``livingreview diff``),
meant as a pull-request comment: the data version and the bump it needs, whether the tree is valid and the
versioning rule is met, the rows added, removed and changed field by field in every table, the references
added and removed, and per disease the reports, patients, responders and pooled response before -> after."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from livingreview.datapkg.compare import Changes, TableChanges
from livingreview.render.numbers import estimate_interval

__all__ = ["changes_report", "count_change", "estimate_change", "format_estimate", "table_cell"]

UP, DOWN = "↑", "↓"
_MAX_CELL = 80


def table_cell(text: str) -> str:
    """A cell value inside a Markdown table: one line, ``|`` escaped, shortened, as code (or *(empty)*)."""
    text = (text or "").replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    if len(text) > _MAX_CELL:
        text = text[: _MAX_CELL - 1] + "…"
    return f"`{text}`" if text else "*(empty)*"


def _arrow(before: float | None, after: float | None) -> str:
    if before is None or after is None or before == after:
        return ""
    return f" {UP}" if after > before else f" {DOWN}"


def count_change(before: int | None, after: int | None) -> str:
    """``5 → 4 ↓``, or the count alone when it did not change (``–`` for none)."""
    if before == after:
        return f"{after}"
    b = "–" if before is None else str(before)
    a = "–" if after is None else str(after)
    return f"{b} → {a}{_arrow(before, after)}"


def format_estimate(pooled: dict[str, Any] | None) -> str:
    """A pooled proportion as ``60.0 % (30.0–80.0 %)``; ``–`` when there is none."""
    pooled = pooled or {}
    return estimate_interval(pooled.get("estimate"), pooled.get("ci_low"), pooled.get("ci_high"), missing="–")


def estimate_change(before: dict | None, after: dict | None) -> str:
    """``before → after ↑`` of two pooled estimates, or the estimate alone when it did not change."""
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


def changes_report(
    base: str,
    changes: Changes,
    *,
    problems: Sequence[object],
    release_problems: Sequence[str],
    bib_before: dict[str, dict[str, str]],
    bib_after: dict[str, dict[str, str]],
    stats_before: dict[str, dict[str, Any]] | None,
    stats_after: dict[str, dict[str, Any]] | None,
) -> str:
    """The Markdown report of ``changes`` against ``base``: ``problems`` of the working tree (as
    ``livingreview validate`` prints them), ``release_problems`` of the versioning rule, the references before
    and after (``{key: fields}``) and the per-disease summaries (``None``: not computed)."""
    lines: list[str] = [f"## Data changes against `{base}`", ""]
    version = changes.version_before
    if changes.version_after != changes.version_before:
        version = f"{changes.version_before} → {changes.version_after}"
    kind = changes.kind()
    lines.append(f"**Data version:** {version}" + (f" (the change needs a **{kind}** bump)" if kind else ""))
    lines.append("")
    if problems:
        lines += [f"❌ **The working tree is invalid** ({len(problems)} problem(s)):", "", "```"]
        lines += [str(p) for p in problems]
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
    return "\n".join(lines).rstrip() + "\n"


def _table_section(table: TableChanges) -> list[str]:
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
            lines.append(f"| `{k}` | `{col}` | {table_cell(old)} → {table_cell(new)} |")
        lines.append("")
    if table.reformatted:
        lines += ["The file was reformatted; no value changed.", ""]
    return lines


_SHOWN = {
    "cases": ("case_id", "disease", "source", "n_patients", "n_responders", "locator"),
    "outcomes": ("outcome_id", "case_id", "measure", "timepoint", "statistic", "value", "unit"),
}


def _rows_table(table: TableChanges, rows: list[dict[str, str]]) -> list[str]:
    columns = _SHOWN.get(table.name)
    if columns is None:
        columns = tuple(list(rows[0])[:6])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(table_cell(row.get(c, "")) for c in columns) + " |")
    lines.append("")
    return lines


def _bib_label(entry: dict[str, str]) -> str:
    title = entry.get("title", "").replace("{", "").replace("}", "")
    where = ", ".join(v for v in (entry.get("journal", ""), entry.get("year", "")) if v)
    return f"{title} ({where})" if where else title


def _bib_section(changes: Changes, before: dict, after: dict) -> list[str]:
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
            f"| {name} | {count_change(old.get('reports'), now.get('reports'))} "
            f"| {count_change(old.get('patients'), now.get('patients'))} "
            f"| {count_change(old.get('responders'), now.get('responders'))} "
            f"| {estimate_change(old.get('pooled'), now.get('pooled'))} |"
        )
    lines += ["", "Responders count only case groups that report `n_responders`; bold rows changed.", ""]
    return lines
