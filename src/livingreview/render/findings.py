"""A summary of findings (GRADE) as a table and its footnotes.

One row per outcome: patients and reports, the effect, each domain's judgement and the certainty; the
reasons follow as numbered notes, each marked as computed from the data or recorded in
``data/certainty.csv``. Judgements are words, never colours.
"""

from __future__ import annotations

import html

import pandas as pd

from livingreview.evidence.certainty import DOMAIN_LABELS, DOMAINS, JUDGEMENT_LABELS, Finding
from livingreview.render import citations
from livingreview.render.blocks import Html
from livingreview.render.numbers import estimate_interval, with_sd

__all__ = ["effect_text", "sof_frame", "sof_notes"]


def effect_text(f: Finding) -> str:
    """The effect in words: a proportion with its interval, or the doses before and after."""
    if f.outcome == "response":
        e = f.estimate
        text = estimate_interval(e.estimate, e.ci_low, e.ci_high)
        return text + (" (one report, not pooled)" if e.k == 1 else " responded")
    if f.outcome == "serious_adverse_events":
        e = f.estimate
        return f"{e.n_events} of {e.n_patients} patients: " + estimate_interval(
            e.estimate, e.ci_low, e.ci_high
        )
    parts = []
    for row in f.doses.to_dict("records"):
        stat = "" if row["statistic"] == "value" else f" ({row['statistic']})"
        parts.append(
            f"{citations.label(row['source'])}, {row['who']}: {with_sd(row['before'], row['before_sd'])} → "
            f"{with_sd(row['after'], row['after_sd'])} mg/day{stat}"
        )
    return "; ".join(parts)


def sof_frame(findings: list[Finding], disease_names: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per finding: the outcome, its certainty, patients and reports, the effect, then each domain's
    judgement (the most read columns first, so that a phone shows them); with ``disease_names``, a first
    column names each row's disease."""
    rows = []
    for f in findings:
        row = {"Disease": disease_names[f.disease]} if disease_names else {}
        row.update(
            {
                "Outcome": f.label,
                "Certainty": f"{f.certainty} (from {f.start})",
                "Patients": f.n_patients if f.n_patients is not None else pd.NA,
                "Reports": f.n_reports,
                "Effect": effect_text(f),
            }
        )
        for d in f.domains:
            row[DOMAIN_LABELS[d.name]] = JUDGEMENT_LABELS[d.judgement]
        rows.append(row)
    return pd.DataFrame(rows)


def sof_notes(findings: list[Finding], disease_names: dict[str, str] | None = None) -> Html:
    """The reason for every domain's judgement, outcome by outcome."""
    esc = html.escape
    parts, plain = ['<div class="lr-sof-notes">'], []
    for f in findings:
        title = f.label if disease_names is None else f"{disease_names[f.disease]}: {f.label.lower()}"
        parts.append(f"<p><strong>{esc(title)}</strong> — certainty {esc(f.certainty)}.</p><ul>")
        by_name = {d.name: d for d in f.domains}
        for name in DOMAINS:
            d = by_name[name]
            how = "computed" if d.computed else "judged, recorded in data/certainty.csv"
            parts.append(
                f"<li>{esc(d.label)}: {esc(JUDGEMENT_LABELS[d.judgement])} ({esc(how)}). {esc(d.reason)}</li>"
            )
        parts.append("</ul>")
        plain.append(f"{title}: {f.certainty}")
    parts.append("</div>")
    return Html("".join(parts), "\n".join(plain))
