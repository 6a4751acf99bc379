"""Architecture of the package: the import contract in ``.importlinter`` and a size limit on modules.

The contract is checked with import-linter's own ``lint-imports`` from this virtualenv (a missing
``lint-imports`` is a failure, never a skip). To show that the check can fail, the same contract file is
run against throwaway packages in ``tmp_path`` that mirror the layout of ``livingreview``: a clean one must
pass, and each deliberate violation must be reported by name.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "livingreview"
CONFIG = ROOT / ".importlinter"
LINT_IMPORTS = Path(sys.executable).parent / ("lint-imports.exe" if os.name == "nt" else "lint-imports")
MAX_LINES = 500
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
PROBE = "lrprobe"  # name of the throwaway package


def lint_imports(config: Path, cwd: Path, pythonpath: Path) -> tuple[int, str]:
    """Run ``lint-imports`` on ``config``; returns the exit code and the output (no colours, one line per
    message however long)."""
    assert LINT_IMPORTS.is_file(), (
        f"{LINT_IMPORTS} is missing: install import-linter into this virtualenv (see requirements.txt)"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = str(pythonpath)
    env["COLUMNS"] = "400"  # rich wraps long lines at 80 columns when not on a terminal
    env["NO_COLOR"] = "1"
    proc = subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc.returncode, ANSI.sub("", proc.stdout + proc.stderr)


# --- the contract of this checkout ------------------------------------------------------------------------


def test_import_contract_is_kept() -> None:
    code, out = lint_imports(CONFIG, cwd=ROOT, pythonpath=SRC)
    assert code == 0, f"lint-imports reports broken contracts (exit {code}):\n{out}"
    assert re.search(r"Contracts: \d+ kept, 0 broken\.", out), out


# --- the same contract can fail ---------------------------------------------------------------------------

# A skeleton with the same top-level modules as livingreview, each importing only what it may.
CLEAN_PROBE = {
    "__init__.py": '"""Imports nothing."""\n',
    "__main__.py": f"from {PROBE}.cli import main\n\nraise SystemExit(main())\n",
    "cli/__init__.py": f"import subprocess\n\nfrom {PROBE} import book, errors\n\nmain = int\n",
    "cli/run.py": "import subprocess\n",
    "book/__init__.py": f"from {PROBE} import render, stats, datapkg, paths\n",
    "render/__init__.py": f"import altair\n\nfrom {PROBE} import evidence\n",
    "evidence/__init__.py": f"import pandas\n\nfrom {PROBE} import stats, datapkg, errors\n",
    "search/__init__.py": f"from {PROBE} import datapkg, paths, errors\n",
    "stats/__init__.py": f"import numpy\n\nfrom {PROBE} import paths, errors\n",
    "datapkg/__init__.py": f"import pandas\n\nfrom {PROBE} import paths, errors\n",
    "datapkg/frames.py": f"from {PROBE}.paths import ROOT\n",
    "paths.py": "ROOT = '.'\n",
    "errors.py": "class UserError(Exception):\n    pass\n",
}

# Each violation: (file to append to, line appended, text lint-imports must print for it).
VIOLATIONS = {
    "lower layer imports higher (datapkg -> render)": (
        "datapkg/frames.py",
        f"from {PROBE} import render\n",
        f"{PROBE}.datapkg is not allowed to import {PROBE}.render",
    ),
    "lowest layer imports highest (errors -> cli)": (
        "errors.py",
        f"import {PROBE}.cli\n",
        f"{PROBE}.errors is not allowed to import {PROBE}.cli",
    ),
    "independent siblings (stats -> datapkg)": (
        "stats/__init__.py",
        f"from {PROBE}.datapkg import frames\n",
        f"{PROBE}.stats is not allowed to import {PROBE}.datapkg",
    ),
    "independent siblings (search -> evidence)": (
        "search/__init__.py",
        f"from {PROBE} import evidence\n",
        f"{PROBE}.search is not allowed to import {PROBE}.evidence",
    ),
    "independent siblings (paths -> errors)": (
        "paths.py",
        f"from {PROBE}.errors import UserError\n",
        f"{PROBE}.paths is not allowed to import {PROBE}.errors",
    ),
    "package __init__ imports a submodule": (
        "__init__.py",
        f"from {PROBE} import paths\n",
        f"{PROBE} is not allowed to import {PROBE}.paths",
    ),
    "__main__ bypasses cli": (
        "__main__.py",
        f"from {PROBE} import book\n",
        f"{PROBE}.__main__ is not allowed to import {PROBE}.book",
    ),
    "stats imports pandas": (
        "stats/__init__.py",
        "import pandas\n",
        f"{PROBE}.stats is not allowed to import pandas",
    ),
    "stats imports altair indirectly": (
        "paths.py",
        "import altair\n",
        f"{PROBE}.stats is not allowed to import altair",
    ),
    "subprocess outside cli": (
        "render/__init__.py",
        "import subprocess\n",
        f"{PROBE}.render -> subprocess",
    ),
    "top-level module in no layer": (
        "util.py",
        "",
        f"- {PROBE}.util",
    ),
}


def probe_contract(tmp_path: Path) -> Path:
    """``.importlinter`` of this checkout with the root package renamed to the probe."""
    text = CONFIG.read_text(encoding="utf-8")
    assert re.search(r"^root_packages? *= *livingreview\s*$", text, re.M), "contract must name livingreview"
    config = tmp_path / ".importlinter"
    config.write_text(re.sub(r"\blivingreview\b", PROBE, text), encoding="utf-8")
    return config


def build_probe(tmp_path: Path, extra: tuple[str, str] | None = None) -> None:
    files = dict(CLEAN_PROBE)
    if extra is not None:
        name, line = extra
        files[name] = files.get(name, "") + line
    for name, content in files.items():
        path = tmp_path / PROBE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def test_clean_probe_package_keeps_the_contract(tmp_path: Path) -> None:
    """Without this, a probe that fails for an unrelated reason (bad config, missing layer) would make the
    violation tests below pass vacuously."""
    config = probe_contract(tmp_path)
    build_probe(tmp_path)
    code, out = lint_imports(config, cwd=tmp_path, pythonpath=tmp_path)
    assert code == 0, f"the clean probe package should keep every contract (exit {code}):\n{out}"
    assert re.search(r"Contracts: \d+ kept, 0 broken\.", out), out


@pytest.mark.parametrize("violation", list(VIOLATIONS), ids=list(VIOLATIONS))
def test_contract_reports_a_deliberate_violation(tmp_path: Path, violation: str) -> None:
    name, line, expected = VIOLATIONS[violation]
    config = probe_contract(tmp_path)
    build_probe(tmp_path, (name, line))
    code, out = lint_imports(config, cwd=tmp_path, pythonpath=tmp_path)
    assert code == 1, f"lint-imports should report {violation!r} (exit {code}):\n{out}"
    assert re.search(r"Contracts: \d+ kept, [1-9]\d* broken\.", out), out
    assert expected in out, f"expected {expected!r} in the report of {violation!r}:\n{out}"


# --- module size ------------------------------------------------------------------------------------------


def count_lines(path: Path) -> int:
    """Lines as ``wc -l`` counts them, plus a last line without a newline."""
    return len(path.read_text(encoding="utf-8").splitlines())


def modules_over(limit: int, package: Path) -> dict[str, int]:
    return {
        str(path.relative_to(package.parent)): n
        for path in sorted(package.rglob("*.py"))
        if "__pycache__" not in path.parts and (n := count_lines(path)) > limit
    }


def test_size_check_finds_a_long_module(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "short.py").write_text("x = 1\n" * MAX_LINES, encoding="utf-8")
    (package / "long.py").write_text("x = 1\n" * (MAX_LINES + 1), encoding="utf-8")
    assert modules_over(MAX_LINES, package) == {"pkg/long.py": MAX_LINES + 1}


def test_no_module_is_longer_than_the_limit() -> None:
    modules = [p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts]
    assert len(modules) > 1, f"no modules found under {PACKAGE}"
    too_long = modules_over(MAX_LINES, PACKAGE)
    listing = "\n".join(f"  {name}: {n} lines" for name, n in sorted(too_long.items(), key=lambda kv: -kv[1]))
    assert not too_long, f"modules longer than {MAX_LINES} lines (split them):\n{listing}"
