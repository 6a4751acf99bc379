"""Subgroup analysis: pooled estimates per subgroup and a likelihood-ratio test of the difference."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from livingreview.stats.glmm import fit_glmm, pool_glmm
from livingreview.stats.glmm_likelihood import DEFAULT_NAGQ
from livingreview.stats.proportions import checked_counts, crude_pooled


@dataclass(frozen=True)
class SubgroupResult:
    """Per-subgroup pooled estimates and a likelihood-ratio test for subgroup differences."""

    subgroups: tuple[dict[str, Any], ...]
    test: str
    statistic: float | None
    df: int | None
    p_value: float | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "subgroups": list(self.subgroups),
            "test": self.test,
            "statistic": self.statistic,
            "df": self.df,
            "p_value": self.p_value,
            "note": self.note,
        }


def subgroup_lrt(
    events: Sequence[int], n: Sequence[int], groups: Sequence[Any], nagq: int = DEFAULT_NAGQ
) -> tuple[float, int]:
    """Likelihood-ratio test of a subgroup covariate in the GLMM (common tau² in both models).

    Compares the random-intercept model with one intercept per subgroup against the model with
    a single intercept; returns (chi-square statistic, df = groups - 1). Equivalent to comparing
    ``rma.glmm(mods = ~ group)`` with ``rma.glmm()`` fitted by ML.
    """
    x, m = checked_counts(events, n)
    g = np.asarray(list(groups), dtype=object)
    if g.size != x.size:
        raise ValueError(f"groups must have one entry per report (got {g.size} for {x.size})")
    levels = sorted(set(g.tolist()), key=str)
    design = np.column_stack([(g == lv).astype(float) for lv in levels])
    full = fit_glmm(x, m, design, nagq)
    null = fit_glmm(x, m, np.ones((x.size, 1)), nagq)
    return max(0.0, 2 * (full.loglik - null.loglik)), len(levels) - 1


def subgroup_analysis(
    events: Sequence[float | None],
    n: Sequence[int],
    groups: Sequence[Any],
    subgroups: Sequence[Any] | None = None,
    level: float = 0.95,
) -> SubgroupResult:
    """Pool within each subgroup: ``events[i]`` responders of ``n[i]`` patients in report ``i`` of
    subgroup ``groups[i]``.

    Reports whose ``events`` is missing (None or NaN) are left out (their patients are reported per subgroup
    as ``excluded_patients``). ``subgroups`` lists the levels to report, even when empty (an empty subgroup
    gets method "no reports"); by default every level present. The test for subgroup differences is the
    likelihood-ratio test of :func:`subgroup_lrt`; it is only computed when at least two subgroups have a
    GLMM fit that is not on the boundary at infinity (i.e. not all 100 %/0 %), otherwise ``statistic`` is
    None and ``note`` says why.
    """
    events_arr = np.array([np.nan if e is None else float(e) for e in events], dtype=float)
    n_arr = np.asarray(n, dtype=float)
    group_arr = np.asarray(list(groups), dtype=object)
    if not (events_arr.size == n_arr.size == group_arr.size):
        raise ValueError("events, n and groups must have the same length")
    known = ~np.isnan(events_arr)
    present = sorted({g for g in group_arr.tolist() if g is not None}, key=str)
    levels = list(subgroups) if subgroups is not None else present
    rows = []
    usable_x, usable_n, usable_g = [], [], []
    estimable = 0
    for lv in levels:
        mine = group_arr == lv
        excluded = int(n_arr[mine & ~known].sum())
        xs = events_arr[mine & known].astype(int)
        ns = n_arr[mine & known].astype(int)
        crude = crude_pooled(xs, ns, level)
        pooled = pool_glmm(xs, ns, level)
        rows.append(
            {
                "subgroup": lv,
                "k": int(xs.size),
                "n_patients": int(ns.sum()),
                "n_events": int(xs.sum()),
                "excluded_patients": excluded,
                "crude": crude.to_dict(),
                "pooled": pooled.to_dict(),
            }
        )
        if xs.size:
            usable_x.extend(xs.tolist())
            usable_n.extend(ns.tolist())
            usable_g.extend([lv] * xs.size)
            if not (np.all(xs == ns) or np.all(xs == 0)):
                estimable += 1
    test = "likelihood-ratio test, GLMM with vs without subgroup intercepts (common tau²), chi-square"
    nonempty = sum(1 for r in rows if r["k"] > 0)
    if nonempty < 2:
        return SubgroupResult(tuple(rows), test, None, None, None, "fewer than two non-empty subgroups")
    if estimable < 2 or not (0 < sum(usable_x) < sum(usable_n)):
        return SubgroupResult(
            tuple(rows),
            test,
            None,
            None,
            None,
            "not computed: subgroup estimates lie on the boundary (all or no responders)",
        )
    stat, df = subgroup_lrt(usable_x, usable_n, usable_g)
    return SubgroupResult(tuple(rows), test, stat, df, float(special.chdtrc(df, stat)))
