"""Where things are in a checkout of the review: every path the package uses, defined once, and the digest
of the code under a path.

Paths are relative to the repository root (the directory holding ``data/datapackage.json``), written with
``/`` as they appear in messages (``data/cases.csv:3:2: ...``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

DATA_DIR = "data"
DESCRIPTOR = "datapackage.json"
DESCRIPTOR_PATH = f"{DATA_DIR}/{DESCRIPTOR}"
CHANGELOG_PATH = f"{DATA_DIR}/CHANGELOG.md"
BIBFILE = "references.bib"
CITATION = "CITATION.cff"
STATIC_DIR = "book/_static"
#: what a data release consists of (compared against a git ref by `diff` and `check-release`)
RELEASE_FILES = (DATA_DIR, BIBFILE, CITATION)


def find_root(start: str | Path = ".") -> Path:
    """The repository root: the nearest directory at or above ``start`` holding ``data/datapackage.json``."""
    here = Path(start).resolve()
    for candidate in (here, *here.parents):
        if (candidate / DESCRIPTOR_PATH).is_file():
            return candidate
    raise FileNotFoundError(f"no {DESCRIPTOR_PATH} at or above {here}")


def table_path(name: str) -> str:
    """``data/<name>.csv``: the file of a table resource (the descriptor's ``path`` says the same)."""
    return f"{DATA_DIR}/{name}.csv"


def code_digest(package: Path) -> str:
    """SHA-256 of every module under ``package`` (subpackages included), by relative path and content: what
    decides whether code has changed (the book's freshness, the warm shell, the GLMM memo)."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
