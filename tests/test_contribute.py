"""livingreview add: what it derives from the schema, reference handling, outcomes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from livingreview.cli import add as contribute
from livingreview.cli import build_parser
from livingreview.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
DESCRIPTOR = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))


def test_one_option_per_schema_field_with_description_allowed_values_and_unit():
    parser = build_parser(["add"])
    sub = parser._subparsers._group_actions[0].choices["add"]
    options = {opt: action for action in sub._actions for opt in action.option_strings}
    for resource in ("cases", "outcomes"):
        for field in contribute.get_resource(DESCRIPTOR, resource)["schema"]["fields"]:
            action = options[contribute.option_name(field["name"])]
            assert field["description"].replace("%", "%%")[:40] in action.help
    assert "one of: LCV, CLE, LV, SSc, SjS" in options["--disease"].help
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
    got = contribute.unit_of(name)
    assert (got is None) if unit is None else unit in got


def test_render_entry_layout():
    text = contribute.render_entry(
        "Article", "doe2020", {"author": "Doe, J.", "title": "A {B} c", "pages": ""}
    )
    assert text == "@article{doe2020,\n  author  = {Doe, J.},\n  title   = {A {B} c}\n}\n"


def test_build_bib_entry_from_pasted_bibtex():
    key, text = contribute.build_bib_entry(
        contribute.BibInput(
            bibtex='@Article{doe2020, author = "Doe, J.", title = {T}, journal={J}, year = 2020}'
        )
    )
    assert key == "doe2020" and "year    = {2020}" in text and "author  = {Doe, J.}" in text


def test_check_value_reuses_the_validator():
    spec = next(
        f for f in contribute.get_resource(DESCRIPTOR, "cases")["schema"]["fields"] if f["name"] == "year"
    )
    assert contribute.check_value(spec, "2020") is None
    assert "below the minimum" in contribute.check_value(spec, "1900")
    assert "not an integer" in contribute.check_value(spec, "20.5x")


def test_issue_form_command(capsys):
    assert contribute.main(["--root", str(ROOT), "--issue-form"]) == 0
    assert capsys.readouterr().out == contribute.issue_form(DESCRIPTOR)


@pytest.fixture
def repo(tmp_path):
    from livingreview.cli.check_release import export_tree

    export_tree(ROOT, "HEAD", tmp_path)
    return tmp_path


def test_add_outcome_row(repo):
    adder = contribute.Adder(repo, "outcomes", out=io.StringIO())
    before = (repo / "data" / "cases.csv").read_bytes()
    given = {
        "source": "sanges2017",
        "case_id": "SSc-sanges2017-01",
        "locator": "Table 3",
        "domain": "musculoskeletal",
        "measure": "Hand pain",
        "timepoint": "before",
        "statistic": "percent",
        "value": "40.0",
        "unit": "%",
    }
    assert adder.add(given, confirm=False) == 0
    text = (repo / "data" / "outcomes.csv").read_text(encoding="utf-8")
    assert (
        "SSc-sanges2017-hand-pain-before,sanges2017,SSc-sanges2017-01,,Table 3,musculoskeletal,Hand "
        "pain,before,percent,40,,%,,," in text
    )
    assert (repo / "data" / "cases.csv").read_bytes() == before


def test_outcome_refusals(repo):
    snapshot = (repo / "data" / "outcomes.csv").read_bytes()
    adder = contribute.Adder(repo, "outcomes", out=io.StringIO())
    base = {
        "source": "sanges2017",
        "case_id": "SSc-sanges2017-01",
        "locator": "Table 3",
        "domain": "musculoskeletal",
        "measure": "Hand pain",
        "timepoint": "before",
        "statistic": "percent",
        "unit": "%",
    }
    with pytest.raises(UserError, match="below the minimum 0"):
        adder.add({**base, "value": "-4"})
    with pytest.raises(UserError, match="not a field of a outcome"):
        adder.add({**base, "value": "4", "n_patients": "3"})
    with pytest.raises(UserError, match="SSc-sanges2017-99"):
        adder.add({**base, "value": "4", "case_id": "SSc-sanges2017-99"})
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
