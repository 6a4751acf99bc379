"""The living review's own record: protocol, searches, selection and versions, as the book shows them.

``Selection`` reads ``protocol``, ``searches``, ``search_results``, ``records``, ``screening`` and
``reconciliation`` and gives the methods, landing and what's-new pages their tables, the PRISMA flow diagram
and every number their prose quotes. Evidence by round is computed from the ledger (a report belongs to the
round in which it was included), so what each version added needs no git history.
"""

from __future__ import annotations

import html
from functools import cached_property

import pandas as pd

from livingreview.datapkg import appraisal_rules, ledger, prisma_flow
from livingreview.datapkg.descriptor import data_version
from livingreview.datapkg.frames import DISEASE_NAMES, DISEASES, Data, load_table
from livingreview.evidence import certainty
from livingreview.evidence.analyses import pooled_response
from livingreview.evidence.designs import CONTROLLED
from livingreview.evidence.reports import report_table
from livingreview.render import prisma, prose, tables
from livingreview.render.blocks import Html
from livingreview.render.numbers import Text, counted, describe_pooled, pct

TOPIC_LABELS = {
    "population": "Population",
    "intervention": "Intervention",
    "designs": "Designs",
    "outcomes": "Outcomes",
    "exclusions": "Exclusions",
    "search_schedule": "Search schedule",
    "screening": "Screening and extraction",
    "update_trigger": "What triggers a new version",
    "versioning": "Versions",
    "retirement": "Retirement of the living mode",
}


#: the flow's tables and the attributes that hold them
_FLOW_TABLES = {
    "protocol": "protocol",
    "searches": "searches",
    "search_results": "results",
    "records": "records",
    "screening": "screening",
}


class Selection:
    """Searches, screening and versions of the review."""

    def __init__(self, data: Data | None = None):
        self.data = data or Data.load()
        root = self.data.root
        self.root = root
        names = (
            "protocol",
            "searches",
            "search_results",
            "records",
            "screening",
            "reconciliation",
            "appraisal_reconciliation",
        )
        t = {name: load_table(root, name) for name in names}
        self.appraisal_reconciliation = t["appraisal_reconciliation"]
        self.protocol, self.searches, self.results = t["protocol"], t["searches"], t["search_results"]
        self.records, self.screening, self.reconciliation = t["records"], t["screening"], t["reconciliation"]

    # --- flow ------------------------------------------------------------------------------------------

    @cached_property
    def flows(self) -> list[prisma_flow.RoundFlow]:
        tables = {name: getattr(self, attr) for name, attr in _FLOW_TABLES.items()}
        return prisma_flow.count_flow(tables, data_version(self.root))

    def flow_diagram(self) -> Html:
        """The PRISMA 2020 diagram (SVG) with its counts as a table beneath: the text alternative."""
        rows = prisma.flow_rows(self.flows)
        labels = prisma.round_labels(self.flows)
        frame = pd.DataFrame(
            [
                {"Stage": r["section"], "Box": r["label"], **dict(zip(labels, r["values"], strict=True))}
                for r in rows
            ]
        )
        table = tables.show(frame, caption="The flow diagram's counts, round by round", sortable=False)
        svg = prisma.flow_svg(self.flows)
        return Html(
            f'<figure class="lr-prisma">{svg}<figcaption>PRISMA 2020 flow of every search round, computed '
            "from the screening log; each box shows the count of each round side by side.</figcaption>"
            f"</figure>{table._repr_html_()}",
            repr(table),
        )

    # --- protocol ----------------------------------------------------------------------------------------

    def eligibility(self) -> Html:
        """The criteria every disease shares, once, then a table of what differs per disease."""
        p = self.protocol[self.protocol["section"] == "eligibility"]
        shared, differing = [], []
        for topic, group in p.groupby("topic", sort=False):
            (shared if group["text"].nunique() == 1 and len(group) == len(DISEASES) else differing).append(
                topic
            )
        items = "".join(
            f"<li><strong>{html.escape(TOPIC_LABELS.get(t, t))}.</strong> "
            f"{html.escape(p.loc[p['topic'] == t, 'text'].iloc[0])}</li>"
            for t in shared
        )
        order = list(TOPIC_LABELS)
        shared.sort(key=order.index)
        differing.sort(key=order.index)
        wide = p[p["topic"].isin(differing)].pivot(index="disease", columns="topic", values="text")
        wide = wide.reindex([d for d in DISEASES if d in wide.index])[differing]
        frame = wide.rename(columns=TOPIC_LABELS).reset_index()
        frame["disease"] = frame["disease"].map(DISEASE_NAMES)
        table = tables.show(
            frame.rename(columns={"disease": "Disease"}),
            caption="Eligibility criteria that differ by disease (data/protocol.csv)",
            sortable=False,
        )
        return Html(f'<ul class="lr-plan">{items}</ul>{table._repr_html_()}', repr(table))

    def sources_table(self) -> tables.Table:
        p = self.protocol[self.protocol["section"] == "source"]
        frame = pd.DataFrame(
            {"Source": p["item_id"], "Kind": p["topic"].str.replace("_", " "), "What": p["text"]}
        )
        return tables.show(frame, caption="Sources searched (data/protocol.csv)", sortable=False)

    def strategies(self) -> Html:
        """The saved search strategies, exactly as they run (PRISMA-S item 8)."""
        p = self.protocol[self.protocol["section"] == "search_strategy"]
        blocks = [
            f"<p><strong>{html.escape(row.topic)}</strong> (<code>{html.escape(row.item_id)}</code>)</p>"
            f'<pre class="lr-query">{html.escape(row.text)}</pre>'
            for row in p.itertuples(index=False)
        ]
        plain = "\n".join(f"{row.item_id}: {row.text}" for row in p.itertuples(index=False))
        return Html("".join(blocks) or "<p>No saved search strategy.</p>", plain or "no saved strategy")

    def last_searches_table(self) -> tables.Table:
        """When each database was last searched, and how often (PRISMA-S item 13)."""
        p = self.protocol
        sources = p[(p["section"] == "source") & (p["topic"] == "database")]
        rows = []
        for item_id in sources["item_id"]:
            runs = self.searches[self.searches["searched_in"] == item_id]
            rows.append(
                {
                    "Source": item_id,
                    "Last searched": runs["run_date"].max() if len(runs) else "not yet run",
                    "Queries run": len(runs),
                    "Rounds": ", ".join(str(r) for r in sorted(set(runs["round"].astype(int)))) or pd.NA,
                }
            )
        caption = (
            "When each database was last searched (data/searches.csv; PubMed runs in data/search_runs.csv)"
        )
        return tables.show(pd.DataFrame(rows), caption=caption, sortable=False)

    def living_plan(self) -> Html:
        p = self.protocol[self.protocol["section"] == "living_plan"]
        items = "".join(
            f"<li><strong>{html.escape(TOPIC_LABELS.get(t, t))}.</strong> {html.escape(x)}</li>"
            for t, x in zip(p["topic"], p["text"], strict=True)
        )
        plain = "\n".join(
            f"- {TOPIC_LABELS.get(t, t)}: {x}" for t, x in zip(p["topic"], p["text"], strict=True)
        )
        return Html(f'<ul class="lr-plan">{items}</ul>', plain)

    def queries_table(self) -> tables.Table:
        s = self.searches
        frame = pd.DataFrame(
            {
                "Search": s["search_id"],
                "Round": s["round"],
                "Disease": s["disease"],
                "Query as run": s["query"],
                "Date": s["run_date"],
                "Results": s["n_results"],
            }
        )
        return tables.show(frame, caption="Every query as it was run (data/searches.csv)")

    # --- per disease -------------------------------------------------------------------------------------

    def included(self) -> pd.DataFrame:
        """Included records: record, round of inclusion, role, bib key."""
        s = self.screening
        inc = s[(s["stage"] == "3_eligibility") & (s["decision"] == "include")]
        return inc.merge(self.records[["record_id", "bib_key", "diseases"]], on="record_id")[
            ["record_id", "round", "role", "bib_key", "diseases"]
        ]

    def by_disease(self) -> pd.DataFrame:
        """Per disease and round: queries, results, records screened, awaiting screening and assessed,
        reports and patients included."""
        rows = []
        inc = self.included()
        screened = self.screening.merge(self.records[["record_id", "diseases"]], on="record_id")
        cases = self.data.cases
        records, decisions = self.records.to_dict("records"), self.screening.to_dict("records")
        diseases_of = dict(
            zip(self.records["record_id"], self.records["diseases"].str.split(";"), strict=True)
        )
        for r in (f.round for f in self.flows):
            waiting = ledger.awaiting_screening(records, decisions, r)
            for d in DISEASES:
                mine = screened[
                    (screened["round"] == r) & screened["diseases"].str.split(";").map(lambda x, d=d: d in x)
                ]
                searches = self.searches[(self.searches["round"] == r) & (self.searches["disease"] == d)]
                hits = self.results[self.results["search_id"].isin(searches["search_id"])]
                keys = set(inc.loc[inc["round"] == r, "bib_key"])
                added = cases[(cases["disease"] == d) & cases["source"].isin(keys)]
                rows.append(
                    {
                        "round": r,
                        "disease": d,
                        "queries": len(searches),
                        "results": len(hits),
                        "addresses": int(hits["address"].nunique()),
                        "screened": int((mine["stage"] == "1_title_abstract").sum()),
                        "awaiting": sum(d in diseases_of[rid] for rid in waiting),
                        "assessed": int((mine["stage"] == "3_eligibility").sum()),
                        "reports_included": int(added["source"].nunique()),
                        "patients_included": int(added["n_patients"].sum()),
                    }
                )
        return pd.DataFrame(rows)

    def by_disease_table(self, round_: int | None = None) -> tables.Table:
        f = self.by_disease()
        r = int(f["round"].max()) if round_ is None else round_
        f = f[f["round"] == r]
        frame = pd.DataFrame(
            {
                "Disease": f["disease"].map(DISEASE_NAMES),
                "Queries": f["queries"],
                "Results": f["results"],
                "Records screened": f["screened"],
                **({"Awaiting screening": f["awaiting"]} if f["awaiting"].any() else {}),
                "Reports assessed": f["assessed"],
                "Reports included": f["reports_included"],
                "Patients added": f["patients_included"],
            }
        )
        return tables.show(
            frame, caption=f"Round {r} by disease (a record found for two diseases counts for both)"
        )

    # --- versions ----------------------------------------------------------------------------------------

    def evidence_by_round(self) -> pd.DataFrame:
        """Per disease, the evidence included up to each round: reports, patients and the pooled response
        of the uncontrolled reports (the values as they are now, corrections included)."""
        inc = self.included()
        first_round = inc.groupby("bib_key")["round"].min()
        cases = self.data.cases.assign(round=lambda f: f["source"].map(first_round))
        rows = []
        for r in sorted(set(inc["round"].astype(int))):
            upto = cases[cases["round"] <= r]
            for d in DISEASES:
                c = upto[upto["disease"] == d]
                pooled = pooled_response(report_table(c[~c["design"].isin(CONTROLLED)])) if len(c) else None
                rows.append(
                    {
                        "round": r,
                        "disease": d,
                        "reports": int(c["source"].nunique()),
                        "patients": int(c["n_patients"].sum()),
                        "pooled": describe_pooled(pooled) if pooled is not None else "no reports",
                    }
                )
        return pd.DataFrame(rows)

    def versions_table(self) -> tables.Table:
        f = self.evidence_by_round()
        rounds = sorted(set(f["round"]))
        out = []
        for d in DISEASES:
            part = f[f["disease"] == d].set_index("round")
            row = {"Disease": DISEASE_NAMES[d]}
            for what, label in (
                ("reports", "Reports"),
                ("patients", "Patients"),
                ("pooled", "Pooled response"),
            ):
                row[label] = " → ".join(str(part.loc[r, what]) for r in rounds)
            out.append(row)
        return tables.show(
            pd.DataFrame(out),
            caption="Evidence after each round (" + " → ".join(f"round {r}" for r in rounds) + ")",
            sortable=False,
        )

    # --- numbers -----------------------------------------------------------------------------------------

    def numbers(self) -> dict[str, object]:
        latest = self.flows[-1]
        s = self.searches
        inc = self.included()
        double = self.data.cases[self.data.cases["source"].isin(set(inc.loc[inc["round"] >= 1, "bib_key"]))]
        rec = self.reconciliation
        last_search = s["run_date"].max() if len(s) else None
        return {
            "rounds": len(self.flows),
            "latest_round": latest.round,
            "queries": len(s),
            "queries_latest": int((s["round"] == latest.round).sum()),
            "last_search": Text(last_search or "no search yet"),
            "results_latest": latest["database_results"],
            "screened_latest": latest["records_screened"],
            "awaiting_latest": latest["awaiting_screening"],
            "awaiting_note": Text(awaiting_note(latest.counts)),
            "assessed_latest": latest["dbr_assessed"] + latest["other_assessed"],
            "included_latest": latest["new_reports"],
            "studies_latest": latest["new_studies"],
            "total_studies": latest["total_studies"],
            "total_reports": latest["total_reports"],
            "records": len(self.records),
            "citation_searched_start": int(
                ((self.records["round"] == 0) & (self.records["identified_by"] == "citation_searching")).sum()
            ),
            "double_extracted_groups": len(double),
            "double_extracted_reports": int(double["source"].nunique()),
            "disagreements": len(rec),
            "disagreeing_groups": int(rec["case_id"].nunique()),
            **self._appraisal_numbers(),
        }

    def _appraisal_numbers(self) -> dict[str, object]:
        """How the two appraisals agreed, and the thresholds of the computed GRADE domains."""
        appraised = self.data.appraisal
        items = [*appraisal_rules.ITEMS, "overall"]
        rec = self.appraisal_reconciliation
        differed = rec[rec["first_appraisal"] != rec["second_appraisal"]]
        return {
            "appraised_reports": len(appraised),
            "appraisal_answers": len(appraised) * len(items),
            "appraisal_disagreements": len(differed),
            "appraisal_disagreeing_reports": int(differed["source"].nunique()),
            "high_risk_serious": Text(pct(certainty.HIGH_RISK_SERIOUS, 0)),
            "high_risk_very_serious": Text(pct(certainty.HIGH_RISK_VERY_SERIOUS, 0)),
            "spread_serious": Text(f"{certainty.SPREAD_SERIOUS * 100:.0f} percentage points"),
            "spread_very_serious": Text(f"{certainty.SPREAD_VERY_SERIOUS * 100:.0f} percentage points"),
            "ci_serious": Text(f"{certainty.CI_SERIOUS * 100:.0f} percentage points"),
            "ci_very_serious": Text(f"{certainty.CI_VERY_SERIOUS * 100:.0f} percentage points"),
            "patients_serious": certainty.PATIENTS_SERIOUS,
            **{key: Text(text) for key, text in prose.dose_cutoffs().items()},
            "patients_very_serious": certainty.PATIENTS_VERY_SERIOUS,
        }

    def glue(self) -> None:
        from myst_nb import glue

        for key, value in self.numbers().items():
            glue(f"selection_{key}", value, display=False)


def awaiting_note(counts: dict[str, int]) -> str:
    """The sentence the pages add while the latest round is in progress (what awaits screening, retrieval
    or assessment); empty when nothing does."""
    parts = [
        f"{counted(n, 'record' if key == 'awaiting_screening' else 'report')} "
        f"{'awaits' if n == 1 else 'await'} {what}"
        for key, what in prisma_flow.AWAITING.items()
        if (n := counts.get(key, 0))
    ]
    return f"This round is still in progress: {', '.join(parts)}." if parts else ""
