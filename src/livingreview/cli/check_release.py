"""``livingreview check-release [BASE]``: the data versioning rule.

The data package (``data/``) is versioned semantically, relative to the base of the change (a git ref):

* **major** -- the schema changes: a resource is added or removed, or a field, type, constraint, primary key
  or foreign key of ``data/datapackage.json`` changes;
* **minor** -- rows are added (case groups, outcome measures, ...) or references are added, possibly with
  corrections alongside;
* **patch** -- only corrections: changed or removed rows, changed references, other descriptor metadata,
  reformatting.

Any change under ``data/`` (``data/CHANGELOG.md`` aside) or to ``references.bib`` must bump ``version`` in
``data/datapackage.json`` by exactly one step of that kind (1.0.0 -> 1.1.0 for added cases; 1.0.0 -> 1.2.0 or
1.0.0 -> 1.0.1 is refused), and ``data/CHANGELOG.md`` must gain a ``## <new version> — YYYY-MM-DD`` entry at
the top. A bump without a data change is an error too. ``CITATION.cff`` must always give the data version.

The module also holds the git plumbing that ``livingreview diff`` shares: the base tree is read with
``git cat-file`` into a temporary directory; nothing is checked out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from livingreview.errors import UserError

DATA_DIR = "data"
DESCRIPTOR = "data/datapackage.json"
CHANGELOG = "data/CHANGELOG.md"
BIBFILE = "references.bib"
CITATION = "CITATION.cff"
#: What a base tree needs, relative to the repository root.
TRACKED = (DATA_DIR, BIBFILE, CITATION)
KINDS = ("patch", "minor", "major")
_VERSION = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_HEADING = re.compile(r"^## (?P<version>\S+) — (?P<date>\d{4}-\d{2}-\d{2})\s*$")


def add_base_argument(parser: argparse.ArgumentParser) -> None:
    """The optional BASE git ref of ``check-release`` and ``diff``."""
    parser.add_argument(
        "base",
        nargs="?",
        default=None,
        metavar="BASE",
        help="git ref to compare the working tree with (default: origin/main if it exists, else main)",
    )


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
    version = _descriptor(root).get("version")
    print(f"check-release: ok (data version {version})")
    return 0


# --------------------------------------------------------------------------------------------
# git plumbing (shared with livingreview.cli.diff)


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise UserError("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        raise UserError(f"git {' '.join(args)} failed: {message}")
    return proc


def ref_exists(root: Path, ref: str) -> bool:
    return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False).returncode == 0


def resolve_base(root: Path, ref: str | None) -> str:
    """``ref`` if it names a commit; without one, ``origin/main`` if it exists, else ``main``."""
    if _git(root, "rev-parse", "--git-dir", check=False).returncode != 0:
        raise UserError(f"{Path(root).resolve()} is not inside a git repository")
    if ref is not None:
        if not ref_exists(root, ref):
            raise UserError(f"git ref {ref!r} not found (fetch it first, e.g. `git fetch origin main`)")
        return ref
    for candidate in ("origin/main", "main"):
        if ref_exists(root, candidate):
            return candidate
    raise UserError("neither origin/main nor main exists; name the base ref, e.g. `HEAD~1`")


def export_tree(root: Path, ref: str, dest: Path, paths: tuple[str, ...] = TRACKED) -> None:
    """Write the files under ``paths`` as they are in ``ref`` into ``dest`` (same relative layout)."""
    listing = _git(root, "ls-tree", "-r", "-z", "--name-only", ref, "--", *paths).stdout.decode("utf-8")
    for name in filter(None, listing.split("\0")):
        blob = _git(root, "cat-file", "blob", f"{ref}:./{name}").stdout
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob)


@contextmanager
def base_tree(root: Path, ref: str) -> Iterator[Path]:
    """A temporary directory holding data/, references.bib and CITATION.cff as they are in ``ref``."""
    with tempfile.TemporaryDirectory(prefix="livingreview-base-") as tmp:
        dest = Path(tmp)
        export_tree(root, ref, dest)
        if not (dest / DESCRIPTOR).is_file():
            raise UserError(f"{ref} has no {DESCRIPTOR}; cannot compare the data package with it")
        yield dest


# --------------------------------------------------------------------------------------------
# reading (the readers of livingreview.datapkg.csvfile and livingreview.datapkg.bibfile)


def _descriptor(root: Path) -> dict:
    path = Path(root) / DESCRIPTOR
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{DESCRIPTOR}: file not found") from None
    except ValueError as exc:
        raise UserError(f"{DESCRIPTOR}: not valid JSON ({exc})") from None


def read_rows(root: Path, descriptor: dict, resource: dict) -> list[dict[str, str]]:
    """Rows of one resource as dicts of cell text (empty string = unknown); [] when the file is missing."""
    path = Path(root) / DATA_DIR / resource["path"]
    if not path.is_file():
        return []
    return table_rows(path, f"{DATA_DIR}/{resource['path']}")


def table_rows(path: Path, relpath: str) -> list[dict[str, str]]:
    """A CSV file's records as dicts (livingreview.datapkg.csvfile's reader); UserError when it cannot be parsed."""
    from livingreview.datapkg import csvfile as canonical

    table, problems = canonical.read_table(path, relpath)
    if table is None:
        raise UserError("; ".join(str(p) for p in problems))
    columns = [list(col) for col in table.columns]
    return [dict(zip(table.header, (str(c[i]) for c in columns), strict=True)) for i in range(table.nrows)]


def read_bib(root: Path) -> dict[str, dict[str, str]]:
    """references.bib as ``{key: {field: raw value}}`` (livingreview.datapkg.bibfile; {} when the file is missing)."""
    from livingreview.datapkg import bibfile as bib

    path = Path(root) / BIBFILE
    if not path.is_file():
        return {}
    return {key: dict(entry.fields) for key, entry in bib.load_bib(path).entries.items()}


# --------------------------------------------------------------------------------------------
# comparing two trees


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
    changelog_changed: bool = False

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
    desc_before, desc_after = _descriptor(before_root), _descriptor(after_root)
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
        rel = f"{DATA_DIR}/{res['path']}"
        resource_files.add(rel)
        old_res = res_before.get(res["name"], res)
        rows_before = read_rows(before_root, desc_before, old_res) if res["name"] in res_before else []
        rows_after = read_rows(after_root, desc_after, res)
        table = _compare_table(
            res["name"], res, rows_before, rows_after, files_before.get(rel) != files_after.get(rel)
        )
        changes.tables[res["name"]] = table
    for res in res_before.values():
        resource_files.add(f"{DATA_DIR}/{res['path']}")
    skip = resource_files | {DESCRIPTOR, CHANGELOG}
    changes.other_files = sorted(
        p
        for p in files_before.keys() | files_after.keys()
        if p not in skip and files_before.get(p) != files_after.get(p)
    )
    changes.changelog_changed = files_before.get(CHANGELOG) != files_after.get(CHANGELOG)
    bib_before, bib_after = read_bib(before_root), read_bib(after_root)
    changes.bib_added = sorted(bib_after.keys() - bib_before.keys())
    changes.bib_removed = sorted(bib_before.keys() - bib_after.keys())
    changes.bib_changed = sorted(
        k for k in bib_before.keys() & bib_after.keys() if bib_before[k] != bib_after[k]
    )
    return changes


# --------------------------------------------------------------------------------------------
# the rule


def parse_version(text: str) -> tuple[int, int, int] | None:
    match = _VERSION.match(text or "")
    return tuple(int(g) for g in match.groups()) if match else None  # type: ignore[return-value]


def next_version(version: str, kind: str) -> str:
    major, minor, patch = parse_version(version) or (0, 0, 0)
    if kind == "major":
        return f"{major + 1}.0.0"
    if kind == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def bump_kind(before: str, after: str) -> str | None:
    """The kind of a one-step bump from ``before`` to ``after``, or None if it is not exactly one step."""
    for kind in KINDS:
        if next_version(before, kind) == after:
            return kind
    return None


def changelog_top(text: str) -> tuple[int, str] | None:
    """(line number, line) of the first ``## `` heading of the changelog."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            return number, line
    return None


def _check_changelog(before_root: Path, after_root: Path, version: str) -> list[str]:
    path = Path(after_root) / CHANGELOG
    if not path.is_file():
        return [f"{CHANGELOG}: file not found; add it with a '## {version} — YYYY-MM-DD' entry"]
    text = path.read_text(encoding="utf-8")
    old_path = Path(before_root) / CHANGELOG
    old_text = old_path.read_text(encoding="utf-8") if old_path.is_file() else ""
    expected = f"## {version} — {dt.date.today().isoformat()}"
    top = changelog_top(text)
    if top is None:
        return [f"{CHANGELOG}: no '## <version> — <date>' entry; add '{expected}' above the older entries"]
    number, line = top
    match = _HEADING.match(line)
    if not match:
        return [
            f"{CHANGELOG}:{number}:1: the newest entry must be headed '## <version> — YYYY-MM-DD' "
            f"(with an em dash), e.g. '{expected}'; found {line!r}"
        ]
    problems = []
    if match["version"] != version:
        problems.append(
            f"{CHANGELOG}:{number}:4: the newest entry is for {match['version']}, not for the new "
            "data version "
            f"{version}; add '{expected}' at the top"
        )
    try:
        dt.date.fromisoformat(match["date"])
    except ValueError:
        problems.append(f"{CHANGELOG}:{number}:1: {match['date']!r} is not a valid date (YYYY-MM-DD)")
    if any(
        _HEADING.match(old) and _HEADING.match(old)["version"] == version for old in old_text.splitlines()
    ):
        problems.append(f"{CHANGELOG}:{number}:1: the base already has an entry for {version}")
    body = []
    for later in text.splitlines()[number:]:
        if later.startswith("## "):
            break
        if later.strip():
            body.append(later)
    if not body:
        problems.append(f"{CHANGELOG}:{number}:1: the entry for {version} is empty; say what changed")
    return problems


def _check_citation(root: Path, version: str) -> list[str]:
    path = Path(root) / CITATION
    if not path.is_file():
        return [f"{CITATION}: file not found; it must cite the review with version {version!r}"]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return [f"{CITATION}: not valid YAML ({exc})"]
    cited = str(data.get("version")) if isinstance(data, dict) and "version" in data else None
    if cited != version:
        lines = path.read_text(encoding="utf-8").splitlines()
        line = next((i for i, text in enumerate(lines, 1) if text.startswith("version:")), 1)
        return [
            f"{CITATION}:{line}:1: version is {cited!r} but the data version is {version!r}; make them equal"
        ]
    return []


def check_release(before_root: Path, after_root: Path, changes: Changes | None = None) -> list[str]:
    """Problems with the version bump, changelog and citation of ``after_root`` relative to "
    "``before_root``."""
    changes = changes or compare_trees(before_root, after_root)
    before, after = changes.version_before, changes.version_after
    problems: list[str] = []
    if parse_version(after) is None:
        return [f"{DESCRIPTOR}: version {after!r} is not MAJOR.MINOR.PATCH (e.g. 1.1.0)"]
    if parse_version(before) is None:
        problems.append(f"the base's version {before!r} is not MAJOR.MINOR.PATCH; the check assumes 0.0.0")
    kind = changes.kind()
    if kind is None:
        if after != before:
            problems.append(
                f"{DESCRIPTOR}: version changed {before} -> {after}, but nothing under data/ or in "
                "references.bib "
                f"changed; revert the version to {before}"
            )
    else:
        wanted = next_version(before, kind)
        why = changes.summary()
        if after == before:
            problems.append(
                f"{DESCRIPTOR}: the data changed ({why}) but version is still {before}; set it to {wanted}"
            )
        elif after != wanted:
            actual = bump_kind(before, after)
            what = f"a {actual} bump" if actual else "not a single-step bump"
            problems.append(
                f"{DESCRIPTOR}: version {before} -> {after} is {what}; the change ({why}) needs "
                f"exactly {wanted}"
            )
        if after != before:
            problems.extend(_check_changelog(before_root, after_root, after))
    problems.extend(_check_citation(after_root, after))
    return problems
