"""What the landing page and the synthesis show: numbers and tables across every disease."""

from __future__ import annotations

import pandas as pd

from livingreview.book.chapter import Chapter
from livingreview.datapkg import reads
from livingreview.datapkg.changelog import latest_entry
from livingreview.datapkg.frames import DISEASE_NAMES, DISEASES, Data
from livingreview.evidence import regimens
from livingreview.evidence.claims import check_claims
from livingreview.paths import CHANGELOG_PATH, CITATION
from livingreview.render import charts, evidence_tables, findings, tables
from livingreview.render.numbers import Text


def citation_text(cff: dict, date: str) -> str:
    """How to cite this edition, from the parsed CITATION.cff (its version must equal the data version)."""
    authors = "; ".join(
        a.get("name") or f"{a.get('family-names', '')} {a.get('given-names', '')}".strip()
        for a in cff["authors"]
    )
    return f"{authors}. {cff['title']}. Data version {cff['version']} ({date})."


class Review:
    """Numbers and tables across the five diseases."""

    def __init__(self, data: Data | None = None):
        self.data = data or Data.load()
        self.chapters = {d: Chapter(d, self.data) for d in DISEASES}

    def summary_frame(self) -> pd.DataFrame:
        rows = []
        for disease, ch in self.chapters.items():
            n = ch.numbers(rows=False, certainty=False)
            rows.append(
                {
                    "Disease": ch.name,
                    "Reports": n["reports"],
                    "Designs": n["design_mix"],
                    "Patients": n["patients"],
                    "Patients with a response outcome": n["evaluable"],
                    "Responders": n["responders"] if n["evaluable"] else pd.NA,
                    "Crude response (exact 95 % CI)": (
                        f"{n['crude']} ({n['crude_ci']})" if n["evaluable"] else "no per-patient response"
                    ),
                    "Pooled response (95 % CI)": n["pooled"],
                    "Method": ch.pooled.method,
                    "Chapter": f"{disease.lower()}.html",
                }
            )
        return pd.DataFrame(rows)

    def numbers(self) -> dict[str, object]:
        import yaml

        c = self.data.cases
        reads.record(version=True)  # the changelog and the citation go with the version
        version, date = latest_entry((self.data.root / CHANGELOG_PATH).read_text(encoding="utf-8"))
        cff = yaml.safe_load((self.data.root / CITATION).read_text(encoding="utf-8"))
        return {
            "diseases": len(DISEASES),
            "reports": int(c["source"].nunique()),
            "patients": int(c["n_patients"].sum()),
            "case_groups": len(c),
            "outcome_measures": len(self.data.outcomes),
            "first_year": int(c["year"].min()),
            "last_year": int(c["year"].max()),
            "data_version": Text(self.data.version),
            "changelog_version": Text(version),
            "last_change": Text(date),
            "claims": len(self.data.claims),
            "citation": Text(citation_text(cff, date)),
        }

    def glue(self) -> None:
        from myst_nb import glue

        for key, value in self.numbers().items():
            glue(f"review_{key}", value, display=False)

    def summary_table(self) -> tables.Table:
        frame = self.summary_frame()
        return tables.show(
            frame.drop(columns=["Chapter", "Method"]),
            caption=f"Evidence by disease (data version {self.data.version})",
        )

    def regimen_table(self) -> tables.Table:
        c = self.data.cases
        frame = pd.DataFrame(
            {
                "Disease": c["disease"],
                "Report": c["source"],
                "Subgroup": c["subtype"],
                "Patients": c["n_patients"],
                "Dose per cycle (g/kg)": evidence_tables.ranges(c, "dose_g_kg"),
                "Days per cycle": evidence_tables.ranges(c, "days_per_cycle"),
                "Daily dose group": regimens.daily_dose_group(c),
                "Interval (weeks)": evidence_tables.ranges(c, "interval_weeks"),
            }
        ).sort_values(["Disease", "Report"], kind="stable")
        return tables.show_linked(frame, "IVIG regimens by case group, all diseases")

    def safety_frame(self) -> pd.DataFrame:
        rows = []
        for ch in self.chapters.values():
            c = ch.cases
            named = c["adverse_events"].dropna()
            terms = sorted({t.strip() for text in named[named != "none"] for t in text.split(",")})
            n = ch.numbers(rows=False, certainty=False)
            rows.append(
                {
                    "Disease": ch.name,
                    "Reports": n["reports"],
                    "Reports naming adverse events": n["ae_reports"],
                    "Reports stating none": n["ae_none_reports"],
                    "Reports silent on safety": n["ae_unreported_reports"],
                    "Patients with a serious adverse event": c["n_serious_adverse_events"].sum(min_count=1),
                    "Events named": ", ".join(terms) or pd.NA,
                }
            )
        return pd.DataFrame(rows)

    def safety_table(self) -> tables.Table:
        return tables.show(self.safety_frame(), caption="Adverse events by disease")

    def steroid_table(self) -> tables.Table:
        frame = evidence_tables.steroid_frame(self.data.cases, self.data.outcomes)
        disease = self.data.cases.drop_duplicates("source").set_index("source")["disease"]
        frame.insert(0, "Disease", frame["Report"].map(disease))
        return tables.show_linked(frame, "Corticosteroid doses before and after IVIG, all diseases")

    def summary_of_findings(self) -> tables.Table:
        """Every disease's summary of findings in one table (the same rows as the chapters')."""
        rows = [f for ch in self.chapters.values() for f in ch.evidence.findings]
        return tables.show(
            findings.sof_frame(rows, DISEASE_NAMES),
            caption="Summary of findings across diseases (each disease's own evidence, never pooled across)",
            sortable=False,
        )

    def summary_of_findings_notes(self):
        rows = [f for ch in self.chapters.values() for f in ch.evidence.findings]
        return findings.sof_notes(rows, DISEASE_NAMES)

    def claims_table(self) -> tables.Table:
        checked = check_claims(self.data.cases, self.data.outcomes, self.data.claims)
        status = checked["agrees"].map({True: "agrees", False: "differs"}).fillna("not checkable")
        frame = (
            checked.assign(Check=status)
            .groupby(["source", "Check"])
            .size()
            .unstack(fill_value=0)
            .reset_index()
            .rename(columns={"source": "Document"})
        )
        caption = "Totals stated by the source documents, checked against the data"
        return tables.show_linked(frame, caption, column="Document")

    def regimen_chart(self):
        return charts.regimens(self.data.cases)

    def accumulation_chart(self):
        return charts.accumulation(self.data.cases)
