"""The GitHub files: workflows, issue form, CITATION.cff. They cannot run here, so they are checked
statically:
YAML, required keys, GitHub's own JSON schemas (vendored in check-jsonschema, offline), pinned actions."""

from __future__ import annotations

import json
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
    assert {p.name for p in WORKFLOWS} >= {"pr.yml", "pages.yml", "nightly.yml", "linkcheck.yml"}


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
