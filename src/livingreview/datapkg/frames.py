"""The data package (``data/``) as typed pandas tables, and :class:`Data`, the recorded view pages use.

Loading assumes the files are valid; ``livingreview.datapkg.validate`` is what checks them. Column types come
from the Table Schema in ``data/datapackage.json`` (integer -> ``Int64``, number -> ``Float64``,
string -> ``string``), so an empty cell is ``<NA>`` (unknown), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from livingreview.datapkg import reads
from livingreview.datapkg.descriptor import read_descriptor, resource
from livingreview.paths import DATA_DIR, find_root

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
    """Read one resource with the types its schema declares (recorded as a read of the whole table)."""
    reads.record(table=name)
    return _read(Path(root), name)


def _read(root: Path, name: str) -> pd.DataFrame:
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


def _rows_of(table: pd.DataFrame, sources) -> pd.DataFrame:
    """The rows of ``table`` about these reports, recorded as reads of each report."""
    sources = set(sources)
    for source in sources:
        reads.record(source=source)
    return table[table["source"].isin(sources)].reset_index(drop=True)


@dataclass(frozen=True)
class Data:
    """The evidence tables, loaded once per kernel, read through methods that record what was read.

    ``cases``/``outcomes``/``claims`` are the whole tables (a read of every row); a chapter reads
    :meth:`cases_of` its disease, :meth:`outcomes_of` those reports and :meth:`claims_about` them, and so
    depends on its own disease's rows only.
    """

    root: Path
    _cases: pd.DataFrame
    _outcomes: pd.DataFrame
    _claims: pd.DataFrame
    _appraisal: pd.DataFrame
    _certainty: pd.DataFrame

    @classmethod
    def load(cls, root: str | Path | None = None) -> Data:
        root = find_root(root or Path.cwd())
        names = ("cases", "outcomes", "claims", "appraisal", "certainty")
        return cls(root, *(_read(root, name) for name in names))

    @property
    def cases(self) -> pd.DataFrame:
        reads.record(table="cases")
        return self._cases

    @property
    def outcomes(self) -> pd.DataFrame:
        reads.record(table="outcomes")
        return self._outcomes

    @property
    def claims(self) -> pd.DataFrame:
        reads.record(table="claims")
        return self._claims

    @property
    def appraisal(self) -> pd.DataFrame:
        """The appraisal of every included report (a read of every row)."""
        reads.record(table="appraisal")
        return self._appraisal

    def appraisal_of(self, sources) -> pd.DataFrame:
        """The appraisal rows of these reports."""
        return _rows_of(self._appraisal, sources)

    def certainty_of(self, disease: str) -> pd.DataFrame:
        """The recorded GRADE judgements of one disease."""
        reads.record(disease=disease)
        return self._certainty[self._certainty["disease"] == disease].reset_index(drop=True)

    def cases_of(self, disease: str) -> pd.DataFrame:
        """The case groups of one disease."""
        reads.record(disease=disease)
        return self._cases[self._cases["disease"] == disease].reset_index(drop=True)

    def outcomes_of(self, sources) -> pd.DataFrame:
        """The outcome rows of these reports."""
        return _rows_of(self._outcomes, sources)

    def claims_about(self, cases: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The statements by the reports of ``cases`` (or the documents they were extracted through), with
        every case group and outcome those statements are about: ``(claims, cases, outcomes)``."""
        keys = (set(cases["source"]) | set(cases["via"].dropna())) - {""}
        for key in keys:
            reads.record(source=key)
        linked = self._cases[self._cases["source"].isin(keys) | self._cases["via"].isin(keys)]
        outcomes = self._outcomes[self._outcomes["source"].isin(set(linked["source"]))]
        return self._claims[self._claims["source"].isin(keys)], linked, outcomes

    @property
    def version(self) -> str:
        reads.record(version=True)
        return str(read_descriptor(self.root)["version"])
