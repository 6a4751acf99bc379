"""How a schema field is described to a person: its unit (from its name) and its type and constraints in
words. Used by ``livingreview add`` (options and prompts) and the GitHub issue form, so they say the same."""

from __future__ import annotations

import re

__all__ = ["constraint_text", "is_required", "unit_of"]

#: unit of a field, derived from its name (the schema's descriptions say the same in words)
_UNITS = (
    (re.compile(r"^dose_g_kg_"), "g/kg body weight per cycle"),
    (re.compile(r"^days_per_cycle_"), "days per cycle"),
    (re.compile(r"^interval_weeks_"), "weeks (monthly = 4; days / 7 rounded to 2 decimals)"),
    (re.compile(r"^age_(years|min|max)$"), "years"),
    (re.compile(r"_mg_day_"), "mg/day"),
    (re.compile(r"_months$"), "months"),
    (re.compile(r"^cycles_"), "cycles"),
    (re.compile(r"^n(_|$)"), "patients"),
)


def unit_of(name: str) -> str | None:
    """The unit of a numeric field, or None when its name implies none."""
    for pattern, unit in _UNITS:
        if pattern.search(name):
            return unit
    return None


def is_required(spec: dict) -> bool:
    return bool(spec.get("constraints", {}).get("required"))


def constraint_text(spec: dict) -> str:
    """Type and constraints in words, e.g. 'integer, ≥ 1' or 'one of: LCV, CLE'."""
    c = spec.get("constraints", {})
    parts = [spec.get("type", "string")]
    if "enum" in c:
        parts = ["one of: " + ", ".join(c["enum"])]
    if "minimum" in c and "maximum" in c:
        parts.append(f"{c['minimum']}–{c['maximum']}")
    elif "minimum" in c:
        parts.append(f"≥ {c['minimum']}")
    elif "maximum" in c:
        parts.append(f"≤ {c['maximum']}")
    if "maxLength" in c:
        parts.append(f"at most {c['maxLength']} characters")
    return ", ".join(parts)
