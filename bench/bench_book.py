"""Build times of the book against a floor, and the size of every chapter page.

In a temporary copy of the repository: a cold `make book`, a no-change `make book` and a `make book` after one
count of an LV case group in data/cases.csv changed (by the reads recorded in
livingreview.book.sphinx.freshness, that re-executes the LV chapter, methods, the landing page, the synthesis
and what's new).
The *floor* is a book with as many pages as the real book executes (pages with code cells; the others, such as
the bibliography, execute nothing), each a single trivial code cell importing pandas and altair, built cold in
the same run with the same jupyter-book flags; times are reported as ratios to it so they compare across
machines.

Targets (issue 12): cold <= 1.0 x floor, one-row change <= 0.4 x cold, no change <= 1 s, every page <= 300 KB.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "_build", ".jupyter_cache", ".pytest_cache", ".ruff_cache", ".hypothesis", "__pycache__",
    "*.egg-info", "out",
)  # fmt: skip
JB_FLAGS = ["--builder", "html", "--warningiserror", "--nitpick", "--keep-going"]
TARGET_COLD, TARGET_ONE_ROW, TARGET_NO_CHANGE, TARGET_PAGE_KB = 1.0, 0.4, 1.0, 300


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    return _run_logged(cmd, cwd, env)[0]


def _run_logged(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed in {cwd}:\n{(proc.stdout + proc.stderr)[-3000:]}")
    return elapsed, proc.stdout + proc.stderr


#: what livingreview.book.sphinx.execute logs for each page it runs
EXECUTED = re.compile(r"([\w./-]+)\.md: executed in ([0-9.]+) s")


def profile(log: str, elapsed: float) -> str:
    """Where a build's time went: each executed page's seconds, their sum over the worker processes, and
    what is left for validation, Sphinx start-up, reading and writing (a lower bound)."""
    pages = sorted(((Path(m[1]).stem, float(m[2])) for m in EXECUTED.finditer(log)), key=lambda x: -x[1])
    if not pages:
        return "profile: no page was executed in the warm shell"
    total = sum(t for _, t in pages)
    jobs = int(os.environ.get("LIVINGREVIEW_BOOK_JOBS") or os.cpu_count() or 1)
    rest = max(0.0, elapsed - max(total / jobs, pages[0][1]))
    shown = ", ".join(f"{name} {t:.1f}" for name, t in pages)
    return (
        f"  profile: pages executed (s): {shown}; {total:.1f} s of page execution on {jobs} worker(s); "
        f"at least {rest:.1f} s outside it (validation, Sphinx start-up, reading and writing pages)"
    )


def _make_book(root: Path) -> float:
    return _make_book_logged(root)[0]


def _make_book_logged(root: Path) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    env.pop("MAKEFLAGS", None)
    env.pop("MAKELEVEL", None)
    return _run_logged(
        ["make", "--no-print-directory", "-C", str(root), "book", f"VENV={VENV}", "-o", f"{VENV}/.installed"],
        root,
        env,
    )


def _pages(root: Path) -> list[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            pages.extend([node["file"]] if "file" in node else [])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    return pages


def _executed(root: Path, pages: list[str]) -> list[str]:
    """The pages with code to execute (MyST notebooks with at least one code cell)."""
    return [p for p in pages if "```{code-cell}" in (root / f"{p}.md").read_text(encoding="utf-8")]


def floor_book(dest: Path, n_pages: int) -> Path:
    """A book of ``n_pages`` pages, each one trivial code cell importing pandas and altair."""
    (dest / "book").mkdir(parents=True)
    front = (
        "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
        "kernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n"
    )
    names = [f"page{i:02d}" for i in range(n_pages)]
    for name in names:
        (dest / "book" / f"{name}.md").write_text(
            f"{front}\n# Floor {name}\n\n```{{code-cell}} ipython3\nimport pandas\nimport altair\n```\n",
            encoding="utf-8",
        )
    toc = {
        "format": "jb-book",
        "root": f"book/{names[0]}",
        "chapters": [{"file": f"book/{n}"} for n in names[1:]],
    }
    (dest / "_toc.yml").write_text(yaml.safe_dump(toc), encoding="utf-8")
    config = {
        "title": "Floor",
        "only_build_toc_files": True,
        "exclude_patterns": ["_build", ".*"],
        "execute": {"execute_notebooks": "force", "timeout": 300},
        "launch_buttons": {"thebe": False},
        "sphinx": {"config": {"nb_execution_raise_on_error": True}},
    }
    (dest / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return dest


def _change_one_row(root: Path) -> str:
    path = root / "data" / "cases.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = list(reader.fieldnames or []), list(reader)
    # an LV case group: LV is the largest chapter, and its rows are shown by the most pages (the chapter,
    # methods, the landing page and the synthesis), so this is the most expensive one-row change
    row = next(
        r
        for r in rows
        if r["disease"] == "LV"
        and r["design"] != "case_report"
        and int(r["n_patients"]) >= 3
        and r["n_female"]
    )
    row["n_patients"] = str(int(row["n_patients"]) + 1)
    row["n_female"] = str(int(row["n_female"]) + 1)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return row["case_id"]


def _verdict(ok: bool) -> str:
    return "OK" if ok else "MISS"


def run() -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory(prefix="bench-book-") as tmp:
        real = Path(tmp) / "real"
        shutil.copytree(ROOT, real, ignore=IGNORE, symlinks=True)
        pages = _pages(real)
        executed = _executed(real, pages)
        floor = floor_book(Path(tmp) / "floor", len(executed))

        t_floor = _run([str(VENV / "bin" / "jupyter-book"), "build", ".", *JB_FLAGS], floor)
        t_cold, log_cold = _make_book_logged(real)
        t_none = _make_book(real)
        case_id = _change_one_row(real)
        t_one, log_one = _make_book_logged(real)

        lines.append(
            f"floor book ({len(executed)} trivial pages, as many as the book executes of its"
            f" {len(pages)}, cold): {t_floor:.1f} s"
        )
        lines.append(
            f"cold build: {t_cold:.1f} s = {t_cold / t_floor:.2f} x floor (target <= {TARGET_COLD}) "
            + _verdict(t_cold <= TARGET_COLD * t_floor)
        )
        lines.append(profile(log_cold, t_cold))
        lines.append(
            f"no-change rebuild: {t_none:.2f} s = {t_none / t_floor:.3f} x floor "
            f"(target <= {TARGET_NO_CHANGE} s) "
            f"{_verdict(t_none <= TARGET_NO_CHANGE)}"
        )
        lines.append(
            f"one-row change (LV row {case_id} n_patients + 1): {t_one:.1f} s = {t_one / t_floor:.2f} x floor"
            f" = {t_one / t_cold:.2f} x cold (target <= {TARGET_ONE_ROW} x cold) "
            + _verdict(t_one <= TARGET_ONE_ROW * t_cold)
        )
        lines.append(profile(log_one, t_one))
        site = real / "_build" / "html"
        for page in pages:
            html = site / f"{Path(page).with_suffix('')}.html"
            kb = html.stat().st_size / 1000
            lines.append(
                f"page {html.relative_to(site)}: {kb:.0f} KB (target <= {TARGET_PAGE_KB} KB) "
                + _verdict(kb <= TARGET_PAGE_KB)
            )
        bundle = site / "_static" / "vega-bundle.js"
        lines.append(
            f"_static/vega-bundle.js (shared, cached by the browser): {bundle.stat().st_size / 1000:.0f} KB"
        )
    return lines


if __name__ == "__main__":
    for line in run():
        print(line)
