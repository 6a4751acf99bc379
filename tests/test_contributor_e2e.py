"""Shared helpers of the contributor tests: a throw-away git repository holding the data package."""

from __future__ import annotations

import subprocess
from pathlib import Path

from livingreview.cli import main
from livingreview.cli.git import export_tree
from livingreview.datapkg.bibfile import load_bib
from livingreview.datapkg.csvfile import read_records

ROOT = Path(__file__).resolve().parents[1]
WATCHED = (
    "data/cases.csv",
    "data/records.csv",
    "data/screening.csv",
    "data/appraisal.csv",
    "data/outcomes.csv",
    "data/datapackage.json",
    "data/CHANGELOG.md",
    "references.bib",
)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=Test", "-c", "user.email=test@example.org", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def make_repo(tmp: Path) -> Path:
    """data/, references.bib and CITATION.cff as committed in this repository, committed on a fresh 'main'."""
    repo = tmp / "repo"
    repo.mkdir()
    export_tree(ROOT, "HEAD", repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def snapshot(repo: Path) -> dict[str, bytes]:
    return {name: (repo / name).read_bytes() for name in WATCHED if (repo / name).exists()}


def cli(repo: Path, *args: str, capsys=None) -> tuple[int, str, str]:
    code = main(["--root", str(repo), *args])
    out, err = capsys.readouterr() if capsys is not None else ("", "")
    return code, out, err


CASE = {
    "disease": "LV",
    "source": "mustermann2024",
    "locator": "Table 1 row 2; p. 3",
    "extraction-level": "full_text",
    "design": "case_report",
    "country": "Germany",
    "year": "2024",
    "n-patients": "1",
    "n-male": "0",
    "n-female": "1",
    "age-stat": "value",
    "age-years": "52",
    "regimen-text": "2 g/kg over 5 days every 4 weeks, 6 cycles",
    "dose-g-kg-min": "2",
    "dose-g-kg-max": "2",
    "n-responders": "1",
}
#: the appraisal a report new to the review comes with (data/appraisal.csv)
APPRAISAL = {
    "appraisal-text-read": "abstract (journal page)",
    "appraisal-locator": "Abstract",
    "appraisal-selection": "unclear",
    "appraisal-exposure": "yes",
    "appraisal-exposure-reason": "Dose and schedule are stated.",
    "appraisal-outcome": "no",
    "appraisal-outcome-reason": "Only global improvement is described.",
    "appraisal-alternative-causes": "unclear",
    "appraisal-rechallenge": "unclear",
    "appraisal-dose-response": "unclear",
    "appraisal-follow-up": "unclear",
    "appraisal-detail": "unclear",
    "appraisal-immunosuppression": "unclear",
    "appraisal-overall": "high",
    "appraisal-overall-reason": "Outcome judged globally; selection not described.",
}
BIB = {
    "bib-key": "mustermann2024",
    "bib-authors": "Mustermann, Erika and Musterfrau, Max",
    "bib-title": "Intravenous immunoglobulin for livedoid vasculopathy",
    "bib-journal": "Journal of Examples",
    "bib-year": "2024",
    "bib-volume": "12",
    "bib-pages": "1--4",
}


def flags(values: dict[str, str]) -> list[str]:
    out = []
    for key, value in values.items():
        out += [f"--{key}", value]
    return out


# ============================================================================================
# A contributor, end to end, in a temporary git repository


import os  # noqa: E402
import pty  # noqa: E402
import re  # noqa: E402
import select  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def repo(tmp_path):
    repo = make_repo(tmp_path)
    # the made-up report and the unknown key of these tests must really be new to the data
    assert not {CASE["source"], "nobody2020"} & load_bib(repo / "references.bib").keys
    return repo


def _versions(repo) -> dict[str, str]:
    """The base version and its bumps, from the repository's own datapackage.json (never today's number)."""
    from livingreview.datapkg.descriptor import read_descriptor

    major, minor, patch = (int(x) for x in read_descriptor(repo)["version"].split("."))
    return {
        "base": f"{major}.{minor}.{patch}",
        "minor": f"{major}.{minor + 1}.0",
        "patch": f"{major}.{minor}.{patch + 1}",
        "too_far": f"{major}.{minor + 2}.0",
    }


def test_flags_add_diff_bump_release(repo, capsys):
    from livingreview.datapkg.frames import load_cases

    before = snapshot(repo)
    v = _versions(repo)
    lv_before = int(load_cases(repo).query("disease == 'LV'")["n_patients"].sum())
    # a report new to the review needs its appraisal
    code, out, err = cli(repo, "add", "--no-input", *flags(CASE), *flags(BIB), capsys=capsys)
    assert code == 1 and "is not appraised yet: give --appraisal-text-read" in err
    assert snapshot(repo) == before
    code, out, err = cli(
        repo, "add", "--no-input", *flags(CASE), *flags(BIB), *flags(APPRAISAL), capsys=capsys
    )
    assert code == 0, err
    assert "LV-mustermann2024-01" in out and "Added the appraisal of mustermann2024" in out
    # the git diff is the new line, the new entry, the report's place in the ledger (one record, retrieved
    # and included) and its appraisal
    diff = git(repo, "diff", "--numstat").split("\n")
    changed = {line.split("\t")[2]: line.split("\t")[:2] for line in diff if line}
    assert changed == {
        "data/cases.csv": ["1", "0"],
        "references.bib": ["8", "0"],
        "data/records.csv": ["1", "0"],
        "data/screening.csv": ["2", "0"],
        "data/appraisal.csv": ["1", "0"],
    }
    assert snapshot(repo)["data/outcomes.csv"] == before["data/outcomes.csv"]
    assert code == 0 and main(["--root", str(repo), "validate", "--quiet"]) == 0

    # the report against the base commit
    code, out, err = cli(repo, "diff", "main", capsys=capsys)
    assert code == 0, err
    assert "| `LV-mustermann2024-01` | `LV` | `mustermann2024` | `1` | `1` |" in out
    assert "added `mustermann2024`" in out
    lv = next(line for line in out.splitlines() if line.startswith("| **LV**"))
    assert f"{lv_before} → {lv_before + 1} ↑" in lv  # patients before -> after
    assert lv.count("→") == 4  # reports, patients, responders and the pooled estimate changed
    assert "%" in lv.split("|")[5]
    assert "needs a **minor** bump" in out

    # check-release: not bumped yet
    code, out, err = cli(repo, "check-release", "main", capsys=capsys)
    assert code == 1 and f"set it to {v['minor']}" in out
    # a wrong bump
    _set_version(repo, v["too_far"])
    code, out, _ = cli(repo, "check-release", "main", capsys=capsys)
    assert code == 1 and f"needs exactly {v['minor']}" in out
    _set_version(repo, v["patch"])
    code, out, _ = cli(repo, "check-release", "main", capsys=capsys)
    assert code == 1 and "is a patch bump" in out
    # the right bump, but no changelog entry and an old CITATION.cff
    _set_version(repo, v["minor"])
    code, out, _ = cli(repo, "check-release", "main", capsys=capsys)
    assert code == 1 and "CHANGELOG.md" in out and "CITATION.cff" in out
    _add_changelog(repo, v["minor"])
    _set_citation(repo, v["minor"])
    code, out, err = cli(repo, "check-release", "main", capsys=capsys)
    assert code == 0, out + err
    assert f"ok (data version {v['minor']})" in out
    code, out, _ = cli(repo, "diff", "main", "--output", str(repo / "report.md"), capsys=capsys)
    assert code == 0 and f"{v['base']} → {v['minor']}" in out
    assert (repo / "report.md").read_text(encoding="utf-8") == out


def _set_version(repo, version):
    path = repo / "data" / "datapackage.json"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r'"version": "[^"]+"', f'"version": "{version}"', text, count=1), encoding="utf-8")


def _add_changelog(repo, version, date="2026-11-23"):
    path = repo / "data" / "CHANGELOG.md"
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition("\n## ")
    path.write_text(f"{head}\n## {version} — {date}\n\n- Added a case.\n{sep}{rest}", encoding="utf-8")


def _set_citation(repo, version):
    path = repo / "CITATION.cff"
    path.write_text(re.sub(r"(?m)^version: .*$", f"version: {version}", path.read_text(encoding="utf-8")))


def test_no_data_change_needs_no_bump_and_a_bump_alone_is_an_error(repo, capsys):
    v = _versions(repo)
    code, out, _ = cli(repo, "check-release", "main", capsys=capsys)
    assert code == 0 and "no data change" in out
    _set_version(repo, v["patch"])
    code, out, _ = cli(repo, "check-release", "main", capsys=capsys)
    assert code == 1 and f"revert the version to {v['base']}" in out


def test_correction_needs_a_patch_and_schema_change_a_major(repo, capsys):
    from livingreview.datapkg.frames import load_cases

    v = _versions(repo)
    row = load_cases(repo).dropna(subset=["country"]).iloc[0]
    path = repo / "data" / "cases.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    i = next(i for i, line in enumerate(lines) if line.startswith(row["case_id"] + ","))
    lines[i] = lines[i].replace(f",{row['country']},", ",Atlantis,", 1)
    path.write_text("\n".join(lines), encoding="utf-8")
    code, out, _ = cli(repo, "diff", "main", capsys=capsys)
    assert f"| `{row['case_id']}` | `country` | `{row['country']}` → `Atlantis` |" in out
    _set_version(repo, v["minor"])
    code, out, _ = cli(repo, "check-release", "main", capsys=capsys)
    assert code == 1 and "is a minor bump" in out and f"needs exactly {v['patch']}" in out
    desc = repo / "data" / "datapackage.json"
    text = desc.read_text(encoding="utf-8")
    limit = int(re.search(r'"maxLength": (\d+)', text)[1])  # loosen the first length limit: a schema change
    desc.write_text(text.replace(f'"maxLength": {limit}', f'"maxLength": {limit + 20}', 1), encoding="utf-8")
    code, out, _ = cli(repo, "check-release", "main", capsys=capsys)
    major = f"{int(v['base'].split('.')[0]) + 1}.0.0"
    assert code == 1 and f"needs exactly {major}" in out and "schema changed" in out


def _cases(repo: Path) -> list[dict[str, str]]:
    return read_records(repo / "data" / "cases.csv", "data/cases.csv")


def _existing_key_as_manual_record(repo: Path) -> list[str]:
    """Manual --bib-* options for a key already in references.bib, with the year its key ends in, so that no
    rule but the one about existing keys applies."""
    keys = sorted(load_bib(repo / "references.bib").keys)
    key, year = next((k, m[1]) for k in keys if (m := re.fullmatch(r"[a-z]+([12][0-9]{3})", k)))
    others = {k: v for k, v in BIB.items() if k not in ("bib-key", "bib-year")}
    return ["--bib-key", key, *flags(others), "--bib-year", year]


BAD_FLAGS = {
    "wrong enum": ({"disease": "XYZ"}, "is not one of LCV, CLE, LV, SSc, SjS"),
    "enum of design": ({"design": "anecdote"}, "is not one of case_report"),
    "non-number": ({"n-patients": "two"}, "'two' is not an integer"),
    "decimal comma": ({"dose-g-kg-min": "0,4"}, "decimal separator"),
    "negative": ({"n-male": "-1"}, "below the minimum 0"),
    "zero patients": ({"n-patients": "0"}, "below the minimum 1"),
    "year range": ({"year": "1800"}, "below the minimum 1950"),
    "responders > patients": ({"n-responders": "3"}, "responders cannot exceed patients"),
    "age without age_stat": ({"age-stat": ""}, "age_stat must say"),
    "bad case_id": ({"case-id": "lv-1"}, "does not match the pattern"),
    "duplicate case_id": (lambda repo: {"case-id": _cases(repo)[0]["case_id"]}, "already exists"),
    "unknown source": ({"source": "nobody2020"}, "'nobody2020' is not a key in references.bib"),
}


@pytest.mark.parametrize("case", BAD_FLAGS, ids=list(BAD_FLAGS))
def test_every_bad_flag_is_refused_and_nothing_changes(repo, capsys, case):
    change, expected = BAD_FLAGS[case]
    change = change(repo) if callable(change) else change
    before = snapshot(repo)
    values = {**CASE, **change}
    bib = {**BIB, **APPRAISAL} if "source" not in change else {}
    code, out, err = cli(repo, "add", "--no-input", *flags(values), *flags(bib), capsys=capsys)
    assert code == 1
    assert expected in err
    assert "Traceback" not in out + err
    assert err.startswith("livingreview add:")
    assert snapshot(repo) == before


BAD_BIB = {
    "malformed bibtex": (["--bibtex", "@article{mustermann2024, title={unclosed"], "cannot parse"),
    "two entries": (
        ["--bibtex", "@article{a2020,title={x},author={y},year={2020}}\n@misc{b2021,title={x}}"],
        "exactly one BibTeX entry",
    ),
    "bibtex without author": (
        ["--bibtex", "@article{mustermann2024, title={T}, year={2024}, journal={J}}"],
        "lacks author",
    ),
    "bad bib key": (
        ["--bib-key", "Mustermann2024", *flags({k: v for k, v in BIB.items() if k != "bib-key"})],
        "firstauthorYEAR",
    ),
    "key without year": (
        ["--bib-key", "mustermann2023", *flags({k: v for k, v in BIB.items() if k != "bib-key"})],
        "must end with the year 2024",
    ),
    "manual record incomplete": (["--bib-key", "mustermann2024", "--bib-title", "T"], "needs --bib-authors"),
    "existing key": (_existing_key_as_manual_record, "is already a key"),
    "missing bibtex file": (["--bibtex-file", "/nonexistent/x.bib"], "--bibtex-file"),
    "two ways at once": (["--bibtex", "@article{x2020,}", "--bib-key", "x2020"], "one way"),
}


@pytest.mark.parametrize("case", BAD_BIB, ids=list(BAD_BIB))
def test_every_bad_reference_is_refused_and_nothing_changes(repo, capsys, case):
    extra, expected = BAD_BIB[case]
    extra = extra(repo) if callable(extra) else extra
    before = snapshot(repo)
    code, out, err = cli(repo, "add", "--no-input", *flags(CASE), *flags(APPRAISAL), *extra, capsys=capsys)
    assert code == 1
    assert expected in err, err
    assert "Traceback" not in out + err
    assert snapshot(repo) == before


def test_missing_required_options_fail_without_waiting_for_input(repo, capsys):
    before = snapshot(repo)
    code, _, err = cli(repo, "add", "--no-input", "--disease", "LV", capsys=capsys)
    assert code == 1 and "missing required option(s): --case-id, --source, --locator" in err
    assert snapshot(repo) == before


def test_no_tty_no_hang(repo):
    """CI has no stdin: the command fails at once instead of prompting."""
    proc = subprocess.run(
        [sys.executable, "-m", "livingreview", "--root", str(repo), "add", "--disease", "LV"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert (
        proc.returncode == 1 and "missing required option" in proc.stderr and "Traceback" not in proc.stderr
    )


def test_duplicate_row_except_case_id_is_refused(repo, capsys):
    rows = _cases(repo)
    row = rows[0]
    ids = {r["case_id"] for r in rows}
    free = next(
        f"{row['case_id'][:-2]}{n:02d}" for n in range(1, 100) if f"{row['case_id'][:-2]}{n:02d}" not in ids
    )
    before = snapshot(repo)
    values = {k.replace("_", "-"): v for k, v in row.items() if v and k != "case_id"}
    code, _, err = cli(repo, "add", "--no-input", *flags(values), "--case-id", free, capsys=capsys)
    assert code == 1 and f"repeats {row['case_id']}" in err
    assert snapshot(repo) == before


def test_pasted_bibtex_and_dry_run(repo, capsys):
    entry = (
        "@article{mustermann2024,\n author = {Mustermann, Erika},\n title = {IVIG {for} LV},\n"
        " journal = {J Ex},\n year = {2024},\n pages = {1--2}\n}"
    )
    before = snapshot(repo)
    code, out, _ = cli(
        repo,
        "add",
        "--no-input",
        "--dry-run",
        *flags(CASE),
        *flags(APPRAISAL),
        "--bibtex",
        entry,
        capsys=capsys,
    )
    assert code == 0 and "nothing was written" in out
    assert snapshot(repo) == before
    bibfile = repo / "entry.bib"
    bibfile.write_text(entry, encoding="utf-8")
    code, out, err = cli(
        repo,
        "add",
        "--no-input",
        *flags(CASE),
        *flags(APPRAISAL),
        "--bibtex-file",
        str(bibfile),
        capsys=capsys,
    )
    assert code == 0, err
    assert "title   = {IVIG {for} LV}" in (repo / "references.bib").read_text(encoding="utf-8")
    code, _, err = cli(repo, "validate", capsys=capsys)
    assert code == 0, err


# --------------------------------------------------------------------------------------------
# interactive: an injected prompt function, and a real pseudo-terminal


def scripted(answers):
    """A prompt function that answers from a list and records the questions."""
    asked = []
    it = iter(answers)

    def prompt(text):
        asked.append(text)
        try:
            return next(it)
        except StopIteration:
            raise EOFError from None

    prompt.asked = asked
    return prompt


def _existing_lv(repo) -> tuple[str, str, str]:
    """An LV report already in the data: its key, one of its case ids, and the id a new group would get."""
    from livingreview.datapkg.frames import load_cases

    lv = load_cases(repo).query("disease == 'LV' and design != 'case_report'")  # one more patient fits
    source = lv["source"].iloc[0]
    ids = sorted(lv.loc[lv["source"] == source, "case_id"])
    return source, ids[0], f"LV-{source}-{int(ids[-1][-2:]) + 1:02d}"


def test_interactive_bad_answers_are_asked_again(repo):
    import io

    from livingreview.cli.add import Adder

    # one bad answer before each good one for the fields the contributor fills in; empty = unknown otherwise
    answers = {
        "disease": ["XX", "lv"],  # wrong enum, then case-insensitive match
        "source": ["Not A Key", "mustermann2024"],
        "case_id": [_existing_lv(repo)[1]],  # a duplicate id: caught by the whole-row check
        "locator": ["p", "Table 1; p. 3"],  # too short
        "extraction_level": ["summary", "full_text"],
        "design": ["cohort", "case_series"],
        "year": ["20x4", "2024"],
        "n_patients": ["-2", "2"],
        "n_male": ["1.5", "1"],
        "regimen_text": ["", "2 g/kg monthly"],  # required
        "n_responders": ["three", "3"],  # 3 > 2 patients: caught by the whole-row check
    }
    out = io.StringIO()
    adder = Adder(repo, out=out)
    order = adder.prompt_order()
    script = []
    for name in order:
        script += answers.get(name, [""])
        if name == "source":  # the reference, pasted
            script += [
                "@article{mustermann2024, author={Mustermann, E.}, title={T}, journal={J}, year={2024}}",
                "",
            ]
    # the new report's appraisal, with a wrong answer and a missing reason asked again
    appraisal = {k.removeprefix("appraisal-").replace("-", "_"): v for k, v in APPRAISAL.items()}
    for name in Adder(repo).appraisal_specs():
        if name == "selection":
            script.append("maybe")
        if name == "outcome_reason":
            script.append("")
        script.append(appraisal.get(name, ""))
    script += ["", "2", "y"]  # whole-row check: case_id ("" takes the proposal), n_responders; confirm
    prompt = scripted(script)
    before = snapshot(repo)
    assert adder.add({}, prompt=prompt) == 0
    text = out.getvalue()
    for reason in (
        "is not one of LCV",
        "is not an integer",
        "below the minimum 1",
        "responders cannot exceed",
        "required",
        "needs at least 3",
        "is not one of full_text",
        "already exists",
        "'maybe' is not one of yes, no, unclear",
        "say what the text states",
    ):
        assert reason in text, reason
    assert "Allowed values: case_report, case_series" in text
    assert "try again" in text
    assert "Unit: g/kg body weight per cycle" in text
    assert any(q.startswith("case_id [LV-mustermann2024-01]") for q in prompt.asked)
    after = snapshot(repo)
    assert after["data/cases.csv"] != before["data/cases.csv"]
    assert "LV-mustermann2024-01,LV,,mustermann2024" in after["data/cases.csv"].decode()
    assert "mustermann2024,abstract (journal page),Abstract,unclear" in after["data/appraisal.csv"].decode()


def test_interactive_eof_and_no_writes(repo):
    import io

    from livingreview.cli.add import Adder
    from livingreview.errors import UserError

    source, _, _ = _existing_lv(repo)
    before = snapshot(repo)
    with pytest.raises(UserError, match="input ended"):
        Adder(repo, out=io.StringIO()).add({}, prompt=scripted(["LV", source]))
    assert snapshot(repo) == before
    # answering "n" at the confirmation writes nothing either
    adder = Adder(repo, out=io.StringIO())
    answers = {
        "disease": "LV",
        "source": source,
        "locator": "p. 3",
        "extraction_level": "abstract",
        "n_patients": "1",
        "regimen_text": "2 g/kg",
        "n_responders": "1",
    }
    script = [answers.get(n, "") for n in adder.prompt_order()] + ["n"]
    assert adder.add({}, prompt=scripted(script)) == 1
    assert snapshot(repo) == before


def _expect(fd, needle, buffer, timeout=30.0):
    end = time.monotonic() + timeout
    while needle not in buffer[0]:
        remaining = end - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out waiting for {needle!r}; got:\n{buffer[0][-2000:]}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                raise AssertionError(f"process ended before {needle!r}; got:\n{buffer[0][-2000:]}")
            buffer[0] += chunk.decode("utf-8", "replace")
    head, _, tail = buffer[0].partition(needle)
    buffer[0] = tail
    return head


@pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a pseudo-terminal")
def test_interactive_in_a_real_terminal(repo):
    from livingreview.cli.add import Adder

    order = Adder(repo).prompt_order()
    source, _, new_id = _existing_lv(repo)
    answers = {
        "disease": "LV",
        "source": source,
        "locator": "Table 9; p. 3",
        "extraction_level": "secondary_source",
        "n_patients": "1",
        "regimen_text": "2 g/kg monthly",
        "n_responders": "oops",
    }
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "livingreview", "--root", str(repo), "add"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        close_fds=True,
        env={**os.environ, "TERM": "dumb"},
    )
    os.close(slave)
    buffer = [""]
    try:
        for name in order:
            _expect(master, f"{name}", buffer)
            _expect(master, ": ", buffer)
            os.write(master, (answers.get(name, "") + "\n").encode())
            if name == "n_responders":
                _expect(master, "is not an integer", buffer)
                os.write(master, b"1\n")
        _expect(master, "Write it? [Y/n]", buffer)
        os.write(master, b"y\n")
        _expect(master, f"Added {new_id} to data/cases.csv", buffer)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert new_id in (repo / "data" / "cases.csv").read_text(encoding="utf-8")
