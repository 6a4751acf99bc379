"""Single proportions: input checks, exact and Wilson intervals, and the crude pooled proportion.

Every function takes event counts (``events``) and group sizes (``n``), one entry per *report*
(the pooling unit).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special

from livingreview.stats.estimate import METHOD_CRUDE, METHOD_SINGLE, PooledEstimate, no_reports


def checked_counts(
    events: Sequence[int] | np.ndarray, n: Sequence[int] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return (events, n) as float arrays."""
    x = np.asarray(events, dtype=float).ravel() if not np.isscalar(events) else np.array([events], float)
    m = np.asarray(n, dtype=float).ravel() if not np.isscalar(n) else np.array([n], float)
    if x.shape != m.shape:
        raise ValueError(f"events and n must have the same length (got {x.size} and {m.size})")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(m))):
        raise ValueError("events and n must be finite numbers (no missing values)")
    if np.any(x != np.round(x)) or np.any(m != np.round(m)):
        raise ValueError("events and n must be whole numbers")
    if np.any(m < 1):
        raise ValueError("every report needs n >= 1")
    if np.any(x < 0) or np.any(x > m):
        bad = int(np.flatnonzero((x < 0) | (x > m))[0])
        raise ValueError(f"events must lie between 0 and n (report {bad}: {x[bad]:g} of {m[bad]:g})")
    return x, m


def clopper_pearson(events: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) confidence interval, identical to R's ``binom.test``."""
    x, m = checked_counts([events], [n])
    x0, n0 = float(x[0]), float(m[0])
    alpha = 1.0 - level
    lo = 0.0 if x0 == 0 else float(special.betaincinv(x0, n0 - x0 + 1, alpha / 2))
    hi = 1.0 if x0 == n0 else float(special.betaincinv(x0 + 1, n0 - x0, 1 - alpha / 2))
    return lo, hi


def wilson(events: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (no continuity correction), as R's ``prop.test(correct=FALSE)``."""
    x, m = checked_counts([events], [n])
    x0, n0 = float(x[0]), float(m[0])
    z = float(special.ndtri(0.5 + level / 2))
    p = x0 / n0
    centre = (p + z * z / (2 * n0)) / (1 + z * z / n0)
    half = z * math.sqrt(p * (1 - p) / n0 + z * z / (4 * n0 * n0)) / (1 + z * z / n0)
    lo = 0.0 if x0 == 0 else max(0.0, centre - half)
    hi = 1.0 if x0 == n0 else min(1.0, centre + half)
    return lo, hi


def proportion_table(events: Sequence[int], n: Sequence[int], level: float = 0.95) -> list[dict[str, float]]:
    """Per-report proportion with exact and Wilson CIs, one dict per report (input order)."""
    x, m = checked_counts(events, n)
    rows = []
    for xi, ni in zip(x, m, strict=True):
        lo, hi = clopper_pearson(int(xi), int(ni), level)
        wlo, whi = wilson(int(xi), int(ni), level)
        rows.append(
            {
                "events": int(xi),
                "n": int(ni),
                "proportion": float(xi / ni),
                "exact_low": lo,
                "exact_high": hi,
                "wilson_low": wlo,
                "wilson_high": whi,
            }
        )
    return rows


def crude_pooled(events: Sequence[int], n: Sequence[int], level: float = 0.95) -> PooledEstimate:
    """Sum of events over sum of patients with the exact CI (ignores between-report variation)."""
    x, m = checked_counts(events, n)
    if x.size == 0:
        return no_reports()
    tx, tn = int(x.sum()), int(m.sum())
    lo, hi = clopper_pearson(tx, tn, level)
    return PooledEstimate(METHOD_CRUDE, int(x.size), tn, tx, tx / tn, lo, hi)


def single_report(x: np.ndarray, m: np.ndarray, level: float) -> PooledEstimate:
    """The one report of checked counts ``x``, ``m`` with its exact CI: nothing to pool."""
    lo, hi = clopper_pearson(int(x[0]), int(m[0]), level)
    return PooledEstimate(
        METHOD_SINGLE,
        1,
        int(m[0]),
        int(x[0]),
        float(x[0] / m[0]),
        lo,
        hi,
        note="one report: exact (Clopper-Pearson) CI of that report",
    )
