"""livingreview diff: the report's formatting helpers (livingreview.render.changes_report) and the
invalid-tree path."""

from __future__ import annotations

import subprocess
from pathlib import Path

from livingreview.cli import main
from livingreview.cli.git import export_tree
from livingreview.render import changes_report as report

ROOT = Path(__file__).resolve().parents[1]


def test_estimate_formatting_and_arrows():
    before = {"estimate": 0.5, "ci_low": 0.25, "ci_high": 0.75}
    after = {"estimate": 0.6, "ci_low": 0.3, "ci_high": 0.8}
    assert report.format_estimate(before) == "50.0 % (25.0–75.0 %)"
    assert report.estimate_change(before, after) == "50.0 % (25.0–75.0 %) → 60.0 % (30.0–80.0 %) ↑"
    assert report.estimate_change(after, before).endswith("↓")
    assert report.estimate_change(before, before) == "50.0 % (25.0–75.0 %)"
    assert report.format_estimate({"estimate": None}) == "–"
    assert report.count_change(3, 3) == "3"
    assert report.count_change(None, 2) == "– → 2"
    assert report.count_change(5, 4) == "5 → 4 ↓"


def test_cells_are_escaped_for_markdown_tables():
    assert report.table_cell("a|b\nc") == "`a\\|b c`"
    assert report.table_cell("") == "*(empty)*"
    assert report.table_cell("x" * 200).endswith("…`")


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    export_tree(ROOT, "HEAD", repo)
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "base"]):
        subprocess.run(
            ["git", "-C", str(repo), "-c", "user.name=T", "-c", "user.email=t@example.org", *args],
            check=True,
            capture_output=True,
        )
    return repo


def test_invalid_tree_exits_1_and_lists_the_problems(tmp_path, capsys):
    repo = _repo(tmp_path)
    path = repo / "data" / "cases.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[1] += ",surplus"  # the first case group gets one cell too many
    path.write_text("\n".join(lines), encoding="utf-8")
    code = main(["--root", str(repo), "diff", "main"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "The working tree is invalid" in out and "data/cases.csv:2:" in out
    assert "Not computed: the working tree is invalid" in out
    assert "Traceback" not in out + err


def test_no_change(tmp_path, capsys):
    repo = _repo(tmp_path)
    assert main(["--root", str(repo), "diff"]) == 0  # default base: main
    out = capsys.readouterr().out
    assert "No data change." in out and "## Data changes against `main`" in out


def test_not_a_git_repository(tmp_path, capsys):
    export_tree(ROOT, "HEAD", tmp_path)
    assert main(["--root", str(tmp_path), "diff"]) == 1
    assert "not inside a git repository" in capsys.readouterr().err
