"""The GitHub files: workflows, issue form, CITATION.cff. They cannot run here, so they are checked
statically:
YAML, required keys, GitHub's own JSON schemas (vendored in check-jsonschema, offline), pinned actions."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from livingreview.render.issue_form import issue_form

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
FORM = ROOT / ".github" / "ISSUE_TEMPLATE" / "case-submission.yml"
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _load(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)  # 'on' stays a string


def _schema_check(schema: str, *paths: Path) -> None:
    # a pinned requirement: installed by `make`, so a missing binary is a broken environment, never a skip
    assert CHECK_JSONSCHEMA.exists(), f"{CHECK_JSONSCHEMA} is missing; run `make test` (it installs it)"
    proc = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, *map(str, paths)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_expected_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {
        "pr.yml",
        "pages.yml",
        "nightly.yml",
        "linkcheck.yml",
        "search.yml",
    }


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_github_schema(path):
    _schema_check("vendor.github-workflows", path)
    _schema_check("custom.github-workflows-require-timeout", path)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_structure(path):
    wf = _load(path)
    assert {"name", "on", "permissions", "jobs"} <= wf.keys()
    assert wf["permissions"] == {"contents": "read"}, "top-level token must be read-only"
    for name, job in wf["jobs"].items():
        assert "permissions" in job, f"{name}: say which permissions the job needs"
        assert "runs-on" in job and "timeout-minutes" in job
        for step in job.get("steps", []):
            if "uses" in step:
                assert SHA_PIN.match(step["uses"]), f"{name}: {step['uses']} is not pinned to a commit SHA"
            if "run" in step:
                assert "${{ github.event" not in step["run"], "untrusted input must go through env"


def test_every_uses_line_is_pinned_with_a_version_comment():
    for path in WORKFLOWS:
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.match(r"^\s*(- )?uses:", line):
                assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), f"{path.name}: {line.strip()}"


def test_pr_workflow_does_what_the_contributing_guide_promises():
    wf = _load(ROOT / ".github" / "workflows" / "pr.yml")
    assert "pull_request" in wf["on"]
    text = (ROOT / ".github" / "workflows" / "pr.yml").read_text(encoding="utf-8")
    for needle in (
        "make book",
        "make test",
        "check-release",
        "livingreview diff",
        "chromium",
        "_build/html/reports",
    ):
        assert needle in text
    check = wf["jobs"]["check"]
    assert check["container"]["image"].startswith("python:3.11")
    comment = wf["jobs"]["comment"]
    assert comment["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert "head.repo.full_name == github.repository" in comment["if"], "fork PRs cannot comment"


def test_pages_workflow_deploys_with_nojekyll():
    wf = _load(ROOT / ".github" / "workflows" / "pages.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    text = (ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8")
    assert ".nojekyll" in text and "upload-pages-artifact" in text and "deploy-pages" in text
    assert wf["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}


def test_nightly_builds_without_caches():
    wf = _load(ROOT / ".github" / "workflows" / "nightly.yml")
    assert "schedule" in wf["on"]
    text = (ROOT / ".github" / "workflows" / "nightly.yml").read_text(encoding="utf-8")
    assert "make clean" in text and "rm -rf .venv .jupyter_cache" in text
    assert "actions/cache" not in text and "cache:" not in text


def test_linkcheck_opens_an_issue_instead_of_failing():
    wf = _load(ROOT / ".github" / "workflows" / "linkcheck.yml")
    job = wf["jobs"]["linkcheck"]
    assert job["permissions"]["issues"] == "write"
    step = next(s for s in job["steps"] if s.get("id") == "linkcheck")
    assert step["continue-on-error"] == "true" and "--builder linkcheck" in step["run"]


SEARCH = ROOT / ".github" / "workflows" / "search.yml"
WRITE_JOB = "publish"  # the one job of search.yml that pushes and opens the pull request and issue


def _steps(wf: dict) -> list[tuple[str, dict]]:
    return [(name, step) for name, job in wf["jobs"].items() for step in job.get("steps", [])]


def test_search_runs_weekly_and_on_demand():
    wf = _load(SEARCH)
    assert [entry["cron"].split()[4] for entry in wf["on"]["schedule"]] == ["1"], "once a week, on Monday"
    inputs = wf["on"]["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"since", "until"}
    assert all(spec["required"] == "false" for spec in inputs.values())
    assert wf["concurrency"]["group"] and wf["concurrency"]["cancel-in-progress"] == "false", (
        "runs never overlap"
    )


def test_search_writes_only_in_the_job_that_publishes():
    wf = _load(SEARCH)
    assert wf["permissions"] == {"contents": "read"}
    for name, job in wf["jobs"].items():
        writes = {scope for scope, level in job["permissions"].items() if level == "write"}
        if name == WRITE_JOB:
            assert writes == {"contents", "pull-requests", "issues"}
        else:
            assert not writes, f"{name} must not write: {writes}"
    publish = wf["jobs"][WRITE_JOB]
    assert publish["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert "container" not in publish, "gh is on the runner image, not in the python container"
    assert "needs.search.result == 'success'" in publish["if"], "it publishes what the search job recorded"


def test_search_uses_only_action_pins_the_other_workflows_use():
    others = {
        line.split("uses:", 1)[1].strip()
        for path in WORKFLOWS
        if path != SEARCH
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"^\s*(- )?uses:", line)
    }
    used = [
        line.split("uses:", 1)[1].strip()
        for line in SEARCH.read_text(encoding="utf-8").splitlines()
        if re.match(r"^\s*(- )?uses:", line)
    ]
    assert used, "search.yml checks out the repository"
    for uses in used:
        assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", uses), uses
        assert uses in others, f"{uses}: reuse a pin from the other workflows, do not invent one"


def test_search_keeps_secrets_and_inputs_out_of_scripts():
    text = SEARCH.read_text(encoding="utf-8")
    expressions = re.findall(r"\$\{\{(.*?)\}\}", text)
    assert any("secrets.NCBI_API_KEY" in e for e in expressions)
    assert not re.search(r"(?<!secrets\.)NCBI_API_KEY\b", " ".join(expressions)), "the key only as a secret"
    assert "vars.NCBI_EMAIL" in text
    for name, step in _steps(_load(SEARCH)):
        if "run" in step:
            assert "${{" not in step["run"], f"{name}/{step.get('name')}: expressions go through env"
            assert "secrets." not in step["run"]
            assert not re.search(r"(echo|printf)[^\n]*\$\{?NCBI_API_KEY", step["run"]), "never print the key"
            proc = subprocess.run(["bash", "-n"], input=step["run"], capture_output=True, text=True)
            assert proc.returncode == 0, f"{step.get('name')}: {proc.stderr}"


def test_search_runs_existing_livingreview_commands():
    from livingreview.cli import SUBCOMMANDS

    runs = "\n".join(step["run"] for _, step in _steps(_load(SEARCH)) if "run" in step)
    commands = re.findall(r"\.venv/bin/livingreview (\S+)", runs)
    # `search` and `screen` are registered by their own modules; until both are, this fails on purpose.
    assert set(commands) == {"search", "validate", "screen"}
    for command in commands:
        assert command in SUBCOMMANDS, f"livingreview {command} is not a subcommand"
    assert 'livingreview search "${args[@]}"' in runs and "--summary search-summary.json" in runs
    assert "livingreview screen export" in runs and "--ris" in runs and "--asreview" in runs
    assert "make .venv/.installed" in runs


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "--summary", "search-summary.json", "--since", "2026-11-30", "--until", "2026-12-07"],
        ["validate"],
        ["screen", "export", "--ris", "queue.ris", "--asreview", "queue.csv"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_search_workflow_arguments_parse(argv):
    """The options the workflow passes are the options the command line takes."""
    from livingreview.cli import build_parser

    try:
        args = build_parser(argv).parse_args(argv)
    except SystemExit:
        pytest.fail(f"`livingreview {' '.join(argv)}` (as search.yml runs it) does not parse")
    assert args.command == argv[0]


def test_search_publishes_a_branch_a_pull_request_and_an_issue():
    text = SEARCH.read_text(encoding="utf-8")
    for needle in (
        'branch="search/${DATE}"',
        "gh pr create",
        "Search update ${DATE}: ${NEW} new records",
        "gh issue list --state open --search",
        "gh issue edit",
        "gh issue comment",
        "Screening queue — ${DATE} (${NEW} new)",
        "livingreview screen import",
        "data/reconciliation.csv",
        "livingreview validate",
        "livingreview check-release",
        "data/search_runs.csv",
    ):
        assert needle in text, needle
    wf = _load(SEARCH)
    search = wf["jobs"]["search"]
    assert search["container"]["image"].startswith("python:3.11")
    checkout = search["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == "0"


def test_search_records_a_run_even_when_nothing_is_new():
    """A completed search releases a new data version even with no new report (protocol item
    living-update-trigger), and the date each search was last run is data (PRISMA-S item 13): the publish job
    runs whenever the search ran; only the screening queue and its issue wait for new records."""
    wf = _load(SEARCH)
    publish = wf["jobs"][WRITE_JOB]
    assert publish["if"] == "${{ needs.search.result == 'success' && needs.search.outputs.new != '' }}"
    assert "!= '0'" not in publish["if"] and "> 0" not in publish["if"]
    search = {step["name"]: step for step in wf["jobs"]["search"]["steps"]}
    keep = search["Keep the updated data for the publish job"]
    assert "if" not in keep, "the run's audit rows are data too"
    for name, step in search.items():
        if name.startswith(("Export the screening queue", "Upload the screening queue")):
            assert step["if"] == "${{ steps.summary.outputs.new != '0' }}", name
    steps = {step["name"]: step for step in publish["steps"]}
    for name in ("Open or update the screening-queue issue", "Link the pull request from the issue"):
        assert steps[name]["if"] == "${{ needs.search.outputs.new != '0' }}", name
    unconditional = ["Fetch the updated data", "Commit the data on a new branch and push it"]
    for name in [*unconditional, "Open the pull request"]:
        assert "if" not in steps[name], f"{name}: also when nothing is new"
    text = SEARCH.read_text(encoding="utf-8")
    assert "Search update ${DATE}: no new records" in text
    assert "no branch" not in text.lower() and "only logs" not in text


def _expr(value: str, context: dict[str, str]) -> str:
    """``${{ name }}`` from ``context``; a skipped step's outputs are empty, as on GitHub."""

    def one(match: re.Match) -> str:
        name = match[1].strip()
        return context.get(name, "") if name.startswith("steps.") else context[name]

    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


def _runs(condition: str | None, context: dict[str, str]) -> bool:
    """The few step conditions search.yml's publish job uses: ``a == 'b'`` or ``a != 'b'``."""
    if condition is None:
        return True
    name, op, value = re.fullmatch(r"\$\{\{ (\S+) (==|!=) '(.*)' \}\}", condition).groups()
    return (context[name] == value) == (op == "==")


def _publish(tmp_path: Path, new: str, changed: bool = True) -> tuple[subprocess.CompletedProcess, Path]:
    """Run the publish job's shell steps against a local origin, with a stand-in `gh` that logs its calls."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    origin, work, temp, bin_ = (tmp_path / d for d in ("origin.git", "work", "runner", "bin"))
    for d in (work / "data", temp / "search-data", bin_):
        d.mkdir(parents=True)
    env = {**os.environ, "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1", "RUNNER_TEMP": str(temp)}
    env["PATH"] = f"{bin_}{os.pathsep}{env['PATH']}"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True, env=env)
    (work / "data" / "search_runs.csv").write_text("search_id\nP6\n", encoding="utf-8")
    for argv in (["init", "-q", "-b", "main"], ["add", "data"], ["commit", "-q", "-m", "base"]):
        subprocess.run([*git, *argv], cwd=work, check=True, env=env)
    subprocess.run([*git, "remote", "add", "origin", str(origin)], cwd=work, check=True, env=env)
    subprocess.run([*git, "push", "-q", "origin", "main"], cwd=work, check=True, env=env)
    runs = "search_id\nP6\nP7\n" if changed else "search_id\nP6\n"
    (temp / "search-data" / "search_runs.csv").write_text(runs, encoding="utf-8")
    gh = bin_ / "gh"
    gh.write_text(
        '#!/usr/bin/env bash\nprintf \'%s\\n\' "$*" >> "$RUNNER_TEMP/gh.log"\ncase "$1 $2" in\n'
        '  "pr create") echo "https://github.com/o/r/pull/8" ;;\n'
        '  "issue create") echo "https://github.com/o/r/issues/7" ;;\nesac\n',
        encoding="utf-8",
    )
    gh.chmod(0o755)
    outputs = {"date": "2026-12-07", "run_id": "P7", "window_start": "2026-11-30", "window_end": "2026-12-07"}
    outputs |= {"found": "9", "new": new, "known": str(9 - int(new)), "queue": new, "translation": "x[tiab]"}
    context = {f"needs.search.outputs.{k}": v for k, v in outputs.items()}
    context |= {"github.token": "token", "github.ref_name": "main"}
    job = _load(SEARCH)["jobs"][WRITE_JOB]
    env |= {k: _expr(v, context) for k, v in job["env"].items()}
    env |= {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "1"}
    env |= {"GITHUB_RUN_NUMBER": "3", "GITHUB_STEP_SUMMARY": str(temp / "summary.md")}
    for step in job["steps"]:
        if "run" not in step or not _runs(step.get("if"), context):
            continue  # checkout and the artifact download: `work` and `search-data` stand in for them
        out = temp / "output"
        out.write_text("", encoding="utf-8")
        step_env = {**env, **{k: _expr(v, context) for k, v in step.get("env", {}).items()}}
        proc = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
            cwd=work,
            env={**step_env, "GITHUB_OUTPUT": str(out)},
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            return proc, temp
        for line in out.read_text(encoding="utf-8").splitlines():
            key, value = line.split("=", 1)
            context[f"steps.{step['id']}.outputs.{key}"] = value
    return proc, temp


def _branch_log(tmp_path: Path, branch: str) -> str:
    proc = subprocess.run(
        ["git", "--git-dir", str(tmp_path / "origin.git"), "log", "-1", "--format=%s", branch],
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def test_search_with_nothing_new_opens_only_the_pull_request(tmp_path):
    proc, temp = _publish(tmp_path, "0")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    calls = (temp / "gh.log").read_text(encoding="utf-8").splitlines()
    assert not [c for c in calls if c.startswith("issue")], "nothing new: no screening-queue issue"
    (create,) = [c for c in calls if c.startswith("pr create")]
    assert "--head search/2026-12-07 --title Search update 2026-12-07: no new records --body-file" in create
    assert _branch_log(tmp_path, "search/2026-12-07") == "Search update 2026-12-07: no new records"
    body = (temp / "pr.md").read_text(encoding="utf-8")
    for needle in ("entry dates 2026-11-30 to 2026-12-07", "| 9 | 0 | 9 | 0 |", "records the run", "x[tiab]"):
        assert needle in body, needle
    assert "before merging" in body and "data/search_runs.csv" in body
    checklist = [line for line in body.splitlines() if line.startswith("- [ ]")]
    assert len(checklist) == 2
    assert "CHANGELOG.md" in checklist[0] and "livingreview check-release main" in checklist[0]
    assert checklist[1].startswith("- [ ] Merge")
    assert "Closes #" not in body and "screen export" not in body and "screening-queue" not in body


def test_search_with_new_records_still_opens_the_issue_and_links_it(tmp_path):
    proc, temp = _publish(tmp_path, "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    calls = (temp / "gh.log").read_text(encoding="utf-8").splitlines()
    assert [c.split()[1] for c in calls if c.startswith("issue")] == ["list", "create", "comment"]
    (create,) = [c for c in calls if c.startswith("pr create")]
    assert "--title Search update 2026-12-07: 2 new records --body-file" in create
    assert _branch_log(tmp_path, "search/2026-12-07") == "Search update 2026-12-07: 2 new records"
    body = (temp / "pr.md").read_text(encoding="utf-8")
    assert "Closes #7" in body and "before screening" in body and "livingreview screen import" in body


def test_search_fails_when_the_run_left_the_data_unchanged(tmp_path):
    proc, temp = _publish(tmp_path, "0", changed=False)
    assert proc.returncode == 1
    assert "::error::" in proc.stdout and "data/ is unchanged" in proc.stdout
    assert not (temp / "gh.log").exists() or "pr create" not in (temp / "gh.log").read_text(encoding="utf-8")


def test_search_reads_the_summary_the_command_writes(tmp_path):
    step = next(s for _, s in _steps(_load(SEARCH)) if s.get("id") == "summary")
    script = re.search(r"<<'PY'\n(.*?)\nPY\n", step["run"], re.S)[1]
    window = ["2026-11-30", "2026-12-07"]
    summary = {"run_id": "P7", "window": window, "found": 9, "new": 2, "known": 7}
    outputs = {}
    for queue, expected in ((["R0101", "R0102", "R0103"], "3"), (3, "3")):
        (tmp_path / "search-summary.json").write_text(
            json.dumps({**summary, "queue": queue}), encoding="utf-8"
        )
        out, summ = tmp_path / "out", tmp_path / "summary.md"
        out.write_text("", encoding="utf-8")
        env = {"GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summ)}
        proc = subprocess.run(
            [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
        outputs = dict(line.split("=", 1) for line in out.read_text(encoding="utf-8").splitlines())
        assert outputs["queue"] == expected
    assert outputs["new"] == "2" and [outputs["window_start"], outputs["window_end"]] == window
    job_outputs = _load(SEARCH)["jobs"]["search"]["outputs"]
    assert set(outputs) <= set(job_outputs)


def test_issue_form_matches_github_schema():
    _schema_check("vendor.github-issue-forms", FORM)
    _schema_check("vendor.github-issue-config", FORM.with_name("config.yml"))


def test_issue_form_is_generated_from_the_schema():
    descriptor = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    assert FORM.read_text(encoding="utf-8") == issue_form(descriptor), (
        "regenerate it: livingreview issue-form > .github/ISSUE_TEMPLATE/case-submission.yml"
    )
    assert FORM.read_text(encoding="utf-8").startswith(
        "# GENERATED from data/datapackage.json by `livingreview issue-form`"
    )


def test_issue_form_dropdowns_mirror_the_enums():
    descriptor = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    cases = next(r for r in descriptor["resources"] if r["name"] == "cases")
    form = yaml.safe_load(FORM.read_text(encoding="utf-8"))
    elements = {e.get("id"): e for e in form["body"]}
    for field in cases["schema"]["fields"]:
        element = elements[field["name"]]
        enum = field.get("constraints", {}).get("enum")
        if enum:
            assert element["type"] == "dropdown"
            assert element["attributes"]["options"] == enum
        else:
            assert element["type"] in ("input", "textarea")
    for required in ("disease", "design", "source", "n_patients"):
        assert elements[required]["validations"]["required"] is True


def test_citation_cff_is_valid_and_cites_the_data_version():
    _schema_check("vendor.citation-file-format", ROOT / "CITATION.cff")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    descriptor = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert cff["version"] == descriptor["version"]


def test_pull_request_template_has_a_checklist():
    text = (ROOT / ".github" / "PULL_REQUEST_TEMPLATE.md").read_text(encoding="utf-8")
    assert text.count("- [ ]") >= 6
    for needle in ("make test", "livingreview diff", "CHANGELOG.md", "CITATION.cff", "locator"):
        assert needle in text
