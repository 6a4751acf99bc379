"""The data dictionary page: every resource of ``datapackage.json`` as a table of its fields and rules."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from livingreview.datapkg.descriptor import read_descriptor
from livingreview.paths import find_root
from livingreview.render import tables


def data_dictionary(root: str | Path | None = None) -> list[tables.Table]:
    """One table per resource of ``datapackage.json``: every field with its type, rules and description."""
    package = read_descriptor(find_root(root or Path.cwd()))
    out = []
    for res in package["resources"]:
        rows = []
        for field in res["schema"]["fields"]:
            rules = dict(field.get("constraints", {}))
            required = rules.pop("required", False)
            rows.append(
                {
                    "Field": field["name"],
                    "Type": field["type"],
                    "Required": "yes" if required else "",
                    "Rules": "; ".join(_rule_text(k, v) for k, v in rules.items()) or pd.NA,
                    "Description": field["description"],
                }
            )
        caption = f"{res['path']} — {res['title']}. {res['description']}"
        out.append(tables.show(pd.DataFrame(rows), caption=caption, sortable=False))
    return out


def _rule_text(name: str, value: object) -> str:
    if name == "enum":
        return "one of " + ", ".join(map(str, value))
    labels = {"minimum": "≥", "maximum": "≤", "minLength": "length ≥", "maxLength": "length ≤"}
    if name in labels:
        return f"{labels[name]} {value}"
    if name == "unique":
        return "unique"
    return f"{name} {value}"
