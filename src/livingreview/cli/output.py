"""Files a command writes where the user asked (exports, summaries): written atomically, each reported."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from livingreview.datapkg.csvfile import write_atomic
from livingreview.errors import UserError


def write_outputs(outputs: Mapping[Path, str], note: str = "written") -> None:
    """Write each file and print ``<path>: <note>``; a path that cannot be written is a clear error."""
    for path, text in outputs.items():
        try:
            write_atomic(path, text)
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
        print(f"{path}: {note}")
