"""livingreview add: what it derives from the schema, reference handling, outcomes; and the issue form
command."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from livingreview.cli import add as contribute
from livingreview.cli import build_parser, main
from livingreview.cli.git import export_tree
from livingreview.datapkg.bib_entry import render_entry
from livingreview.datapkg.csvfile import read_records
from livingreview.datapkg.descriptor import resource
from livingreview.datapkg.field_help import unit_of
from livingreview.datapkg.schema_checks import cell_problems
from livingreview.errors import UserError
from livingreview.render.issue_form import issue_form

ROOT = Path(__file__).resolve().parents[1]
DESCRIPTOR = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))


def spec_of(table: str, name: str) -> dict:
    return next(f for f in resource(DESCRIPTOR, table)["schema"]["fields"] if f["name"] == name)


def test_one_option_per_schema_field_with_description_allowed_values_and_unit():
    parser = build_parser(["add"])
    sub = parser._subparsers._group_actions[0].choices["add"]
    options = {opt: action for action in sub._actions for opt in action.option_strings}
    for table in ("cases", "outcomes"):
        for field in resource(DESCRIPTOR, table)["schema"]["fields"]:
            action = options[contribute.option_name(field["name"])]
            assert field["description"].replace("%", "%%")[:40] in action.help
    diseases = spec_of("cases", "disease")["constraints"]["enum"]
    assert f"one of: {', '.join(diseases)}" in options["--disease"].help
    assert "unit: g/kg body weight per cycle" in options["--dose-g-kg-min"].help
    assert "unit: weeks" in options["--interval-weeks-max"].help
    assert "required" in options["--n-patients"].help


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("dose_g_kg_max", "g/kg"),
        ("days_per_cycle_min", "days"),
        ("age_min", "years"),
        ("n_male", "patients"),
        ("steroid_mg_day_after", "mg/day"),
        ("follow_up_months", "months"),
        ("year", None),
        ("age_stat", None),
    ],
)
def test_units(name, unit):
    got = unit_of(name)
    assert (got is None) if unit is None else unit in got


def test_render_entry_layout():
    text = render_entry("Article", "doe2020", {"author": "Doe, J.", "title": "A {B} c", "pages": ""})
    assert text == "@article{doe2020,\n  author  = {Doe, J.},\n  title   = {A {B} c}\n}\n"


def test_build_bib_entry_from_pasted_bibtex():
    key, text = contribute.build_bib_entry(
        contribute.BibInput(
            bibtex='@Article{doe2020, author = "Doe, J.", title = {T}, journal={J}, year = 2020}'
        )
    )
    assert key == "doe2020" and "year    = {2020}" in text and "author  = {Doe, J.}" in text


def test_prompt_checks_are_the_validators_cell_checks():
    spec = spec_of("cases", "year")
    low = spec["constraints"]["minimum"]
    assert cell_problems(spec, str(low)) == []
    assert any("below the minimum" in m for m in cell_problems(spec, str(low - 1)))
    assert any("not an integer" in m for m in cell_problems(spec, "20.5x"))


def test_issue_form_command(capsys):
    assert main(["--root", str(ROOT), "issue-form"]) == 0
    assert capsys.readouterr().out == issue_form(DESCRIPTOR)


@pytest.fixture
def repo(tmp_path):
    export_tree(ROOT, "HEAD", tmp_path)
    return tmp_path


def _a_case(repo: Path) -> dict[str, str]:
    return read_records(repo / "data" / "cases.csv", "data/cases.csv")[0]


def _new_measure(repo: Path) -> dict[str, str]:
    """A measure of an existing case group, new to outcomes.csv."""
    case = _a_case(repo)
    return {
        "source": case["source"],
        "case_id": case["case_id"],
        "locator": "Table 3",
        "domain": spec_of("outcomes", "domain")["constraints"]["enum"][0],
        "measure": "Hand pain (test)",
        "timepoint": "before",
        "statistic": "percent",
        "unit": "%",
    }


def test_add_outcome_row(repo):
    adder = contribute.Adder(repo, "outcomes", out=io.StringIO())
    before = (repo / "data" / "cases.csv").read_bytes()
    given = {**_new_measure(repo), "value": "40.0"}
    assert adder.add(given, confirm=False) == 0
    rows = read_records(repo / "data" / "outcomes.csv", "data/outcomes.csv")
    case = _a_case(repo)
    outcome_id = f"{case['disease']}-{case['source']}-hand-pain-test-before"
    added = next(r for r in rows if r["outcome_id"] == outcome_id)
    assert added == {**{k: "" for k in added}, **given, "outcome_id": outcome_id, "value": "40"}
    assert (repo / "data" / "cases.csv").read_bytes() == before


def test_outcome_refusals(repo):
    snapshot = (repo / "data" / "outcomes.csv").read_bytes()
    adder = contribute.Adder(repo, "outcomes", out=io.StringIO())
    base = _new_measure(repo)
    low = spec_of("outcomes", "value")["constraints"]["minimum"]
    with pytest.raises(UserError, match=f"below the minimum {low}"):
        adder.add({**base, "value": str(low - 4)})
    with pytest.raises(UserError, match="not a field of a outcome"):
        adder.add({**base, "value": "4", "n_patients": "3"})
    case_ids = {r["case_id"] for r in read_records(repo / "data" / "cases.csv", "data/cases.csv")}
    unknown = next(
        base["case_id"][:-2] + f"{n:02d}"
        for n in range(99, 0, -1)
        if base["case_id"][:-2] + f"{n:02d}" not in case_ids
    )
    with pytest.raises(UserError, match=unknown):
        adder.add({**base, "value": "4", "case_id": unknown})
    assert (repo / "data" / "outcomes.csv").read_bytes() == snapshot


def test_refuses_when_the_tree_is_already_invalid(repo):
    path = repo / "data" / "cases.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[1] += ",surplus"  # one cell too many in the first case group
    path.write_text("\n".join(lines), encoding="utf-8")
    snapshot = path.read_bytes()
    with pytest.raises(UserError, match="already invalid"):
        contribute.Adder(repo, out=io.StringIO()).add({"disease": "LV"})
    assert path.read_bytes() == snapshot
