"""What changed in the data package between two trees (a git base and the working tree, or any two
directories): rows added, removed and corrected per table (rows matched by primary key), schema and descriptor
metadata, references, and other files under ``data/``. ``Changes.kind`` is the version bump the change needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from livingreview.datapkg.bibfile import entry_fields
from livingreview.datapkg.csvfile import resource_records
from livingreview.datapkg.descriptor import require_descriptor, resource_path
from livingreview.paths import BIBFILE, CHANGELOG_PATH, DATA_DIR, DESCRIPTOR_PATH

__all__ = ["Changes", "TableChanges", "compare_trees", "read_bib"]


def read_bib(root: Path) -> dict[str, dict[str, str]]:
    """``references.bib`` under ``root`` as ``{key: {field: raw value}}`` ({} when the file is missing)."""
    return entry_fields(Path(root) / BIBFILE)


@dataclass
class TableChanges:
    """Row-level changes of one resource, rows identified by the primary key."""

    name: str
    key_fields: list[str]
    added: list[dict[str, str]] = field(default_factory=list)
    removed: list[dict[str, str]] = field(default_factory=list)
    #: (key, field, before, after), in key order then schema order
    changed: list[tuple[str, str, str, str]] = field(default_factory=list)
    reformatted: bool = False  # bytes differ although no row did

    @property
    def changed_keys(self) -> list[str]:
        return list(dict.fromkeys(key for key, *_ in self.changed))

    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.reformatted)


@dataclass
class Changes:
    """Everything that differs between the base tree and the working tree."""

    version_before: str
    version_after: str
    tables: dict[str, TableChanges] = field(default_factory=dict)
    schema: list[str] = field(default_factory=list)  # human-readable schema differences
    metadata: list[str] = field(default_factory=list)  # descriptor keys other than version/resources
    bib_added: list[str] = field(default_factory=list)
    bib_removed: list[str] = field(default_factory=list)
    bib_changed: list[str] = field(default_factory=list)
    other_files: list[str] = field(default_factory=list)  # other changed files under data/

    def kind(self) -> str | None:
        """The version bump the change needs: 'major', 'minor', 'patch' or None (no data change)."""
        if self.schema:
            return "major"
        if self.bib_added or any(t.added for t in self.tables.values()):
            return "minor"
        if (
            self.metadata
            or self.other_files
            or self.bib_removed
            or self.bib_changed
            or any(t.any() for t in self.tables.values())
        ):
            return "patch"
        return None

    def summary(self) -> str:
        parts = []
        if self.schema:
            parts.append(
                f"schema changed ({'; '.join(self.schema[:3])}{'; …' if len(self.schema) > 3 else ''})"
            )
        for table in self.tables.values():
            for label, rows in (("added", table.added), ("removed", table.removed)):
                if rows:
                    parts.append(f"{len(rows)} {table.name} row(s) {label}")
            if table.changed:
                parts.append(f"{len(table.changed_keys)} {table.name} row(s) corrected")
            if table.reformatted and not (table.added or table.removed or table.changed):
                parts.append(f"{table.name} reformatted")
        for label, keys in (
            ("added", self.bib_added),
            ("removed", self.bib_removed),
            ("changed", self.bib_changed),
        ):
            if keys:
                parts.append(f"{len(keys)} reference(s) {label}")
        if self.metadata:
            parts.append(f"descriptor metadata changed ({', '.join(self.metadata)})")
        if self.other_files:
            parts.append(f"other files changed ({', '.join(self.other_files)})")
        kind = self.kind()
        if kind is None:
            return "no data change"
        return f"{', '.join(parts)} -> {kind} version"


def _schema_differences(before: dict, after: dict) -> list[str]:
    out: list[str] = []
    res_before = {r["name"]: r for r in before.get("resources", [])}
    res_after = {r["name"]: r for r in after.get("resources", [])}
    for name in res_before.keys() - res_after.keys():
        out.append(f"resource {name!r} removed")
    for name in res_after.keys() - res_before.keys():
        out.append(f"resource {name!r} added")
    for name in sorted(res_before.keys() & res_after.keys()):
        rb, ra = res_before[name], res_after[name]
        for key in ("path", "format", "encoding", "dialect"):
            if rb.get(key) != ra.get(key):
                out.append(f"{name}: {key} changed")
        sb, sa = rb.get("schema", {}), ra.get("schema", {})
        fb = {f["name"]: f for f in sb.get("fields", [])}
        fa = {f["name"]: f for f in sa.get("fields", [])}
        for fname in fb.keys() - fa.keys():
            out.append(f"{name}: field {fname!r} removed")
        for fname in fa.keys() - fb.keys():
            out.append(f"{name}: field {fname!r} added")
        for fname in fb.keys() & fa.keys():
            for key in ("type", "format", "constraints"):
                if fb[fname].get(key) != fa[fname].get(key):
                    out.append(f"{name}: {key} of {fname!r} changed")
        if [f for f in fb if f in fa] != [f for f in fa if f in fb]:
            out.append(f"{name}: field order changed")
        for key in ("primaryKey", "foreignKeys", "missingValues"):
            if sb.get(key) != sa.get(key):
                out.append(f"{name}: {key} changed")
    return sorted(out)


def _key(row: dict[str, str], key_fields: list[str]) -> str:
    return "|".join(row.get(k, "") for k in key_fields)


def _compare_table(
    name: str, resource: dict, rows_before: list[dict], rows_after: list[dict], bytes_differ: bool
) -> TableChanges:
    fields = [f["name"] for f in resource.get("schema", {}).get("fields", [])]
    key_fields = resource.get("schema", {}).get("primaryKey") or fields[:1]
    if isinstance(key_fields, str):
        key_fields = [key_fields]
    before = {_key(r, key_fields): r for r in rows_before}
    after = {_key(r, key_fields): r for r in rows_after}
    table = TableChanges(name=name, key_fields=list(key_fields))
    table.added = [after[k] for k in sorted(after.keys() - before.keys())]
    table.removed = [before[k] for k in sorted(before.keys() - after.keys())]
    for k in sorted(before.keys() & after.keys()):
        columns = fields or list(dict.fromkeys([*before[k], *after[k]]))
        for col in columns:
            old, new = before[k].get(col, ""), after[k].get(col, "")
            if old != new:
                table.changed.append((k, col, old, new))
    table.reformatted = bytes_differ and not (table.added or table.removed or table.changed)
    return table


def _files(root: Path) -> dict[str, bytes]:
    base = Path(root) / DATA_DIR
    if not base.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


def compare_trees(before_root: Path, after_root: Path) -> Changes:
    """What changed in the data package from ``before_root`` to ``after_root``."""
    desc_before, desc_after = require_descriptor(before_root), require_descriptor(after_root)
    changes = Changes(
        version_before=str(desc_before.get("version", "")), version_after=str(desc_after.get("version", ""))
    )
    changes.schema = _schema_differences(desc_before, desc_after)
    ignore = {"version", "resources"}
    changes.metadata = sorted(
        k
        for k in (desc_before.keys() | desc_after.keys()) - ignore
        if desc_before.get(k) != desc_after.get(k)
    )
    files_before, files_after = _files(before_root), _files(after_root)
    resource_files = set()
    res_before = {r["name"]: r for r in desc_before.get("resources", [])}
    for res in desc_after.get("resources", []):
        rel = resource_path(res)
        resource_files.add(rel)
        rows_before = (
            resource_records(before_root, res_before[res["name"]]) if res["name"] in res_before else []
        )
        rows_after = resource_records(after_root, res)
        table = _compare_table(
            res["name"], res, rows_before, rows_after, files_before.get(rel) != files_after.get(rel)
        )
        changes.tables[res["name"]] = table
    for res in res_before.values():
        resource_files.add(resource_path(res))
    skip = resource_files | {DESCRIPTOR_PATH, CHANGELOG_PATH}
    changes.other_files = sorted(
        p
        for p in files_before.keys() | files_after.keys()
        if p not in skip and files_before.get(p) != files_after.get(p)
    )
    bib_before, bib_after = read_bib(before_root), read_bib(after_root)
    changes.bib_added = sorted(bib_after.keys() - bib_before.keys())
    changes.bib_removed = sorted(bib_before.keys() - bib_after.keys())
    changes.bib_changed = sorted(
        k for k in bib_before.keys() & bib_after.keys() if bib_before[k] != bib_after[k]
    )
    return changes
