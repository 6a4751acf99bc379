"""Load the data package (``data/``) into typed pandas tables.

Loading assumes the files are valid; ``livingreview.datapkg.validate`` is what checks them. Column types come
from the Table Schema in ``data/datapackage.json`` (integer -> ``Int64``, number -> ``Float64``,
string -> ``string``), so an empty cell is ``<NA>`` (unknown), never 0.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from livingreview.datapkg.descriptor import read_descriptor, resource
from livingreview.paths import DATA_DIR

DISEASES = ("LCV", "CLE", "LV", "SSc", "SjS")
DISEASE_NAMES = {
    "LCV": "Leukocytoclastic vasculitis",
    "CLE": "Cutaneous lupus erythematosus",
    "LV": "Livedoid vasculopathy",
    "SSc": "Systemic sclerosis",
    "SjS": "Primary Sjögren's syndrome",
}
_PANDAS_TYPES = {"integer": "Int64", "number": "Float64", "string": "string"}


def load_table(root: str | Path, name: str) -> pd.DataFrame:
    """Read one resource with the types its schema declares."""
    root = Path(root)
    res = resource(read_descriptor(root), name)
    frame = pd.read_csv(
        root / DATA_DIR / res["path"], dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8"
    )
    for field in res["schema"]["fields"]:
        col = field["name"]
        kind = _PANDAS_TYPES[field["type"]]
        frame[col] = pd.to_numeric(frame[col]).astype(kind) if kind != "string" else frame[col].astype(kind)
    return frame


def load_cases(root: str | Path = ".") -> pd.DataFrame:
    """``data/cases.csv``: one row per case group."""
    return load_table(root, "cases")


def load_outcomes(root: str | Path = ".") -> pd.DataFrame:
    """``data/outcomes.csv``: group-level measures, long format."""
    return load_table(root, "outcomes")
