"""The GitHub issue form for case submissions (``.github/ISSUE_TEMPLATE/case-submission.yml``), generated
from the schema of ``cases.csv`` so that its fields, dropdowns and help never drift from the data."""

from __future__ import annotations

from typing import Any

import yaml

from livingreview.datapkg.descriptor import resource
from livingreview.datapkg.field_help import constraint_text, unit_of

__all__ = ["issue_form"]

#: a string field allowing at least this many characters gets a textarea instead of a one-line input
_TEXTAREA_MIN_LENGTH = 300


def issue_form(descriptor: dict) -> str:
    """``.github/ISSUE_TEMPLATE/case-submission.yml``: one form element per field of cases.csv."""
    cases = resource(descriptor, "cases")
    body: list[dict[str, Any]] = [
        {
            "type": "markdown",
            "attributes": {
                "value": (
                    "Thank you for submitting a published case treated with IVIG. One form = one "
                    "**case group** "
                    "(a patient, or the patients of one report who share disease, subgroup and IVIG "
                    "regimen). "
                    "Leave a field empty when the report does not say; never guess. How to code each field: "
                    "CONTRIBUTING.md, 'How to code each field'. This form is generated from "
                    "data/datapackage.json (`livingreview issue-form`)."
                )
            },
        },
        {
            "type": "textarea",
            "id": "reference",
            "attributes": {
                "label": "Reference (BibTeX or full citation with DOI)",
                "description": "The primary report; if you read it through a review, cite the review too.",
                "render": "bibtex",
            },
            "validations": {"required": True},
        },
    ]
    for spec in cases["schema"]["fields"]:
        c = spec.get("constraints", {})
        description = spec.get("description", "")
        unit = unit_of(spec["name"])
        if unit and spec.get("type") in ("integer", "number"):
            description += f" Unit: {unit}."
        if "enum" not in c:
            description += f" ({constraint_text(spec)})"
        attributes: dict[str, Any] = {"label": spec["name"], "description": description}
        if "enum" in c:
            element = {
                "type": "dropdown",
                "id": spec["name"],
                "attributes": {**attributes, "options": list(c["enum"])},
            }
        elif spec.get("type") == "string" and c.get("maxLength", 0) >= _TEXTAREA_MIN_LENGTH:
            element = {"type": "textarea", "id": spec["name"], "attributes": attributes}
        else:
            if "example" in spec:
                attributes["placeholder"] = str(spec["example"])
            element = {"type": "input", "id": spec["name"], "attributes": attributes}
        required = bool(c.get("required"))
        if spec["name"] == "case_id":  # maintainers assign it when they add the case
            required = False
            element["attributes"]["description"] += " Leave empty if unsure: the maintainers assign it."
        element["validations"] = {"required": required}
        body.append(element)
    body.append(
        {
            "type": "checkboxes",
            "id": "scope",
            "attributes": {
                "label": "Scope",
                "options": [
                    {
                        "label": (
                            "Human patients with one of the five diseases, treated with "
                            "intravenous immunoglobulin"
                        ),
                        "required": True,
                    },
                    {
                        "label": (
                            "Published (journal article, letter or conference abstract with a citable source)"
                        ),
                        "required": True,
                    },
                    {
                        "label": "These patients are not already in data/cases.csv (not a duplicate report)",
                        "required": True,
                    },
                ],
            },
        }
    )
    form = {
        "name": "Case submission",
        "description": "Submit a published case (group) of IVIG treatment for the living review",
        "title": "[case] <disease> <firstauthorYEAR>",
        "labels": ["case-submission"],
        "body": body,
    }
    header = (
        "# GENERATED from data/datapackage.json by `livingreview issue-form`; do not edit.\n"
        "# tests/test_github_files.py fails when this file and the schema disagree.\n"
    )
    return header + yaml.safe_dump(form, sort_keys=False, allow_unicode=True, width=100)
