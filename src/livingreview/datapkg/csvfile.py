"""Read the data package's CSV files robustly, and write CSV text safely.

``read_table`` never raises for a broken file: it returns ``None`` and the problems that stopped it, or the
parsed table plus the structural problems it found (blank lines, ragged rows, non-minimal quoting). Small
files are parsed with the ``csv`` module record by record (exact line numbers, exact quoting check); large
well-formed files take a vectorised path through pandas' C parser, checked against the raw text so that it
agrees with the exact path, and fall back to the exact path whenever the check fails. ``read_records`` is
the same reader for code that wants rows as dicts.

Writing: ``to_csv_text`` is the canonical dialect (``livingreview.datapkg.canonical_form`` says what else
canonical form requires) and ``write_atomic`` replaces a file without ever leaving it half written.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import io
import os
import re
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from livingreview.datapkg.descriptor import resource_path
from livingreview.datapkg.problems import Problem
from livingreview.errors import UserError

__all__ = [
    "FAST_PATH_MIN_CHARS",
    "RawTable",
    "read_records",
    "read_table",
    "resource_records",
    "stage",
    "to_csv_text",
    "write_atomic",
]

#: Files at least this long (in characters) try the vectorised pandas path first.
FAST_PATH_MIN_CHARS = 1_000_000
_BOM = b"\xef\xbb\xbf"


@dataclass
class RawTable:
    """A CSV file parsed into strings. ``columns[j]`` holds the cells of header position ``j`` for every
    well-formed record (right number of fields); ``lines[i]`` is the physical line where record ``i``
    starts."""

    path: str
    header: list[str]
    columns: list[np.ndarray]
    lines: np.ndarray
    bom: bool = False
    crlf: bool = False
    final_newline: bool = True
    blank_lines: list[int] = field(default_factory=list)
    ragged: list[tuple[int, int]] = field(default_factory=list)  # (line, number of fields)
    bad_quoting: list[int] = field(default_factory=list)  # lines of records not minimally quoted
    fast: bool = False
    factorized: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # codes, uniques

    def factorize(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """``pandas.factorize`` of column ``j``, computed once."""
        if j not in self.factorized:
            self.factorized[j] = _factorize(self.columns[j])
        return self.factorized[j]

    @property
    def nrows(self) -> int:
        return len(self.lines)

    def problems(self) -> list[Problem]:
        """Structural problems found while reading (the caller adds the schema's)."""
        out = []
        if self.bom:
            out.append(
                Problem(
                    self.path,
                    1,
                    "",
                    "starts with a UTF-8 byte order mark (BOM); save without BOM (run `livingreview fmt`)",
                )
            )
        if self.crlf:
            out.append(
                Problem(
                    self.path, 1, "", "uses CRLF (Windows) line endings; use LF only (run `livingreview fmt`)"
                )
            )
        if not self.final_newline:
            last = self.lines[-1] if len(self.lines) else 1
            out.append(
                Problem(
                    self.path, int(last), "", "no newline at the end of the file (run `livingreview fmt`)"
                )
            )
        for line in self.blank_lines:
            out.append(Problem(self.path, line, "", "empty line; remove it (run `livingreview fmt`)"))
        k = len(self.header)
        for line, n in self.ragged:
            hint = (
                "a cell containing ',' must be enclosed in double quotes"
                if n > k
                else "a ',' is missing or a quoted cell swallowed its neighbours"
            )
            out.append(Problem(self.path, line, "", f"row has {n} fields but the header has {k} ({hint})"))
        for line in self.bad_quoting[:1]:
            more = f" (and {len(self.bad_quoting) - 1} more rows)" if len(self.bad_quoting) > 1 else ""
            out.append(
                Problem(
                    self.path,
                    line,
                    "",
                    "cells are not minimally quoted: quote only cells that "
                    "contain ',', '\"' or a line break" + more + " (run `livingreview fmt`)",
                )
            )
        return out


def _factorize(col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pandas.factorize`` of an object array of strings, the same codes and uniques, faster when equal
    strings are mostly the same object (as pandas' C parser makes them): the object addresses are
    factorised first (integers), then only the distinct objects by value."""
    n = len(col)
    if n < 1000 or col.dtype != object or not col.flags.c_contiguous or col.itemsize != 8:
        return pd.factorize(col)
    addresses = np.ctypeslib.as_array((ctypes.c_uint64 * n).from_address(col.ctypes.data)).copy()
    first_codes, _ = pd.factorize(addresses)
    # codes are numbered in order of appearance, so a code first appears where it exceeds all before it
    is_first = np.ones(n, dtype=bool)
    is_first[1:] = first_codes[1:] > np.maximum.accumulate(first_codes)[:-1]
    first = np.flatnonzero(is_first)
    codes, uniques = pd.factorize(col[first])
    return codes[first_codes], uniques


# ---------------------------------------------------------------------------------------------- reading


def _line_of_offset(data: bytes | str, offset: int) -> int:
    return data.count(b"\n" if isinstance(data, bytes) else "\n", 0, offset) + 1


def read_table(
    path: str | Path, relpath: str, *, fast: bool | None = None
) -> tuple[RawTable | None, list[Problem]]:
    """Parse one CSV file. Returns ``(table, problems)``; ``table`` is ``None`` when the file cannot be parsed
    safely, and then ``problems`` says why (one problem, at the best location). Never raises.

    ``fast``: ``None`` chooses by size, ``True`` tries the pandas path first, ``False`` forces the exact path.
    """

    def fatal(line: int, message: str) -> tuple[None, list[Problem]]:
        return None, [Problem(relpath, line, "", message)]

    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return fatal(1, "file is missing")
    except IsADirectoryError:
        return fatal(1, "is a directory, not a CSV file")
    except OSError as exc:
        return fatal(1, f"cannot be read ({exc.strerror or exc})")
    if fast is None:
        fast = len(data) >= FAST_PATH_MIN_CHARS
    # The common case (a large, clean file) goes straight to the vectorised path on the bytes: anything
    # unusual (BOM, CR, NUL, invalid UTF-8, irregular quoting...) makes it return None, and then the
    # checks below decide, exactly as for a small file.
    if fast and not data.startswith((_BOM, b"\xff\xfe", b"\xfe\xff")) and b"\r" not in data:
        if b"\x00" not in data and (table := _read_fast(data, relpath)) is not None:
            table.final_newline = data.endswith(b"\n")
            return table, []
        fast = False  # the file is irregular: the exact path gives the exact lines
    bom = data.startswith(_BOM)
    body = data[len(_BOM) :] if bom else data
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return fatal(1, "is encoded as UTF-16; save it as UTF-8")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of_offset(body, exc.start)
        return fatal(
            line, f"is not valid UTF-8 (byte 0x{body[exc.start]:02x} on line {line}); save it as UTF-8"
        )
    if not text.strip():
        return fatal(1, "is empty; it needs at least the header line")
    nul = text.find("\x00")
    if nul >= 0:
        return fatal(_line_of_offset(text, nul), "contains a NUL character (binary data, not CSV text)")
    crlf = "\r\n" in text
    if crlf:
        text = text.replace("\r\n", "\n")
    cr = text.find("\r")
    if cr >= 0:
        return fatal(
            _line_of_offset(text, cr), "contains a bare carriage return (CR); line endings must be LF"
        )
    final_newline = text.endswith("\n")
    table = _read_fast(text.encode("utf-8"), relpath) if fast else None
    if table is None:
        table, problems = _read_exact(text, relpath)
        if table is None:
            return None, problems
    table.bom, table.crlf, table.final_newline = bom, crlf, final_newline
    return table, []


def read_records(path: str | Path, relpath: str) -> list[dict[str, str]]:
    """The records of a CSV file as dicts of cell text (empty string = unknown), read by ``read_table``;
    UserError with the located problems when the file cannot be parsed. Rows with the wrong number of
    fields are left out (``livingreview validate`` reports them)."""
    table, problems = read_table(path, relpath)
    if table is None:
        raise UserError("; ".join(str(p) for p in problems))
    columns = [col.tolist() for col in table.columns]
    return [dict(zip(table.header, (str(c[i]) for c in columns), strict=True)) for i in range(table.nrows)]


def resource_records(root: str | Path, resource: dict) -> list[dict[str, str]]:
    """``read_records`` of a descriptor resource's file under ``root``; [] when the file does not exist."""
    relpath = resource_path(resource)
    path = Path(root) / relpath
    return read_records(path, relpath) if path.is_file() else []


def _header_problem(header: list[str], relpath: str) -> Problem | None:
    if len(header) == 1:
        for sep, name in ((";", "';'"), ("\t", "tabs"), ("|", "'|'")):
            if sep in header[0]:
                return Problem(
                    relpath,
                    1,
                    "",
                    f"columns are separated by {name}; they must be separated by ',' "
                    "(save as comma-separated CSV)",
                )
    if all(h == "" for h in header):
        return Problem(relpath, 1, "", "line 1 must be the header (column names), but it is empty")
    return None


def _read_exact(text: str, relpath: str) -> tuple[RawTable | None, list[Problem]]:
    reader = csv.reader(io.StringIO(text), strict=True)
    records: list[list[str]] = []
    starts: list[int] = []
    end = 0
    try:
        for rec in reader:
            records.append(rec)
            starts.append(end + 1)
            end = reader.line_num
    except csv.Error as exc:
        start = end + 1
        msg = str(exc)
        if "unexpected end of data" in msg:
            message = (
                f"unterminated quoted field: a '\"' opened in the record starting on line {start} is never "
                "closed (close it, or double a '\"' inside a quoted cell)"
            )
        elif "field limit" in msg:
            message = (
                f"a cell is longer than {csv.field_size_limit()} characters (is a closing '\"' missing?)"
            )
        elif "expected after" in msg:
            start = reader.line_num
            message = (
                "stray '\"': a quoted cell must end with '\"' right before ',' or the line end; write a "
                "'\"' inside a quoted cell as '\"\"'"
            )
        else:
            message = f"cannot be parsed as CSV ({msg})"
        return None, [Problem(relpath, start, "", message)]
    if not records:
        return None, [Problem(relpath, 1, "", "is empty; it needs at least the header line")]
    header = records[0]
    if (problem := _header_problem(header, relpath)) is not None:
        return None, [problem]
    k = len(header)
    good: list[list[str]] = []
    good_lines: list[int] = []
    blank: list[int] = []
    ragged: list[tuple[int, int]] = []
    for rec, start in zip(records[1:], starts[1:], strict=True):
        if not rec:
            blank.append(start)
        elif len(rec) != k:
            ragged.append((start, len(rec)))
        else:
            good.append(rec)
            good_lines.append(start)
    # Minimal quoting: re-serialise each record and compare with its raw text.
    raw_lines = text.split("\n")
    bad_quoting = []
    header_end = starts[1] - 1 if len(starts) > 1 else end
    if _serialise(header) != "\n".join(raw_lines[0:header_end]):
        bad_quoting.append(1)
    bounds = [*starts[1:], end + 1]
    for rec, start, stop in zip(records[1:], starts[1:], bounds[1:], strict=True):
        if rec and _serialise(rec) != "\n".join(raw_lines[start - 1 : stop - 1]):
            bad_quoting.append(start)
    columns = (
        [np.array(col, dtype=object) for col in zip(*good, strict=True)]
        if good
        else [np.empty(0, dtype=object) for _ in header]
    )
    table = RawTable(
        relpath,
        header,
        columns,
        np.array(good_lines, dtype=np.int64),
        blank_lines=blank,
        ragged=ragged,
        bad_quoting=bad_quoting,
    )
    return table, []


def _serialise(row: Sequence[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()[:-1]


_SPECIAL = re.compile('[,"\n]')


def _quotes_well_placed(data: bytes) -> int | None:
    """Every ``"`` of ``data`` opens a cell (at its start), closes one (before ``,``, LF or the end) or is
    doubled inside a quoted cell, so the text is standard CSV that any parser reads the same way. Only the
    bytes ``,`` ``"`` and LF matter (UTF-8 never uses them inside a multi-byte character). Returns the number
    of quotes, or ``None`` when one is misplaced."""
    b = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(b == 34)
    if len(quotes) % 2:
        return None
    if not len(quotes):
        return 0
    enter, leave = quotes[0::2], quotes[1::2]
    before = b[np.maximum(enter - 1, 0)]
    after = b[np.minimum(leave + 1, len(b) - 1)]
    if np.all((enter == 0) | (before == 44) | (before == 10) | (before == 34)) and np.all(
        (leave == len(b) - 1) | (after == 44) | (after == 10) | (after == 34)
    ):
        return len(quotes)
    return None


def _read_csv_bytes(data: bytes) -> pd.DataFrame | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.read_csv(
                io.BytesIO(data),
                header=None,
                dtype=object,
                na_filter=False,
                keep_default_na=False,
                skip_blank_lines=False,
                encoding="utf-8",
                encoding_errors="strict",
                engine="c",
            )
    except Exception:
        return None


def _read_fast(data: bytes, relpath: str) -> RawTable | None:
    """Vectorised parse of a large well-formed file (UTF-8 bytes, no BOM, LF line endings); ``None``
    whenever the exact path must decide.

    pandas' C parser makes the cells; the raw bytes then prove that the exact path would read the same
    records: the quotes are well placed (so the file is standard CSV), the commas are exactly the
    separators of ``k`` fields per record plus those inside cells (no short record, no blank line), the
    quotes are exactly those minimal quoting writes (only cells holding ``,`` ``"`` or LF are quoted) and
    the line breaks are one per record plus those inside cells (which also gives each record's line)."""
    first = data.find(b"\n")
    if first < 0 or b'"' in data[:first]:
        return None  # a header with quotes (or a single line) is left to the exact path
    k = data.count(b",", 0, first) + 1
    if k < 2 or (n_quotes := _quotes_well_placed(data)) is None:
        return None
    frame = _read_csv_bytes(data)
    if frame is None or frame.shape[1] != k or len(frame) < 2:
        return None
    arrays = [frame[c].to_numpy(dtype=object) for c in frame.columns]
    header = [a[0] for a in arrays]
    if not all(isinstance(h, str) for h in header) or _header_problem(header, relpath) is not None:
        return None
    columns = [a[1:] for a in arrays]
    n = len(columns[0])
    commas = (n + 1) * (k - 1)
    quotes = 0
    newlines = n + 1 if data.endswith(b"\n") else n
    per_record_nl = np.zeros(n, dtype=np.int64)
    factorized = {}
    for j, col in enumerate(columns):
        codes, uniques = factorized[j] = _factorize(col)
        if len(uniques) and not isinstance(uniques[0], str):
            return None
        special = [i for i, u in enumerate(uniques) if _SPECIAL.search(u)]
        if not special:
            continue
        sel = uniques[special]
        counts = np.bincount(codes, minlength=len(uniques))[special]
        c = np.fromiter((u.count(",") for u in sel), dtype=np.int64, count=len(sel))
        q = np.fromiter((2 + 2 * u.count('"') for u in sel), dtype=np.int64, count=len(sel))
        nl = np.fromiter((u.count("\n") for u in sel), dtype=np.int64, count=len(sel))
        commas += int(c @ counts)
        quotes += int(q @ counts)
        if nl.any():
            full = np.zeros(len(uniques), dtype=np.int64)
            full[special] = nl
            per_record_nl += full[codes]
    newlines += int(per_record_nl.sum())
    if data.count(b",") != commas or n_quotes != quotes or data.count(b"\n") != newlines:
        return None
    lines = 2 + np.arange(n, dtype=np.int64)
    if per_record_nl.any():
        lines[1:] += np.cumsum(per_record_nl)[:-1]
    return RawTable(relpath, header, columns, lines, fast=True, factorized=factorized)


# ---------------------------------------------------------------------------------------------- writing


def to_csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """CSV text in canonical dialect: ',' separated, minimal quoting, LF line endings, final newline."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def stage(path: str | Path, data: str | bytes) -> Path:
    """A temporary file beside ``path`` holding ``data`` (text as UTF-8), flushed and fsynced, with the
    permissions of ``path`` when it exists: ready to be renamed over it. Removed again if writing fails."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, path.stat().st_mode & 0o7777)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Replace ``path`` by ``data`` (text as UTF-8) atomically: :func:`stage`, then ``os.replace``."""
    tmp = stage(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
