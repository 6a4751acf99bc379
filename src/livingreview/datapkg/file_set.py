"""Replace several files of the tree as one change: all of them, or none.

``fingerprints`` notes what the files were when a command read them; ``write_files`` then stages every new
text in a temporary file beside its target (written, flushed, fsynced), checks that no target changed since
it was read, and renames the staged files over their targets one after the other with Ctrl-C held back, so
an interruption cannot leave some files replaced and others not. Anything that fails before the renames
removes the staged files and leaves every target as it was. (``csvfile.write_atomic`` is the one-file case.)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from livingreview.datapkg.csvfile import stage
from livingreview.errors import UserError

__all__ = ["fingerprints", "write_files"]


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def fingerprints(root: str | Path, relpaths: Iterable[str]) -> dict[str, str | None]:
    """SHA-256 of each file as it is now (``None`` for a missing one), by relative path."""
    return {rel: _digest(Path(root) / rel) for rel in relpaths}


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """Ctrl-C waits until the block is done (in the main thread; elsewhere nothing can be held)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def write_files(
    root: str | Path, texts: dict[str, str], read_as: dict[str, str | None] | None = None
) -> None:
    """Write ``texts`` (relative path -> UTF-8 text) under ``root`` as one change. ``read_as``: the
    ``fingerprints`` taken when the files were read; a file that changed since is refused (UserError) and
    nothing is written."""
    root = Path(root)
    staged: list[tuple[str, Path]] = []
    try:
        for rel, text in texts.items():
            staged.append((rel, stage(root / rel, text)))
        changed = [rel for rel, digest in (read_as or {}).items() if _digest(root / rel) != digest]
        if changed:
            raise UserError(
                f"{', '.join(sorted(changed))} changed while the command ran; "
                "nothing was written (run it again)"
            )
        with _sigint_held():
            for rel, tmp in staged:
                os.replace(tmp, root / rel)
            staged.clear()
    finally:
        for _, tmp in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
