"""The PRISMA 2020 flow drawn: the PRISMA2020 R package's CSV layout, an SVG diagram and its text rows.

``prisma2020_csv`` writes one round in the layout of the R package's CSV template; ``flow_svg`` draws all
rounds side by side in each box (one column, so it reads on a phone) and ``flow_rows`` is its text
alternative. The counts come from :mod:`livingreview.datapkg.prisma_flow`. A round in progress also shows
its records awaiting screening, retrieval or assessment (:data:`AWAITING_ROWS`), only when there are any.
"""

from __future__ import annotations

import csv
import html
import io

from livingreview.datapkg.prisma_flow import REASON_LABELS, RoundFlow

# --- PRISMA2020 R package CSV ------------------------------------------------------------------------------

# (data, node, box, description, boxtext) in the order of the package's template (inst/extdata/PRISMA.csv).
TEMPLATE = [
    ("NA", "node4", "prevstud", "Grey title box; Previous studies", "Previous studies"),
    (
        "previous_studies",
        "node5",
        "box1",
        "Studies included in previous version of review",
        "Studies included in previous version of review",
    ),
    (
        "previous_reports",
        "NA",
        "box1",
        "Reports of studies included in previous version of review",
        "Reports of studies included in previous version of review",
    ),
    (
        "NA",
        "node6",
        "newstud",
        "Yellow title box; Identification of new studies via databases and registers",
        "Identification of new studies via databases and registers",
    ),
    ("database_results", "node7", "box2", "Records identified from: Databases", "Databases"),
    ("database_specific_results", "NA", "box2", "Records identified from each database", "Databases"),
    ("register_results", "NA", "box2", "Records identified from: Registers", "Registers"),
    (
        "NA",
        "node16",
        "othstud",
        "Grey title box; Identification of new studies via other methods",
        "Identification of new studies via other methods",
    ),
    ("website_results", "node17", "box11", "Records identified from: Websites", "Websites"),
    (
        "organisation_results",
        "NA",
        "box11",
        "Records identified from: Organisations; here: submissions by contributors and starting documents",
        "Submissions and starting documents",
    ),
    ("citations_results", "NA", "box11", "Records identified from: Citation searching", "Citation searching"),
    ("duplicates", "node8", "box3", "Duplicate records", "Duplicate records"),
    (
        "excluded_automatic",
        "NA",
        "box3",
        "Records marked as ineligible by automation tools",
        "Records marked as ineligible by automation tools",
    ),
    (
        "excluded_other",
        "NA",
        "box3",
        "Records removed for other reasons",
        "Records removed for other reasons",
    ),
    ("records_screened", "node9", "box4", "Records screened (databases and registers)", "Records screened"),
    ("records_excluded", "node10", "box5", "Records excluded (databases and registers)", "Records excluded"),
    (
        "dbr_sought_reports",
        "node11",
        "box6",
        "Reports sought for retrieval (databases and registers)",
        "Reports sought for retrieval",
    ),
    (
        "dbr_notretrieved_reports",
        "node12",
        "box7",
        "Reports not retrieved (databases and registers)",
        "Reports not retrieved",
    ),
    (
        "other_sought_reports",
        "node18",
        "box12",
        "Reports sought for retrieval (other)",
        "Reports sought for retrieval",
    ),
    (
        "other_notretrieved_reports",
        "node19",
        "box13",
        "Reports not retrieved (other)",
        "Reports not retrieved",
    ),
    (
        "dbr_assessed",
        "node13",
        "box8",
        "Reports assessed for eligibility (databases and registers)",
        "Reports assessed for eligibility",
    ),
    (
        "dbr_excluded",
        "node14",
        "box9",
        "Reports excluded (databases and registers), with reasons",
        "Reports excluded",
    ),
    (
        "other_assessed",
        "node20",
        "box14",
        "Reports assessed for eligibility (other)",
        "Reports assessed for eligibility",
    ),
    ("other_excluded", "node21", "box15", "Reports excluded (other), with reasons", "Reports excluded"),
    ("new_studies", "node15", "box10", "New studies included in review", "New studies included in review"),
    ("new_reports", "NA", "box10", "Reports of new included studies", "Reports of new included studies"),
    (
        "total_studies",
        "node22",
        "box16",
        "Total studies included in review",
        "Total studies included in review",
    ),
    (
        "total_reports",
        "NA",
        "box16",
        "Reports of total included studies",
        "Reports of total included studies",
    ),
    ("identification", "node1", "identification", "Blue identification box", "Identification"),
    ("screening", "node2", "screening", "Blue screening box", "Screening"),
    ("included", "node3", "included", "Blue included box", "Included"),
]
CSV_COLUMNS = ["data", "node", "box", "description", "boxtext", "tooltips", "url", "n"]
#: a round in progress: (its count, the box it has not reached, the key of its extra CSV row, its label, what
#: the box's text adds). The template has no such boxes, and the R package finds each box by ``grep`` on the
#: ``data`` column (``grep("screening")`` also finds the blue screening box), so these keys contain no other
#: box's name; the number is also written into the text of the box not reached yet.
AWAITING_ROWS = (
    ("awaiting_screening", "records_screened", "records_awaiting", "Records awaiting screening", "screening"),
    (
        "awaiting_retrieval",
        "dbr_sought_reports",
        "reports_awaiting_retrieval",
        "Reports awaiting retrieval",
        "retrieval",
    ),
    (
        "awaiting_assessment",
        "dbr_assessed",
        "reports_awaiting_assessment",
        "Reports awaiting assessment for eligibility",
        "assessment",
    ),
)


def _reason_cell(reasons: dict[str, int]) -> str:
    return "; ".join(f"{REASON_LABELS.get(k, k)}, {v}" for k, v in reasons.items())


def prisma2020_csv(f: RoundFlow) -> str:
    """One round in the PRISMA2020 R package's CSV layout (``PRISMA_data(read.csv(...))`` reads it)."""
    values: dict[str, str] = {k: str(v) for k, v in f.counts.items()}
    values["organisation_results"] = str(f.counts["organisation_results"] + f.counts["submission_results"])
    values["database_specific_results"] = "; ".join(f"{k}, {v}" for k, v in f.database_specific.items())
    values["dbr_excluded"] = _reason_cell(f.dbr_excluded) or "0"
    values["other_excluded"] = _reason_cell(f.other_excluded) or "0"
    template = list(TEMPLATE)
    for count, before, key, label, what in AWAITING_ROWS:
        n = f.counts.get(count, 0)
        if not n:
            continue
        values[key] = str(n)
        at = next(i for i, row in enumerate(template) if row[0] == before)
        data, node, box, description, boxtext = template[at]
        extra = (
            key,
            "NA",
            box,
            f"{label} (a round in progress; not a box of the PRISMA2020 template)",
            label,
        )
        template[at : at + 1] = [
            (data, node, box, description, f"{boxtext} ({n} more awaiting {what})"),
            extra,
        ]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for data, node, box, description, boxtext in template:
        writer.writerow(
            [
                data,
                node,
                box,
                description,
                boxtext,
                description if node != "NA" else "NA",
                "NA",
                values.get(data, "0"),
            ]
        )
    return buf.getvalue()


# --- diagram ------------------------------------------------------------------------------------------------


def flow_rows(flows: list[RoundFlow]) -> list[dict]:
    """The diagram's boxes as rows (section, box, label, one count per round): its text alternative."""
    rows: list[dict] = []

    def add(section: str, label: str, values: list[object], kind: str = "main") -> None:
        rows.append({"section": section, "label": label, "values": values, "kind": kind})

    def each(key: str) -> list[object]:
        return [f.counts[key] for f in flows]

    add("Previous versions", "Studies included in earlier versions", each("previous_studies"))
    add("Previous versions", "Reports of those studies", each("previous_reports"), "detail")
    add("Identification: databases", "Records identified", each("database_results"))
    sources = sorted({k for f in flows for k in f.database_specific})
    for s in sources:
        add("Identification: databases", s, [f.database_specific.get(s, 0) for f in flows], "detail")
    add(
        "Identification: databases",
        "Duplicates removed (incl. records seen in earlier rounds)",
        each("duplicates"),
        "excluded",
    )
    add("Identification: other methods", "Citation searching", each("citations_results"))
    add(
        "Identification: other methods",
        "Contributor submissions and starting documents",
        each("submission_results"),
    )

    def pending(before: str) -> None:
        """The row of what has not reached the box ``before`` yet, in a round in progress (if any)."""
        for count, box, _key, label, _what in AWAITING_ROWS:
            values = [f.counts.get(count, 0) for f in flows]
            if box == before and any(values):
                add("Screening: databases", label, values, "pending")

    add("Screening: databases", "Records screened", each("records_screened"))
    pending("records_screened")
    add(
        "Screening: databases", "Records excluded on title and abstract", each("records_excluded"), "excluded"
    )
    add("Screening: databases", "Reports sought for retrieval", each("dbr_sought_reports"))
    pending("dbr_sought_reports")
    add("Screening: databases", "Reports not retrieved", each("dbr_notretrieved_reports"), "excluded")
    add("Screening: databases", "Reports assessed for eligibility", each("dbr_assessed"))
    pending("dbr_assessed")
    add("Screening: databases", "Reports excluded", each("dbr_excluded"), "excluded")
    for reason in sorted({k for f in flows for k in f.dbr_excluded}):
        add(
            "Screening: databases",
            REASON_LABELS.get(reason, reason),
            [f.dbr_excluded.get(reason, 0) for f in flows],
            "reason",
        )
    add("Screening: other methods", "Reports sought for retrieval", each("other_sought_reports"))
    add("Screening: other methods", "Reports not retrieved", each("other_notretrieved_reports"), "excluded")
    add("Screening: other methods", "Reports assessed for eligibility", each("other_assessed"))
    add("Screening: other methods", "Reports excluded", each("other_excluded"), "excluded")
    for reason in sorted({k for f in flows for k in f.other_excluded}):
        add(
            "Screening: other methods",
            REASON_LABELS.get(reason, reason),
            [f.other_excluded.get(reason, 0) for f in flows],
            "reason",
        )
    add("Included", "New studies", each("new_studies"))
    add(
        "Included",
        "Reports of new studies (with companions and secondary sources)",
        each("new_reports"),
        "detail",
    )
    add("Included", "Total studies in this version", each("total_studies"))
    add("Included", "Total reports", each("total_reports"), "detail")
    return rows


def round_labels(flows: list[RoundFlow]) -> list[str]:
    return [f"Round {f.round}" + (f" ({f.date})" if f.date else "") for f in flows]


def flow_svg(flows: list[RoundFlow]) -> str:
    """A one-column SVG: per box its label and one count per round; scales to its container."""
    width, pad, line = 420, 10, 20
    col_w = 62
    label_w = width - 2 * pad - col_w * len(flows) - 8
    rows = flow_rows(flows)
    labels = round_labels(flows)
    parts: list[str] = []
    boxes: list[str] = []  # drawn first, so the text lies on top
    y = pad
    # header with the round labels
    for i, _label in enumerate(labels):
        x = width - pad - col_w * (len(flows) - i) + col_w / 2
        parts.append(
            f'<text x="{x:.0f}" y="{y + 14}" class="h" text-anchor="middle">Round {flows[i].round}</text>'
        )
        if flows[i].date:
            parts.append(
                f'<text x="{x:.0f}" y="{y + 28}" class="d" text-anchor="middle">'
                f"{html.escape(flows[i].date)}</text>"
            )
    y += 38
    section = None
    box_start = y
    for row in rows:
        if row["section"] != section:
            if section is not None:
                boxes.append(_box(pad, box_start, width - 2 * pad, y - box_start + 4))
                y += 18
                boxes.append(_arrow(width / 2, y - 16, y - 2))
            section = row["section"]
            parts.append(f'<text x="{pad + 6}" y="{y + 15}" class="s">{html.escape(section)}</text>')
            y += line + 2
            box_start = y - line - 4
        indent = {"main": 0, "detail": 12, "excluded": 12, "reason": 24, "pending": 0}[row["kind"]]
        cls = {"main": "m", "detail": "t", "excluded": "x", "reason": "t", "pending": "p"}[row["kind"]]
        prefix = "− " if row["kind"] == "excluded" else ""
        for k, text in enumerate(_wrap(prefix + row["label"], int((label_w - indent) / 7.2))):
            parts.append(
                f'<text x="{pad + 6 + indent}" y="{y + 14}" class="{cls}">{html.escape(text)}</text>'
            )
            if k == 0:
                for i, v in enumerate(row["values"]):
                    x = width - pad - col_w * (len(flows) - i - 1) - 8
                    parts.append(f'<text x="{x}" y="{y + 14}" class="{cls} n" text-anchor="end">{v}</text>')
            y += line
    boxes.append(_box(pad, box_start, width - 2 * pad, y - box_start + 4))
    y += pad + 4
    title = "PRISMA 2020 flow diagram of every search round"
    desc = "; ".join(
        f"{r['section']}: {r['label']}: "
        + ", ".join(f"{lab} {v}" for lab, v in zip(labels, r["values"], strict=True))
        for r in rows
    )
    style = (
        "<style>text{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;fill:#1a1a1a}"
        ".h{font-weight:700}.d{font-size:11px;fill:#555}.s{font-weight:700;font-size:13px}"
        ".x{fill:#7a1f1f}.t{fill:#333}.p{fill:#6b4a00;font-style:italic}"
        ".n{font-variant-numeric:tabular-nums;font-weight:600}"
        "rect{fill:#fff;stroke:#4a6fa5;stroke-width:1.2}line{stroke:#4a6fa5;stroke-width:1.5}"
        "polygon{fill:#4a6fa5}</style>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {y}" width="100%" '
        f'style="max-width:{width * 1.4:.0f}px;height:auto" role="img" '
        'aria-labelledby="prisma-title prisma-desc">'
        f'<title id="prisma-title">{html.escape(title)}</title>'
        f'<desc id="prisma-desc">{html.escape(desc)}</desc>'
        f"{style}{''.join(boxes)}{''.join(parts)}</svg>"
    )


def _box(x: float, y: float, w: float, h: float) -> str:
    return f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6"/>'


def _arrow(x: float, y0: float, y1: float) -> str:
    return (
        f'<line x1="{x}" y1="{y0}" x2="{x}" y2="{y1 - 5}"/>'
        f'<polygon points="{x - 5},{y1 - 6} {x + 5},{y1 - 6} {x},{y1}"/>'
    )


def _wrap(text: str, width: int) -> list[str]:
    words, lines, current = text.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current] if current else lines
