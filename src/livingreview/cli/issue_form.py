"""``livingreview issue-form``: print the GitHub issue form for case submissions, generated from
``data/datapackage.json`` (redirect it to ``.github/ISSUE_TEMPLATE/case-submission.yml``)."""

from __future__ import annotations

import sys
from pathlib import Path

from livingreview.datapkg.descriptor import require_descriptor
from livingreview.errors import UserError
from livingreview.render.issue_form import issue_form


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    try:
        form = issue_form(require_descriptor(Path(args.root)))
    except KeyError as exc:  # no cases resource
        raise UserError(exc.args[0]) from None
    sys.stdout.write(form)
    return 0
