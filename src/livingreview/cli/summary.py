"""``livingreview summary``: per-disease counts and pooled response estimates.

The pooling unit is the *report* (``source``): case-group rows of ``data/cases.csv`` that share
a (disease, source) are summed first. Rows with an empty ``n_responders`` (response not reported)
are left out of the response analysis; their patients are counted in ``patients_excluded``.

Text output is a table; ``--json`` prints a JSON document with sorted keys and this schema
(``schema_version`` 1; proportions are fractions in [0, 1], ``null`` when not defined)::

    {
      "schema_version": 1,
      "data_version": str,              # data/datapackage.json "version"
      "level": 0.95,                    # confidence level of every interval
      "primary_method": str,            # the GLMM, see livingreview.stats
      "diseases": [                     # in the order LCV, CLE, LV, SSc, SjS
        {
          "disease": str,               # code, e.g. "LV"
          "name": str,                  # e.g. "Livedoid vasculopathy"
          "case_groups": int,           # rows in cases.csv
          "reports": int,               # distinct sources
          "patients": int,              # all patients
          "reports_with_response": int, # reports pooled for response (k)
          "patients_with_response": int,
          "patients_excluded": int,     # patients in rows without n_responders
          "responders": int,
          "crude": {"estimate", "ci_low", "ci_high", "method"},    # sum/sum, exact CI
          "pooled": {                   # PooledEstimate.to_dict() of the GLMM
            "method", "k", "n_patients", "n_events", "estimate", "ci_low", "ci_high",
            "tau2", "i2", "pi_low", "pi_high", "mu", "se", "clamped", "note"
          }
        }, ...
      ]
    }

``pooled.method`` says what was done: the GLMM, "single report, not pooled" (k = 1: that
report's exact CI), "no reports" (nothing to pool), or the crude proportion when every report
has 100 % responders (the GLMM estimate then lies at infinity; ``clamped`` is true).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from livingreview.datapkg.descriptor import data_version
from livingreview.datapkg.frames import load_cases
from livingreview.errors import UserError
from livingreview.evidence.reports import NEEDED, summarise
from livingreview.paths import table_path
from livingreview.render.numbers import estimate_interval, pct_interval, pct_number

CASES = table_path("cases")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print JSON (stable, sorted keys) instead of a table"
    )


def run(args: argparse.Namespace) -> int:
    root = Path(getattr(args, "root", "."))
    cases = _load_cases(root)
    result = summarise(cases, data_version=_data_version(root))
    if args.json:
        print(json.dumps(result, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print(format_table(result))
    return 0


# --------------------------------------------------------------------------------------------
# loading


def _load_cases(root: Path):
    """cases.csv via livingreview.datapkg.frames.load_cases, with clear errors for a missing/odd file."""
    if not (root / CASES).is_file():
        raise UserError(f"no {CASES} under {root.resolve()} (use --root to point at the repository)")
    try:
        frame = load_cases(root)
    except (ValueError, KeyError, OSError) as exc:
        raise UserError(f"cannot read {CASES}: {exc}; run `livingreview validate`") from exc
    missing = [c for c in NEEDED if c not in frame.columns]
    if missing:
        raise UserError(f"{CASES} lacks column(s) {', '.join(missing)}")
    return frame


def _data_version(root: Path) -> str | None:
    """The data version, or None when the descriptor cannot say (the summary is still useful)."""
    try:
        return data_version(root)
    except (OSError, ValueError, KeyError):
        return None


# --------------------------------------------------------------------------------------------
# text output


def format_table(result: dict[str, Any]) -> str:
    """Plain-text table of :func:`summarise` output, plus footnotes with each row's method."""
    header = [
        "Disease",
        "Reports",
        "Patients",
        "Responders",
        "Crude (95% CI)",
        "Pooled (95% CI)",
        "tau2",
        "I2 %",
        "95% PI",
    ]
    body = []
    notes = []
    for i, d in enumerate(result["diseases"], start=1):
        p = d["pooled"]
        responders = (
            "-" if d["reports_with_response"] == 0 else f"{d['responders']}/{d['patients_with_response']}"
        )
        body.append(
            [
                f"{d['disease']} [{i}]",
                str(d["reports"]),
                str(d["patients"]),
                responders,
                estimate_interval(
                    d["crude"]["estimate"], d["crude"]["ci_low"], d["crude"]["ci_high"], missing="-"
                ),
                estimate_interval(p["estimate"], p["ci_low"], p["ci_high"], missing="-"),
                "-" if p["tau2"] is None else f"{p['tau2']:.3f}",
                pct_number(p["i2"], 0, missing="-"),
                pct_interval(p["pi_low"], p["pi_high"], missing="-"),
            ]
        )
        text = f"[{i}] {d['name']}: {p['method']}"
        if p["note"]:
            text += f"; {p['note']}"
        if d["patients_excluded"]:
            text += f"; {d['patients_excluded']} patient(s) without response data excluded"
        notes.append(text)
    widths = [max(len(r[c]) for r in [header, *body]) for c in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for r in body:
        lines.append(
            "  ".join(v.rjust(w) if j else v.ljust(w) for j, (v, w) in enumerate(zip(r, widths, strict=True)))
        )
    lines.append("")
    lines.extend(notes)
    lines.append(
        f"Crude: sum of responders / sum of patients with exact CI. Pooled: {result['primary_method']}; "
        "report = pooling unit; PI = 95% prediction interval."
    )
    return "\n".join(lines)
