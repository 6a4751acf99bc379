"""Load the data package (``data/``) into typed pandas tables.

Loading assumes the files are valid; ``livingreview.datapkg.validate`` is what checks them. Column types come
from the Table Schema in ``data/datapackage.json`` (integer -> ``Int64``, number -> ``Float64``,
string -> ``string``), so an empty cell is ``<NA>`` (unknown), never 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

DATA_DIR = "data"
DESCRIPTOR = "datapackage.json"
BIBFILE = "references.bib"
DISEASES = ("LCV", "CLE", "LV", "SSc", "SjS")
DISEASE_NAMES = {
    "LCV": "Leukocytoclastic vasculitis",
    "CLE": "Cutaneous lupus erythematosus",
    "LV": "Livedoid vasculopathy",
    "SSc": "Systemic sclerosis",
    "SjS": "Primary Sjögren's syndrome",
}
_PANDAS_TYPES = {"integer": "Int64", "number": "Float64", "string": "string"}


def find_root(start: str | Path = ".") -> Path:
    """The repository root: the nearest directory at or above ``start`` holding ``data/datapackage.json``."""
    here = Path(start).resolve()
    for candidate in (here, *here.parents):
        if (candidate / DATA_DIR / DESCRIPTOR).is_file():
            return candidate
    raise FileNotFoundError(f"no {DATA_DIR}/{DESCRIPTOR} at or above {here}")


def load_package(root: str | Path = ".") -> dict:
    """The parsed ``datapackage.json`` descriptor."""
    return json.loads((Path(root) / DATA_DIR / DESCRIPTOR).read_text(encoding="utf-8"))


def resource(package: dict, name: str) -> dict:
    for res in package["resources"]:
        if res["name"] == name:
            return res
    raise KeyError(f"datapackage.json has no resource {name!r}")


def field_names(package: dict, name: str) -> list[str]:
    """Column order of a resource, as the schema fixes it."""
    return [f["name"] for f in resource(package, name)["schema"]["fields"]]


def load_table(root: str | Path, name: str) -> pd.DataFrame:
    """Read one resource with the types its schema declares."""
    root = Path(root)
    package = load_package(root)
    res = resource(package, name)
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


def data_version(root: str | Path = ".") -> str:
    return load_package(root)["version"]
