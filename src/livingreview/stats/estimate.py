"""The result type every pooling method returns, and the labels of those methods.

All pooled results are :class:`PooledEstimate` objects, with proportions in [0, 1]. With no
report there is nothing to estimate (:func:`no_reports`); with a single report nothing is pooled
and the report's exact CI is returned (:func:`livingreview.stats.proportions.single_report`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from scipy import special

Z95 = float(special.ndtri(0.975))

METHOD_SINGLE = "single report, not pooled"
METHOD_NONE = "no reports"
METHOD_GLMM = "GLMM (binomial-normal, ML, adaptive Gauss-Hermite)"
METHOD_CRUDE = "crude (sum of events / sum of patients), exact CI"


@dataclass(frozen=True)
class PooledEstimate:
    """One pooled (or single-report) proportion.

    ``estimate``, ``ci_*`` and ``pi_*`` are proportions in [0, 1]. ``mu`` and ``se`` are on the
    analysis scale (logit for GLMM/PLO, double arcsine for PFT) and ``None`` when not defined.
    ``tau2`` is on the analysis scale too; ``i2`` is a fraction in [0, 1] (not a percentage).
    ``clamped`` is True when a back-transform was cut off at 0 or 1 or the model's estimate lies
    on the boundary of the parameter space (e.g. every report has 100 % responders).
    """

    method: str
    k: int
    n_patients: int
    n_events: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    tau2: float | None = None
    i2: float | None = None
    pi_low: float | None = None
    pi_high: float | None = None
    mu: float | None = None
    se: float | None = None
    clamped: bool = False
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (NaN becomes None)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, float) and not math.isfinite(value):
                out[key] = None
        return out


def no_reports() -> PooledEstimate:
    """The result of pooling nothing."""
    return PooledEstimate(METHOD_NONE, 0, 0, 0, None, None, None, note="no reports")


def expit(logit: float) -> float:
    """Logit to proportion, as a plain float (the scale of a :class:`PooledEstimate`)."""
    return float(special.expit(logit))
