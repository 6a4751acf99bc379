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

    column: str
    subgroups: tuple[dict[str, Any], ...]
    test: str
    statistic: float | None
    df: int | None
    p_value: float | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
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
    frame: Any,
    by: str,
    events: str = "n_responders",
    n: str = "n_patients",
    level: float = 0.95,
    subgroups: Sequence[Any] | None = None,
) -> SubgroupResult:
    """Pool within each level of column ``by`` of a data frame (one row per report).

    Rows with a missing ``events`` value are dropped (the number of patients dropped is reported
    per subgroup as ``excluded_patients``). ``subgroups`` lists levels to report even when empty
    (an empty subgroup gets method "no reports"). The test for subgroup differences is the
    likelihood-ratio test of :func:`subgroup_lrt`; it is only computed when at least two subgroups
    have a GLMM fit that is not on the boundary at infinity (i.e. not all 100 %/0 %), otherwise
    ``statistic`` is None and ``note`` says why.
    """
    for col in (by, events, n):
        if col not in frame.columns:
            raise ValueError(f"column {col!r} not in data frame (have: {', '.join(map(str, frame.columns))})")
    levels = (
        list(subgroups) if subgroups is not None else sorted(frame[by].dropna().unique().tolist(), key=str)
    )
    rows = []
    usable_x, usable_n, usable_g = [], [], []
    estimable = 0
    for lv in levels:
        sub = frame[frame[by] == lv]
        have = sub[sub[events].notna()]
        excluded = int(sub.loc[sub[events].isna(), n].sum())
        xs = have[events].astype(int).to_numpy()
        ns = have[n].astype(int).to_numpy()
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
        return SubgroupResult(by, tuple(rows), test, None, None, None, "fewer than two non-empty subgroups")
    if estimable < 2 or not (0 < sum(usable_x) < sum(usable_n)):
        return SubgroupResult(
            by,
            tuple(rows),
            test,
            None,
            None,
            None,
            "not computed: subgroup estimates lie on the boundary (all or no responders)",
        )
    stat, df = subgroup_lrt(usable_x, usable_n, usable_g)
    return SubgroupResult(by, tuple(rows), test, stat, df, float(special.chdtrc(df, stat)))
