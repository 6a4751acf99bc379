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
import math
from pathlib import Path
from typing import Any

from livingreview.errors import UserError

SCHEMA_VERSION = 1
LEVEL = 0.95
_DISEASE_ORDER = ("LCV", "CLE", "LV", "SSc", "SjS")
_NEEDED = ("disease", "source", "year", "n_patients", "n_responders")


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
    """cases.csv via livingreview.data.load_cases, with clear errors for a missing/odd file."""
    if not (root / "data" / "cases.csv").is_file():
        raise UserError(f"no data/cases.csv under {root.resolve()} (use --root to point at the repository)")
    try:
        from livingreview.datapkg.frames import load_cases
    except ImportError:  # pragma: no cover - only before data.py existed
        load_cases = None
    try:
        if load_cases is not None:
            frame = load_cases(root)
        else:  # pragma: no cover
            import pandas as pd

            frame = pd.read_csv(root / "data" / "cases.csv", dtype={"disease": "string", "source": "string"})
    except (ValueError, KeyError, OSError) as exc:
        raise UserError(f"cannot read data/cases.csv: {exc}; run `livingreview validate`") from exc
    missing = [c for c in _NEEDED if c not in frame.columns]
    if missing:
        raise UserError(f"data/cases.csv lacks column(s) {', '.join(missing)}")
    return frame


def _data_version(root: Path) -> str | None:
    try:
        return json.loads((root / "data" / "datapackage.json").read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------------------------
# aggregation


def report_table(cases) -> Any:
    """One row per (disease, source) report: the case groups of a report summed (the pooling unit).

    Columns: ``disease``, ``source``, ``year`` (earliest), ``country``/``design``/``via`` where the input
    has them, ``case_groups``, ``n_patients`` (all), ``n_evaluable`` and ``evaluable_groups`` (patients and
    case groups whose ``n_responders`` is known) and ``n_responders`` (``<NA>`` when no case group of the
    report gives it). Sorted by year and source. The book's tables and this command both use it, so
    they cannot disagree.
    """
    known = cases["n_responders"].notna()
    frame = cases.assign(n_evaluable=cases["n_patients"].where(known), evaluable=known.astype(int))
    descriptive = {
        c: (c, "first") for c in ("country", "design", "via", "extraction_level") if c in cases.columns
    }
    reports = (
        frame.groupby(["disease", "source"], sort=False)
        .agg(
            year=("year", "min"),
            **descriptive,
            case_groups=("n_patients", "size"),
            n_patients=("n_patients", "sum"),
            n_evaluable=("n_evaluable", lambda s: s.sum(min_count=1)),
            evaluable_groups=("evaluable", "sum"),
            n_responders=("n_responders", lambda s: s.sum(min_count=1)),
        )
        .reset_index()
    )
    for col in ("year", "n_patients", "n_evaluable", "evaluable_groups", "n_responders", "case_groups"):
        reports[col] = reports[col].astype("Int64")
    return reports.sort_values(["year", "source"], kind="stable").reset_index(drop=True)


def reports_by_source(cases) -> Any:
    """One row per (disease, source) report for the response analysis.

    Columns: ``disease``, ``source``, ``year`` (earliest year of its rows), ``n_patients``,
    ``n_responders`` (both summed over rows whose ``n_responders`` is known),
    ``n_case_groups``. Reports without any known ``n_responders`` are dropped. Sorted by disease,
    year, source. This is the aggregated table the forest plots take.
    """
    import pandas as pd

    for col in _NEEDED:
        if col not in cases.columns:
            raise ValueError(f"cases lacks column {col!r}")
    known = cases[cases["n_responders"].notna()]
    bad = known[(known["n_responders"] < 0) | (known["n_responders"] > known["n_patients"])]
    if not bad.empty:
        first = bad.iloc[0]
        raise UserError(
            f"{first.get('case_id', first['source'])}: n_responders ({first['n_responders']}) "
            f"is not between 0 and n_patients ({first['n_patients']})"
        )
    columns = ["disease", "source", "year", "n_patients", "n_responders", "n_case_groups"]
    if known.empty:
        kinds = ["string", "string", "Int64", "Int64", "Int64", "Int64"]
        return pd.DataFrame({c: pd.Series([], dtype=k) for c, k in zip(columns, kinds, strict=True)})
    reports = report_table(cases).dropna(subset=["n_responders"])
    reports = reports.assign(n_patients=reports["n_evaluable"], n_case_groups=reports["evaluable_groups"])
    return reports[columns].sort_values(["disease", "year", "source"], kind="stable").reset_index(drop=True)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def summarise(cases, data_version: str | None = None, level: float = LEVEL) -> dict[str, Any]:
    """The summary document described in the module docstring."""
    from livingreview import stats

    try:
        from livingreview.datapkg.frames import DISEASE_NAMES
    except ImportError:  # pragma: no cover
        DISEASE_NAMES = {}

    reports = reports_by_source(cases)
    present = [str(d) for d in cases["disease"].dropna().unique()]
    order = [d for d in _DISEASE_ORDER if d in present] + sorted(
        d for d in present if d not in _DISEASE_ORDER
    )
    diseases = []
    for code in order:
        rows = cases[cases["disease"] == code]
        rep = reports[reports["disease"] == code]
        events = rep["n_responders"].astype(int).to_numpy()
        n = rep["n_patients"].astype(int).to_numpy()
        excluded = int(rows.loc[rows["n_responders"].isna(), "n_patients"].sum())
        crude = stats.crude_pooled(events, n, level)
        pooled = stats.pool_glmm(events, n, level)
        if pooled.k == 0 and excluded:
            pooled = stats.PooledEstimate(
                stats.METHOD_NONE,
                0,
                0,
                0,
                None,
                None,
                None,
                note="no report gives the number of responders",
            )
        diseases.append(
            {
                "disease": code,
                "name": DISEASE_NAMES.get(code, code),
                "case_groups": len(rows),
                "reports": int(rows["source"].nunique()),
                "patients": int(rows["n_patients"].sum()),
                "reports_with_response": len(rep),
                "patients_with_response": int(n.sum()),
                "patients_excluded": excluded,
                "responders": int(events.sum()),
                "crude": {
                    "estimate": _clean(crude.estimate),
                    "ci_low": _clean(crude.ci_low),
                    "ci_high": _clean(crude.ci_high),
                    "method": crude.method,
                },
                "pooled": pooled.to_dict(),
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "data_version": data_version,
        "level": level,
        "primary_method": stats.METHOD_GLMM,
        "diseases": diseases,
    }


# --------------------------------------------------------------------------------------------
# text output


def _pct(p: float | None) -> str:
    return "-" if p is None else f"{100 * p:.1f}"


def _ci(est: float | None, lo: float | None, hi: float | None) -> str:
    if est is None:
        return "-"
    return f"{_pct(est)} ({_pct(lo)}-{_pct(hi)})"


def format_table(result: dict[str, Any]) -> str:
    """Plain-text table of :func:`summarise` output, plus footnotes with each row's method."""
    header = [
        "Disease",
        "Reports",
        "Patients",
        "Responders",
        "Crude % (95% CI)",
        "Pooled % (95% CI)",
        "tau2",
        "I2 %",
        "95% PI %",
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
                _ci(d["crude"]["estimate"], d["crude"]["ci_low"], d["crude"]["ci_high"]),
                _ci(p["estimate"], p["ci_low"], p["ci_high"]),
                "-" if p["tau2"] is None else f"{p['tau2']:.3f}",
                "-" if p["i2"] is None else f"{100 * p['i2']:.0f}",
                "-" if p["pi_low"] is None else f"{_pct(p['pi_low'])}-{_pct(p['pi_high'])}",
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
