"""validate_tree on a synthetic 100k-row cases.csv, against pandas.read_csv of the same file (same run).

The rows are valid variations of the shipped ones: the case groups of the real multi-patient sources are
repeated under synthetic sources of 99 groups each (added to a copy of references.bib, about 1,000 entries,
and to the ledger as contributor submissions, as ``livingreview add`` would), each row with its own case_id,
and the counts (n_patients and the counts bounded by it) and ages are varied within the rules. The outcomes
and claims of the real sources stay. The synthetic package is valid, so the run measures the checks, not the
reporting of problems. Target: < 1 s.

``python bench/bench_validate.py`` runs it alone; ``make bench`` runs every benchmark.
"""

from __future__ import annotations

import csv
import io
import random
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from livingreview.datapkg import ledger
from livingreview.datapkg.bibfile import load_bib
from livingreview.datapkg.canonical_form import table_text
from livingreview.datapkg.csvfile import resource_records, to_csv_text
from livingreview.datapkg.descriptor import read_descriptor, resource
from livingreview.datapkg.validate import validate_tree

ROOT = Path(__file__).resolve().parents[1]
ROWS = 100_000
REPEATS = 3


def _letters(i: int) -> str:
    out = ""
    for _ in range(4):
        out += chr(ord("a") + i % 26)
        i //= 26
    return out


def build(dest: Path, rows: int = ROWS, seed: int = 0) -> Path:
    """A copy of the package whose cases.csv has ``rows`` valid rows."""
    shutil.copytree(ROOT / "data", dest / "data")
    shutil.copy2(ROOT / "references.bib", dest / "references.bib")
    rng = random.Random(seed)
    records = list(csv.reader(io.StringIO((ROOT / "data/cases.csv").read_text(encoding="utf-8"))))
    header, real = records[0], records[1:]
    col = {name: j for j, name in enumerate(header)}
    # Synthetic sources of up to 99 case groups each (case_id allows two digits): each repeats the groups
    # of one real multi-patient source, so the per-source rules (same year/design/country) still hold.
    by_source: dict[str, list[list[str]]] = {}
    for r in real:
        if r[col["design"]] != "case_report":
            by_source.setdefault(r[col["source"]], []).append(r)
    sources = [(g * 99)[:99] for g in by_source.values()]
    out: list[list[str]] = [list(r) for r in real]  # the real rows stay: outcomes and claims refer to them
    bib: list[str] = []
    submitted: dict[str, str] = {}  # synthetic source -> its disease, for the ledger
    k = 0
    while len(out) < rows:
        group = sources[k % len(sources)]
        year = group[0][col["year"]] or "2000"  # the key needs a year even when the rows give none
        src = f"syn{_letters(k)}{year}"
        submitted[src] = group[0][col["disease"]]
        bib.append(
            f"@article{{{src},\n  author = {{Synthetic, A.}},\n  title = {{Synthetic report {k}}},\n"
            f"  journal = {{Benchmark}},\n  year = {{{year}}}\n}}\n"
        )
        for seq, r in enumerate(group, start=1):
            scale = rng.randint(1, 3)
            r = list(r)
            r[col["source"]] = src
            r[col["case_id"]] = f"{r[col['disease']]}-{src}-{seq:02d}"
            r[col["locator"]] = f"{r[col['locator']]}; group {seq}"
            if scale > 1:
                for name in (
                    "n_patients",
                    "n_male",
                    "n_female",
                    "n_responders",
                    "n_improved",
                    "n_stable",
                    "n_worsened",
                    "n_complete",
                    "n_partial",
                    "n_relapsed",
                    "n_thrombophilic",
                    "n_with_adverse_events",
                    "n_serious_adverse_events",
                ):
                    if r[col[name]]:
                        r[col[name]] = str(int(r[col[name]]) * scale)
            if r[col["age_years"]] and r[col["age_stat"]] != "value":
                lo, hi = float(r[col["age_min"]] or 0), float(r[col["age_max"]] or 120)
                r[col["age_years"]] = f"{rng.uniform(lo, hi):.1f}".rstrip("0").rstrip(".")
            out.append(r)
        k += 1
    out = sorted(out[:rows], key=lambda r: r[0])
    (dest / "data/cases.csv").write_text(to_csv_text(header, out), encoding="utf-8")
    with (dest / "references.bib").open("a", encoding="utf-8") as handle:
        handle.write("\n" + "".join(bib))
    _add_to_ledger(dest, {s: d for s, d in submitted.items() if any(r[col["source"]] == s for r in out)})
    return dest


def _add_to_ledger(root: Path, submitted: dict[str, str]) -> None:
    """Each synthetic report as a contributor's submission: a record, retrieved and included as primary."""
    descriptor = read_descriptor(root)
    names = ("records", "screening", "searches")
    tables = {name: resource_records(root, resource(descriptor, name)) for name in names}
    round_ = str(ledger.open_round(tables["records"], tables["searches"]))  # all in the next update
    for source, disease in submitted.items():
        record, decisions = ledger.submission_rows(
            source, disease, {"title": source, "year": source[-4:]}, tables["records"], tables["searches"]
        )
        tables["records"].append({**record, "round": round_})
        tables["screening"] += [{**d, "round": round_} for d in decisions]
    for name in ("records", "screening"):
        res = resource(descriptor, name)
        text, problems = table_text(res, tables[name])
        assert text is not None, problems
        (root / "data" / res["path"]).write_text(text, encoding="utf-8")


def _best(func, repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def run() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = build(Path(tmp))
        cases = root / "data/cases.csv"
        size = cases.stat().st_size / 1e6
        problems = validate_tree(root)
        cases_problems = [p for p in problems if p.path == "data/cases.csv"]
        t_validate = _best(lambda: validate_tree(root))
        n_bib = (root / "references.bib").read_text(encoding="utf-8").count("\n@")
        t_bib = _best(lambda: load_bib(root / "references.bib"))
        t_pandas = _best(lambda: pd.read_csv(cases, dtype=str, keep_default_na=False))
    lines = [
        f"cases.csv: {ROWS} rows, {size:.1f} MB; problems found: {len(problems)} "
        f"({len(cases_problems)} in cases.csv)",
        f"validate_tree (whole package, best of {REPEATS}): {t_validate:.3f} s  "
        f"[target < 1 s: {'met' if t_validate < 1 else 'MISSED'}]",
        f"  of which parsing references.bib ({n_bib} entries, bibtexparser): {t_bib:.3f} s",
        f"pandas.read_csv of cases.csv (best of {REPEATS}):  {t_pandas:.3f} s",
        f"ratio validate / read_csv: {t_validate / t_pandas:.2f}",
    ]
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
