"""Results of the expensive pure functions of this package (GLMM fits), kept by the content of their inputs.

A fit is a function of its arguments (counts, design matrix, quadrature points), of the code of this
package and of numpy/scipy, nothing else. :func:`memoized` keys each result on exactly those: the arguments'
values (arrays by dtype, shape and bytes), a hash of every module of :mod:`livingreview.stats` and the
versions of Python, numpy and scipy. A result is therefore reused only where recomputing it would give the
same result; a change in the data changes the arguments, a change in the code changes the key.

Results are kept in memory for the life of the process (the book's build executes every page in one
process, and several pages fit the same model), and, when the environment variable ``LIVINGREVIEW_MEMO``
names a directory (the book's build sets it under ``_build/``), also on disk, so the next build fits only
the models whose inputs changed. Without it (a reader running a page) nothing is written anywhere.
Callers get a copy, so they cannot alter a kept result.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import scipy

from livingreview.paths import code_digest

ENV_VAR = "LIVINGREVIEW_MEMO"
F = TypeVar("F", bound=Callable[..., Any])

_memory: dict[str, Any] = {}
_code: list[str] = []  # the hash of this package's code, computed once


def code_version() -> str:
    """Hash of every module of :mod:`livingreview.stats` and of the Python/numpy/scipy versions."""
    if not _code:
        versions = f"{sys.version}|{np.__version__}|{scipy.__version__}|"
        code = code_digest(Path(__file__).resolve().parent)
        _code.append(hashlib.sha256((versions + code).encode()).hexdigest())
    return _code[0]


def _feed(digest: Any, value: Any) -> bool:
    """Add ``value`` to the key; False for a type whose content cannot be told exactly (then no memo)."""
    if isinstance(value, np.ndarray):
        digest.update(f"A{value.dtype.str}{value.shape}".encode() + np.ascontiguousarray(value).tobytes())
    elif value is None or isinstance(value, bool | int | float | str | np.integer | np.floating):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, list | tuple):
        digest.update(f"{type(value).__name__}[{len(value)}".encode())
        return all(_feed(digest, v) for v in value)
    else:
        return False
    return True


def _key(name: str, args: tuple, kwargs: dict) -> str | None:
    digest = hashlib.sha256(f"{code_version()}|{name}|".encode())
    if not _feed(digest, args) or not _feed(digest, sorted(kwargs.items())):
        return None
    return digest.hexdigest()


def _load(path: Path) -> tuple[bool, Any]:
    try:
        return True, pickle.loads(path.read_bytes())
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return False, None  # missing or unreadable: computed again


def _store(path: Path, value: Any) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(path)
    except OSError:
        pass  # a memo that cannot be written is only a missed shortcut


def memoized(func: F) -> F:
    """Keep ``func``'s results by the content of its arguments (see the module docstring)."""
    name = f"{func.__module__}.{func.__qualname__}"

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = _key(name, args, kwargs)
        if key is None:
            return func(*args, **kwargs)
        if key not in _memory:
            directory = os.environ.get(ENV_VAR)
            path = Path(directory) / key[:2] / f"{key}.pickle" if directory else None
            found, value = _load(path) if path is not None else (False, None)
            if not found:
                value = func(*args, **kwargs)
                if path is not None:
                    _store(path, value)
            _memory[key] = value
        return copy.deepcopy(_memory[key])

    return wrapper  # type: ignore[return-value]
