"""The appraisal of a disease's reports and its leave-out sensitivity analyses, as tables and markup.

Answers are shown as a symbol *and* a word (``✓ yes``, ``✗ no``, ``? unclear``), never by colour alone; the
reasons behind them sit in a collapsible block under the table, opened when the page is printed.
"""

from __future__ import annotations

import html

import pandas as pd

from livingreview import stats
from livingreview.evidence.appraisal import ITEM_LABELS, ITEMS, LeaveOut
from livingreview.render import citations
from livingreview.render.blocks import Html
from livingreview.render.numbers import estimate_interval

__all__ = ["ANSWER_TEXT", "appraisal_frame", "leave_out_frame", "reasons"]

ANSWER_TEXT = {"yes": "✓ yes", "no": "✗ no", "unclear": "? unclear"}


def appraisal_frame(appraisal: pd.DataFrame) -> pd.DataFrame:
    """One row per report: the overall risk of bias (first, so that a phone shows it), then the answers."""
    frame = pd.DataFrame({"Report": appraisal["source"], "Risk of bias": appraisal["overall"]})
    for item in ITEMS:
        frame[ITEM_LABELS[item]] = appraisal[item].map(ANSWER_TEXT)
    return frame.reset_index(drop=True)


def reasons(appraisal: pd.DataFrame) -> Html:
    """Every answer's reason and where it was read, report by report, in a collapsible block."""
    esc = html.escape
    parts = ['<details class="lr-reasons"><summary>Why each answer: the reasons, report by report</summary>']
    plain = []
    for row in appraisal.to_dict("records"):
        label = esc(citations.label(row["source"]))
        parts.append(
            f"<h4>{label}</h4><p>Read in: {esc(row['text_read'])} ({esc(row['locator'])}). "
            f"Risk of bias {esc(row['overall'])}: {esc(row['overall_reason'])}</p><dl>"
        )
        for item in ITEMS:
            reason = row.get(f"{item}_reason")
            reason = "" if reason is None or pd.isna(reason) else str(reason)
            answer = esc(ANSWER_TEXT[row[item]])
            parts.append(f"<dt>{esc(ITEM_LABELS[item])}: {answer}</dt><dd>{esc(reason) or '—'}</dd>")
        parts.append("</dl>")
        plain.append(f"{row['source']}: {row['overall']}")
    parts.append("</details>")
    return Html("".join(parts), "; ".join(plain))


def signed_points(value: float) -> str:
    """+1.8, −8.7, ±0.0: a change in percentage points with its sign (a true minus)."""
    text = f"{value:+.1f}".replace("-", "−")
    return "±0.0" if text in ("+0.0", "−0.0") else text


def leave_out_frame(primary: stats.PooledEstimate, analyses: list[LeaveOut]) -> pd.DataFrame:
    """The primary estimate, then each leave-out analysis with the reports set aside and the change."""
    rows = [
        {
            "Analysis": "All uncontrolled reports (primary)",
            "Reports left out": 0,
            "Reports": primary.k,
            "Patients": primary.n_patients,
            "Pooled response (95 % CI)": estimate_interval(primary.estimate, primary.ci_low, primary.ci_high),
            "Change (percentage points)": pd.NA,
        }
    ]
    for a in analyses:
        pooled = a.pooled
        rows.append(
            {
                "Analysis": f"Without {a.label}",
                "Reports left out": len(a.left_out),
                "Reports": pooled.k,
                "Patients": pooled.n_patients,
                "Pooled response (95 % CI)": (
                    estimate_interval(pooled.estimate, pooled.ci_low, pooled.ci_high)
                    + (" (one report, not pooled)" if pooled.k == 1 else "")
                    if pooled.k
                    else "no report left"
                ),
                "Change (percentage points)": (
                    a.change * 100 if a.change is not None and a.left_out else pd.NA
                ),
            }
        )
    return pd.DataFrame(rows)
