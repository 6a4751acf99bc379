"""Cumulative meta-analysis: how the pooled estimate moved as reports were published."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from livingreview.stats.methods import pool
from livingreview.stats.proportions import checked_counts


def cumulative_by_year(
    events: Sequence[int], n: Sequence[int], years: Sequence[int], method: str = "glmm", level: float = 0.95
) -> list[dict[str, Any]]:
    """The pooled estimate using all reports published up to each year.

    One dict per distinct year (ascending) with ``year``, ``k`` and the pooled estimate's fields.
    """
    x, m = checked_counts(events, n)
    yrs = np.asarray(list(years))
    if yrs.size != x.size:
        raise ValueError(f"years must have one entry per report (got {yrs.size} for {x.size})")
    out = []
    for year in sorted(set(yrs.tolist())):
        keep = yrs <= year
        est = pool(x[keep], m[keep], method, level)
        out.append({"year": int(year), **est.to_dict()})
    return out
