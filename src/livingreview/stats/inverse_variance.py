"""Inverse-variance random-effects pooling: the sensitivity analyses, as ``metafor::rma``.

Two measures: logits (``PLO``; 0.5 added to both cells of reports with 0 or all events, metafor's
``add=1/2, to="only0"``) and Freeman–Tukey double arcsine values (``PFT``) back-transformed with
Miller's (1978) formula at the harmonic mean n (``transf.ipft.hm``). The latter is flagged
``clamped=True`` when the back-transform is cut off at 0 or 1 (Schwarzer et al. 2019 show how
misleading it then is). tau² is DerSimonian–Laird or REML, both bounded at 0.

Also here: I² with the "typical" within-report variance (Higgins & Thompson 2002), which the
GLMM reports too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special

from livingreview.stats.estimate import PooledEstimate, expit, no_reports
from livingreview.stats.proportions import checked_counts, single_report


def logit_escalc(x: np.ndarray, m: np.ndarray, add: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Logit and its variance, adding ``add`` to both cells of reports with 0 or all events."""
    a = x.copy()
    b = m - x
    zero = (a == 0) | (b == 0)
    a[zero] += add
    b[zero] += add
    return np.log(a / b), 1.0 / a + 1.0 / b


def _double_arcsine_escalc(x: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Freeman–Tukey double arcsine (metafor's ``PFT``) and its variance ``1/(4n+2)``."""
    yi = 0.5 * (np.arcsin(np.sqrt(x / (m + 1))) + np.arcsin(np.sqrt((x + 1) / (m + 1))))
    return yi, 1.0 / (4 * m + 2)


def i2_typical(tau2: float, vi: Sequence[float] | np.ndarray) -> float:
    """I² = tau² / (tau² + s²) with the typical within-report variance s² of Higgins & Thompson.

    ``s² = (k-1) Σw / ((Σw)² - Σw²)``, ``w = 1/vi``; this is metafor's definition for
    intercept-only models (rma.uni and rma.glmm). Returns NaN for k < 2.
    """
    w = 1.0 / np.asarray(vi, dtype=float)
    k = w.size
    if k < 2:
        return float("nan")
    s2 = (k - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum())
    return float(tau2 / (tau2 + s2))


def _tau2_dl(yi: np.ndarray, vi: np.ndarray) -> float:
    w = 1.0 / vi
    mu_fe = np.sum(w * yi) / w.sum()
    q = float(np.sum(w * (yi - mu_fe) ** 2))
    c = w.sum() - (w**2).sum() / w.sum()
    return max(0.0, (q - (yi.size - 1)) / c)


def _reml_score(tau2: float, yi: np.ndarray, vi: np.ndarray) -> float:
    """Derivative of the REML log-likelihood with respect to tau² (times 2)."""
    w = 1.0 / (vi + tau2)
    mu = np.sum(w * yi) / w.sum()
    r = yi - mu
    return float(np.sum(w**2 * r**2) - np.sum(w) + np.sum(w**2) / np.sum(w))


def _tau2_reml(yi: np.ndarray, vi: np.ndarray) -> float:
    """REML tau², bounded at 0 (the REML log-likelihood is unimodal in tau² for these models)."""
    if _reml_score(0.0, yi, vi) <= 0:
        return 0.0
    hi = max(1.0, float(np.var(yi)) * 4)
    while _reml_score(hi, yi, vi) > 0:
        hi *= 4
        if hi > 1e8:  # pragma: no cover - pathological
            return hi
    from scipy import optimize  # imported on use: it costs ~0.3 s, and most pages never pool

    return float(optimize.brentq(_reml_score, 0.0, hi, args=(yi, vi), xtol=1e-14, rtol=1e-14))


def transf_pft(p: float, n: float) -> float:
    """metafor's ``transf.pft``: proportion -> double arcsine at sample size n."""
    x = p * n
    return 0.5 * (math.asin(math.sqrt(x / (n + 1))) + math.asin(math.sqrt((x + 1) / (n + 1))))


def ipft_hm(t: float, n_harmonic: float) -> tuple[float, bool]:
    """Miller's (1978) inverse of the double arcsine at the harmonic mean n.

    Returns (proportion, clamped) where ``clamped`` says the value lay outside the range of the
    transform (below ``t(0)`` or above ``t(1)`` for that n) and was set to 0 or 1, as metafor's
    ``transf.ipft.hm`` does.
    """
    if t > transf_pft(1.0, n_harmonic):
        return 1.0, True
    if t < transf_pft(0.0, n_harmonic):
        return 0.0, True
    s = math.sin(2 * t)
    inner = 1 - (s + (s - 1 / s) / n_harmonic) ** 2
    inner = max(inner, 0.0)
    c = math.cos(2 * t)
    sign = (c > 0) - (c < 0)
    return 0.5 * (1 - sign * math.sqrt(inner)), False


def pool_inverse_variance(
    events: Sequence[int],
    n: Sequence[int],
    measure: str = "PLO",
    tau2_method: str = "DL",
    level: float = 0.95,
) -> PooledEstimate:
    """Inverse-variance random-effects pooling, as ``metafor::rma(measure=, method=)``.

    ``measure``: ``"PLO"`` (logit; 0.5 added to both cells of reports with 0 or all events)
    or ``"PFT"`` (Freeman–Tukey double arcsine, back-transformed with Miller's formula at the
    harmonic mean of n). ``tau2_method``: ``"DL"`` (DerSimonian–Laird) or ``"REML"``; both are
    bounded at 0. CI and prediction interval use the normal quantile (metafor's ``test="z"``).
    """
    measure = measure.upper()
    tau2_method = tau2_method.upper()
    if measure not in {"PLO", "PFT"}:
        raise ValueError(f"measure must be 'PLO' or 'PFT', not {measure!r}")
    if tau2_method not in {"DL", "REML"}:
        raise ValueError(f"tau2_method must be 'DL' or 'REML', not {tau2_method!r}")
    x, m = checked_counts(events, n)
    if x.size == 0:
        return no_reports()
    if x.size == 1:
        return single_report(x, m, level)
    z = float(special.ndtri(0.5 + level / 2))
    if measure == "PLO":
        yi, vi = logit_escalc(x, m)
    else:
        yi, vi = _double_arcsine_escalc(x, m)
    tau2 = _tau2_dl(yi, vi) if tau2_method == "DL" else _tau2_reml(yi, vi)
    w = 1.0 / (vi + tau2)
    mu = float(np.sum(w * yi) / w.sum())
    se = float(math.sqrt(1.0 / w.sum()))
    bounds = (mu - z * se, mu + z * se, mu - z * math.sqrt(se**2 + tau2), mu + z * math.sqrt(se**2 + tau2))
    clamped = False
    note = ""
    if measure == "PLO":
        est, lo, hi, plo, phi = (expit(v) for v in (mu, *bounds))
        method = f"inverse variance, logit, {tau2_method}"
        if np.any((x == 0) | (x == m)):
            note = "0.5 added to both cells of reports with 0 or all events"
    else:
        nhm = float(1.0 / np.mean(1.0 / m))
        back = [ipft_hm(v, nhm) for v in (mu, *bounds)]
        est, lo, hi, plo, phi = (b[0] for b in back)
        hit = [
            name
            for name, b in zip(("estimate", "ci_low", "ci_high", "pi_low", "pi_high"), back, strict=True)
            if b[1]
        ]
        clamped = bool(hit)
        method = f"inverse variance, Freeman-Tukey double arcsine, {tau2_method}"
        note = f"Miller back-transform at harmonic mean n = {nhm:.4g}"
        if clamped:
            note += f"; back-transform cut off at 0 or 1 for {', '.join(hit)}"
            if hit[0] == "estimate":
                note += ": the pooled estimate itself is clamped, do not use it"
    return PooledEstimate(
        method=method,
        k=int(x.size),
        n_patients=int(m.sum()),
        n_events=int(x.sum()),
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        tau2=float(tau2),
        i2=i2_typical(tau2, vi),
        pi_low=plo,
        pi_high=phi,
        mu=mu,
        se=se,
        clamped=clamped,
        note=note,
    )
