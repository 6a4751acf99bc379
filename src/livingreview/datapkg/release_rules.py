"""The data versioning rule: the version bump, changelog entry and citation a data change needs.

The data package (``data/``) is versioned semantically, relative to the base of the change:

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
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml

from livingreview.datapkg import changelog
from livingreview.datapkg.compare import Changes, compare_trees
from livingreview.paths import CHANGELOG_PATH, CITATION, DESCRIPTOR_PATH

__all__ = ["KINDS", "bump_kind", "check_release", "next_version", "parse_version"]

KINDS = ("patch", "minor", "major")
_VERSION = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``(major, minor, patch)`` of a ``MAJOR.MINOR.PATCH`` version, or None for anything else."""
    match = _VERSION.match(text or "")
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def next_version(version: str, kind: str) -> str:
    """The version one ``kind`` step after ``version`` (an unparsable version counts as 0.0.0)."""
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


def _check_changelog(before_root: Path, after_root: Path, version: str) -> list[str]:
    path = Path(after_root) / CHANGELOG_PATH
    if not path.is_file():
        return [f"{CHANGELOG_PATH}: file not found; add it with a '## {version} — YYYY-MM-DD' entry"]
    old_path = Path(before_root) / CHANGELOG_PATH
    old_text = old_path.read_text(encoding="utf-8") if old_path.is_file() else ""
    expected = f"## {version} — {dt.date.today().isoformat()}"
    found = changelog.entries(path.read_text(encoding="utf-8"))
    if not found:
        return [
            f"{CHANGELOG_PATH}: no '## <version> — <date>' entry; add '{expected}' above the older entries"
        ]
    top = found[0]
    where = f"{CHANGELOG_PATH}:{top.line}"
    if top.version is None or top.date is None:
        return [
            f"{where}:1: the newest entry must be headed '## <version> — YYYY-MM-DD' "
            f"(with an em dash), e.g. '{expected}'; found {top.heading!r}"
        ]
    problems = []
    if top.version != version:
        problems.append(
            f"{where}:4: the newest entry is for {top.version}, not for the new data version {version}; "
            f"add '{expected}' at the top"
        )
    try:
        dt.date.fromisoformat(top.date)
    except ValueError:
        problems.append(f"{where}:1: {top.date!r} is not a valid date (YYYY-MM-DD)")
    if any(old.version == version for old in changelog.entries(old_text)):
        problems.append(f"{where}:1: the base already has an entry for {version}")
    if not top.body:
        problems.append(f"{where}:1: the entry for {version} is empty; say what changed")
    return problems


def _check_citation(root: Path, version: str) -> list[str]:
    path = Path(root) / CITATION
    if not path.is_file():
        return [f"{CITATION}: file not found; it must cite the review with version {version!r}"]
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return [f"{CITATION}: not valid YAML ({exc})"]
    cited = str(data.get("version")) if isinstance(data, dict) and "version" in data else None
    if cited != version:
        line = next((i for i, row in enumerate(text.splitlines(), 1) if row.startswith("version:")), 1)
        return [
            f"{CITATION}:{line}:1: version is {cited!r} but the data version is {version!r}; make them equal"
        ]
    return []


def check_release(before_root: Path, after_root: Path, changes: Changes | None = None) -> list[str]:
    """Problems with the version bump, changelog and citation of ``after_root`` relative to ``before_root``
    (``changes``: their comparison, when already made)."""
    changes = changes or compare_trees(before_root, after_root)
    before, after = changes.version_before, changes.version_after
    problems: list[str] = []
    if parse_version(after) is None:
        return [f"{DESCRIPTOR_PATH}: version {after!r} is not MAJOR.MINOR.PATCH (e.g. 1.1.0)"]
    if parse_version(before) is None:
        problems.append(f"the base's version {before!r} is not MAJOR.MINOR.PATCH; the check assumes 0.0.0")
    kind = changes.kind()
    if kind is None:
        if after != before:
            problems.append(
                f"{DESCRIPTOR_PATH}: version changed {before} -> {after}, but nothing under data/ or in "
                f"references.bib changed; revert the version to {before}"
            )
    else:
        wanted = next_version(before, kind)
        why = changes.summary()
        if after == before:
            problems.append(
                f"{DESCRIPTOR_PATH}: the data changed ({why}) but version is still {before}; "
                f"set it to {wanted}"
            )
        elif after != wanted:
            actual = bump_kind(before, after)
            what = f"a {actual} bump" if actual else "not a single-step bump"
            problems.append(
                f"{DESCRIPTOR_PATH}: version {before} -> {after} is {what}; the change ({why}) needs "
                f"exactly {wanted}"
            )
        if after != before:
            problems.extend(_check_changelog(before_root, after_root, after))
    problems.extend(_check_citation(after_root, after))
    return problems
