"""``livingreview issue-form``: print the GitHub issue form for case submissions, generated from
``data/datapackage.json`` (redirect it to ``.github/ISSUE_TEMPLATE/case-submission.yml``)."""

from __future__ import annotations

import sys
from pathlib import Path

from livingreview.datapkg.descriptor import require_descriptor, require_resource
from livingreview.render.issue_form import issue_form


def add_arguments(parser) -> None:
    """No options: the form follows from the schema alone."""


def run(args) -> int:
    descriptor = require_descriptor(Path(args.root))
    require_resource(descriptor, "cases")  # the form has one element per field of cases.csv
    sys.stdout.write(issue_form(descriptor))
    return 0
