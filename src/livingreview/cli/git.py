"""Git plumbing shared by ``livingreview diff`` and ``livingreview check-release``: the base ref, and the
release files as they are in it, read with ``git cat-file`` into a temporary directory (nothing is checked
out). Not a subcommand."""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from livingreview.errors import UserError
from livingreview.paths import DESCRIPTOR_PATH, RELEASE_FILES


def add_base_argument(parser: argparse.ArgumentParser) -> None:
    """The optional BASE git ref of ``check-release`` and ``diff``."""
    parser.add_argument(
        "base",
        nargs="?",
        default=None,
        metavar="BASE",
        help="git ref to compare the working tree with (default: origin/main if it exists, else main)",
    )


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """``git -C root args...``; UserError with git's message when it fails (unless ``check`` is false)."""
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise UserError("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        raise UserError(f"git {' '.join(args)} failed: {message}")
    return proc


def ref_exists(root: Path, ref: str) -> bool:
    return git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False).returncode == 0


def resolve_base(root: Path, ref: str | None) -> str:
    """``ref`` if it names a commit; without one, ``origin/main`` if it exists, else ``main``."""
    if git(root, "rev-parse", "--git-dir", check=False).returncode != 0:
        raise UserError(f"{Path(root).resolve()} is not inside a git repository")
    if ref is not None:
        if not ref_exists(root, ref):
            raise UserError(f"git ref {ref!r} not found (fetch it first, e.g. `git fetch origin main`)")
        return ref
    for candidate in ("origin/main", "main"):
        if ref_exists(root, candidate):
            return candidate
    raise UserError("neither origin/main nor main exists; name the base ref, e.g. `HEAD~1`")


def export_tree(root: Path, ref: str, dest: Path, paths: tuple[str, ...] = RELEASE_FILES) -> None:
    """Write the files under ``paths`` as they are in ``ref`` into ``dest`` (same relative layout)."""
    listing = git(root, "ls-tree", "-r", "-z", "--name-only", ref, "--", *paths).stdout.decode("utf-8")
    for name in filter(None, listing.split("\0")):
        blob = git(root, "cat-file", "blob", f"{ref}:./{name}").stdout
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob)


@contextmanager
def base_tree(root: Path, ref: str) -> Iterator[Path]:
    """A temporary directory holding the release files (data/, references.bib, CITATION.cff) as in ``ref``."""
    with tempfile.TemporaryDirectory(prefix="livingreview-base-") as tmp:
        dest = Path(tmp)
        export_tree(root, ref, dest)
        if not (dest / DESCRIPTOR_PATH).is_file():
            raise UserError(f"{ref} has no {DESCRIPTOR_PATH}; cannot compare the data package with it")
        yield dest
