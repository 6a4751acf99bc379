"""Study designs and how a report was read: the labels readers see, and which designs are controlled."""

DESIGN_LABELS = {
    "case_report": "case report",
    "case_series": "case series",
    "retrospective_cohort": "retrospective cohort",
    "prospective_open_trial": "prospective open trial",
    "nonrandomised_controlled_study": "non-randomised controlled study",
    "randomised_controlled_trial": "randomised controlled trial",
}
#: designs whose IVIG arm is shown with its comparator, never pooled with single-arm proportions
CONTROLLED = ("nonrandomised_controlled_study", "randomised_controlled_trial")
EXTRACTION_LABELS = {"full_text": "full text", "abstract": "abstract", "secondary_source": "secondary source"}
