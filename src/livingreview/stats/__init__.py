"""Proportions and meta-analysis of proportions for small case-report evidence.

Everything here is a pure function of event counts (``events``) and group sizes (``n``), one
entry per *report* (the pooling unit). Only numpy and scipy are used.

Case-report evidence is awkward: reports are tiny and most report 100 % responders. The
**primary pooled estimate** is therefore the random-intercept logistic model (binomial-normal
GLMM; Stijnen, Hamza & Özdemir 2010), fitted by maximum likelihood with the marginal likelihood
integrated by adaptive Gauss–Hermite quadrature. It uses the exact binomial likelihood of every
report, so it needs no continuity correction and handles reports with 0 % or 100 % responders.
The conventions follow R's ``metafor::rma.glmm(measure="PLO")``:

* 95 % CI: Wald interval on the logit scale (``mu ± z·se``), back-transformed; ``se`` is taken
  from the inverse of the observed information of (mu, tau), as ``lme4`` does;
* tau²: ML estimate of the between-report variance on the logit scale, bounded at 0;
* I²: ``tau² / (tau² + s²)`` where ``s²`` is the "typical" within-report variance
  (Higgins & Thompson 2002) of the logit, computed from ``1/(x) + 1/(n-x)`` with 0.5 added to
  both cells of reports with 0 or all events (metafor's ``add=1/2, to="only0"``);
* 95 % prediction interval: ``mu ± z·sqrt(se² + tau²)``, back-transformed (``predict()``).

Sensitivity analyses: inverse-variance pooling of logits (DerSimonian–Laird or REML tau², both
bounded at 0; 0.5 added only to reports with 0 or all events) and of Freeman–Tukey double arcsine
values with Miller's (1978) back-transform at the harmonic mean n (``transf.ipft.hm``). The
latter is flagged ``clamped=True`` when the back-transform is cut off at 0 or 1 (Schwarzer et al.
2019 show how misleading it then is).

All pooled results are :class:`PooledEstimate` objects. With a single report nothing is pooled:
the report's exact (Clopper–Pearson) CI is returned and ``method`` says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import special

__all__ = [
    "Z95",
    "PooledEstimate",
    "SubgroupResult",
    "clopper_pearson",
    "crude_pooled",
    "cumulative_by_year",
    "glmm_loglik",
    "i2_typical",
    "pool",
    "pool_glmm",
    "pool_inverse_variance",
    "proportion_table",
    "subgroup_analysis",
    "wilson",
]

Z95 = float(special.ndtri(0.975))

#: Gauss–Hermite points per report for the primary GLMM. On the data in tests/reference 50, 100
#: and 150 points agree to ~1e-9, 20 points move tau² by ~2e-5 and R's default (7) by up to
#: ~1.5e-2 (see tests/reference/README.md). With large tau and several 100 % reports the
#: posterior of a report's random effect is far from normal and 50 points are not quite enough,
#: hence 100.
DEFAULT_NAGQ = 100
_TAU_MAX = 20.0  # logit scale; an SD of 20 means "anything goes"

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


# --------------------------------------------------------------------------------------------
# input checking


def _counts(
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


def _expit(v: float) -> float:
    return float(special.expit(v))


# --------------------------------------------------------------------------------------------
# single proportions


def clopper_pearson(events: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) confidence interval, identical to R's ``binom.test``."""
    x, m = _counts([events], [n])
    x0, n0 = float(x[0]), float(m[0])
    alpha = 1.0 - level
    lo = 0.0 if x0 == 0 else float(special.betaincinv(x0, n0 - x0 + 1, alpha / 2))
    hi = 1.0 if x0 == n0 else float(special.betaincinv(x0 + 1, n0 - x0, 1 - alpha / 2))
    return lo, hi


def wilson(events: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (no continuity correction), as R's ``prop.test(correct=FALSE)``."""
    x, m = _counts([events], [n])
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
    x, m = _counts(events, n)
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
    x, m = _counts(events, n)
    if x.size == 0:
        return _empty()
    tx, tn = int(x.sum()), int(m.sum())
    lo, hi = clopper_pearson(tx, tn, level)
    return PooledEstimate(METHOD_CRUDE, int(x.size), tn, tx, tx / tn, lo, hi)


def _empty() -> PooledEstimate:
    return PooledEstimate(METHOD_NONE, 0, 0, 0, None, None, None, note="no reports")


def _single(x: np.ndarray, m: np.ndarray, level: float) -> PooledEstimate:
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


# --------------------------------------------------------------------------------------------
# heterogeneity helpers


def _plo_escalc(x: np.ndarray, m: np.ndarray, add: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Logit and its variance, adding ``add`` to both cells of reports with 0 or all events."""
    a = x.copy()
    b = m - x
    zero = (a == 0) | (b == 0)
    a[zero] += add
    b[zero] += add
    return np.log(a / b), 1.0 / a + 1.0 / b


def _pft_escalc(x: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


# --------------------------------------------------------------------------------------------
# inverse-variance random-effects pooling


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


def _transf_pft(p: float, n: float) -> float:
    """metafor's ``transf.pft``: proportion -> double arcsine at sample size n."""
    x = p * n
    return 0.5 * (math.asin(math.sqrt(x / (n + 1))) + math.asin(math.sqrt((x + 1) / (n + 1))))


def ipft_hm(t: float, n_harmonic: float) -> tuple[float, bool]:
    """Miller's (1978) inverse of the double arcsine at the harmonic mean n.

    Returns (proportion, clamped) where ``clamped`` says the value lay outside the range of the
    transform (below ``t(0)`` or above ``t(1)`` for that n) and was set to 0 or 1, as metafor's
    ``transf.ipft.hm`` does.
    """
    if t > _transf_pft(1.0, n_harmonic):
        return 1.0, True
    if t < _transf_pft(0.0, n_harmonic):
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
    x, m = _counts(events, n)
    if x.size == 0:
        return _empty()
    if x.size == 1:
        return _single(x, m, level)
    z = float(special.ndtri(0.5 + level / 2))
    if measure == "PLO":
        yi, vi = _plo_escalc(x, m)
    else:
        yi, vi = _pft_escalc(x, m)
    tau2 = _tau2_dl(yi, vi) if tau2_method == "DL" else _tau2_reml(yi, vi)
    w = 1.0 / (vi + tau2)
    mu = float(np.sum(w * yi) / w.sum())
    se = float(math.sqrt(1.0 / w.sum()))
    bounds = (mu - z * se, mu + z * se, mu - z * math.sqrt(se**2 + tau2), mu + z * math.sqrt(se**2 + tau2))
    clamped = False
    note = ""
    if measure == "PLO":
        est, lo, hi, plo, phi = (_expit(v) for v in (mu, *bounds))
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


# --------------------------------------------------------------------------------------------
# binomial-normal GLMM


@lru_cache(maxsize=16)
def _hermgauss(nagq: int) -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = np.polynomial.hermite.hermgauss(nagq)
    # integral of f(z) phi(z) dz over a N(m, s^2)-shaped integrand: nodes scaled by sqrt(2)
    return nodes, np.log(weights) + nodes**2


def _log_binom_coef(x: np.ndarray, m: np.ndarray) -> float:
    return float(np.sum(special.gammaln(m + 1) - special.gammaln(x + 1) - special.gammaln(m - x + 1)))


def glmm_loglik(
    mu: float | np.ndarray,
    tau: float,
    events: Sequence[int],
    n: Sequence[int],
    nagq: int = DEFAULT_NAGQ,
    design: np.ndarray | None = None,
) -> float:
    """Marginal log-likelihood of the random-intercept logistic model (with binomial coefficients).

    ``mu`` is the intercept, or a coefficient vector when ``design`` (k × p) is given.
    """
    x, m = _counts(events, n)
    lin = _linear(mu, design, x.size)
    return _loglik_lin(lin, tau, x, m, nagq)


def _linear(beta: float | np.ndarray, design: np.ndarray | None, k: int) -> np.ndarray:
    if design is None:
        return np.full(k, float(np.asarray(beta).ravel()[0]))
    return np.asarray(design, float) @ np.asarray(beta, float).ravel()


def _loglik_lin(lin: np.ndarray, tau: float, x: np.ndarray, m: np.ndarray, nagq: int) -> float:
    # each report has its own offset; the adaptive nodes are per report, so pass mu = 0 and shift
    _, logw, _ = _posterior_nodes_offset(lin, abs(tau), x, m, nagq)
    return float(np.sum(_logsumexp_rows(logw)) + _log_binom_coef(x, m))


def _logsumexp_rows(a: np.ndarray, keepdims: bool = False) -> np.ndarray:
    """Row-wise log-sum-exp; plain numpy because scipy's array-API version costs ~0.3 ms a call here."""
    top = a.max(axis=1, keepdims=True)
    out = top + np.log(np.exp(a - top).sum(axis=1, keepdims=True))
    return out if keepdims else out[:, 0]


_MODE_START: dict[tuple[bytes, bytes], np.ndarray] = {}


def _mode(lin: np.ndarray, tau: float, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Conditional mode of ``g(z) = x*eta - n*log(1+e^eta) - z²/2`` with ``eta = lin + tau*z``.

    ``g'`` is strictly decreasing with its root in ``[tau*(x-n), tau*x]``; Newton steps that
    leave the current bracket are replaced by bisection, so this always converges.
    """
    if tau == 0.0:
        return np.zeros_like(x)
    lo = tau * (x - m)
    hi = tau * x
    # Warm start from the last mode found for the same reports: successive calls during a fit differ
    # only slightly in lin and tau, so Newton then needs 2-3 steps instead of ~15. Convergence is unchanged.
    key = (x.tobytes(), m.tobytes())
    start = _MODE_START.get(key)
    z = np.clip(start if start is not None else np.zeros_like(x), lo, hi)
    for _ in range(200):
        p = special.expit(lin + tau * z)
        grad = tau * (x - m * p) - z
        lo = np.where(grad > 0, z, lo)
        hi = np.where(grad < 0, z, hi)
        hess = -(tau * tau) * m * p * (1 - p) - 1.0
        new = z - grad / hess
        bad = (new <= lo) | (new >= hi)
        new = np.where(bad, 0.5 * (lo + hi), new)
        done = np.max(np.abs(new - z)) < 1e-12 * (1 + np.max(np.abs(z)))
        z = new
        if done:
            break
    if len(_MODE_START) > 256:
        _MODE_START.clear()
    _MODE_START[key] = z
    return z


def _posterior_nodes_offset(
    lin: np.ndarray, tau: float, x: np.ndarray, m: np.ndarray, nagq: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As :func:`_posterior_nodes` with a per-report linear predictor ``lin``."""
    nodes, logw0 = _hermgauss(nagq)
    zhat = _mode(lin, tau, x, m)
    p = special.expit(lin + tau * zhat)
    sigma = 1.0 / np.sqrt((tau * tau) * m * p * (1 - p) + 1.0)
    z = zhat[:, None] + math.sqrt(2.0) * sigma[:, None] * nodes[None, :]
    eta = lin[:, None] + tau * z
    g = x[:, None] * eta - m[:, None] * np.logaddexp(0.0, eta) - 0.5 * z * z - 0.5 * math.log(2 * math.pi)
    logw = logw0[None, :] + np.log(math.sqrt(2.0) * sigma)[:, None] + g
    return z, logw, eta


def _moments(lin: np.ndarray, tau: float, x: np.ndarray, m: np.ndarray, nagq: int):
    """Per-report posterior expectations needed for the gradient and Hessian.

    With ``h(eta) = x*eta - n*log(1+e^eta)``, ``d log L_i / d lin_i = E[h']`` and
    ``d log L_i / d tau = E[h' z]``; second derivatives add the posterior (co)variances.
    """
    z, logw, eta = _posterior_nodes_offset(lin, tau, x, m, nagq)
    lse = _logsumexp_rows(logw, keepdims=True)
    w = np.exp(logw - lse)
    p = special.expit(eta)
    h1 = x[:, None] - m[:, None] * p
    h2 = -m[:, None] * p * (1 - p)
    e_h1 = np.sum(w * h1, axis=1)
    e_h1z = np.sum(w * h1 * z, axis=1)
    d_ll = e_h1
    d_tt = e_h1z
    d2_ll = np.sum(w * (h2 + h1 * h1), axis=1) - e_h1**2
    d2_lt = np.sum(w * (h2 * z + h1 * h1 * z), axis=1) - e_h1 * e_h1z
    d2_tt = np.sum(w * (h2 * z * z + (h1 * z) ** 2), axis=1) - e_h1z**2
    return d_ll, d_tt, d2_ll, d2_lt, d2_tt, float(np.sum(lse))


@dataclass(frozen=True)
class _GlmmFit:
    beta: np.ndarray
    tau: float
    loglik: float
    cov_beta: np.ndarray
    converged: bool
    boundary: bool


def _fit_beta_given_tau(
    tau: float, x: np.ndarray, m: np.ndarray, design: np.ndarray, nagq: int, beta0: np.ndarray
) -> tuple[np.ndarray, float, bool]:
    """Newton–Raphson for the fixed effects at fixed tau (log-likelihood is concave in beta)."""
    beta = beta0.copy()
    ll_old = -np.inf
    for _ in range(200):
        lin = design @ beta
        d_ll, _, d2_ll, _, _, ll = _moments(lin, tau, x, m, nagq)
        grad = design.T @ d_ll
        hess = design.T @ (d2_ll[:, None] * design)
        try:
            step = np.linalg.solve(hess, -grad)
        except np.linalg.LinAlgError:
            step = grad * 0.1
        # step halving keeps the iteration monotone
        t = 1.0
        while t > 1e-8:
            cand = beta + t * step
            ll_c = _loglik_lin(design @ cand, tau, x, m, nagq)
            if ll_c >= ll - 1e-12 or not np.isfinite(ll):
                break
            t /= 2
        beta = cand
        if np.max(np.abs(t * step)) < 1e-11 or abs(ll_c - ll_old) < 1e-14:
            return beta, ll_c, True
        ll_old = ll_c
        if np.max(np.abs(beta)) > 50:  # divergence to +-infinity (all or no events)
            return beta, ll_c, False
    return beta, _loglik_lin(design @ beta, tau, x, m, nagq), False


def _grad_hess(beta: np.ndarray, tau: float, x, m, design, nagq):
    d_ll, d_tt, d2_ll, d2_lt, d2_tt, _ = _moments(design @ beta, tau, x, m, nagq)
    p = design.shape[1]
    g = np.concatenate([design.T @ d_ll, [np.sum(d_tt)]])
    h = np.zeros((p + 1, p + 1))
    h[:p, :p] = design.T @ (d2_ll[:, None] * design)
    h[:p, p] = h[p, :p] = design.T @ d2_lt
    h[p, p] = np.sum(d2_tt)
    return g, h


def _polish(beta, tau, ll, x, m, design, nagq):
    """Newton steps on (beta, tau) with the analytic gradient: the profile search over tau is
    limited by the flatness of the log-likelihood, the gradient is not."""
    p = design.shape[1]
    for _ in range(30):
        g, h = _grad_hess(beta, tau, x, m, design, nagq)
        try:
            step = np.linalg.solve(h, -g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.any(np.linalg.eigvalsh(h) >= 0):
            break
        t = 1.0
        while t > 1e-6:
            cand_b, cand_t = beta + t * step[:p], tau + t * step[p]
            if cand_t > 0:
                ll_c = _loglik_lin(design @ cand_b, cand_t, x, m, nagq)
                if ll_c >= ll - 1e-12:
                    break
            t /= 2
        else:
            break
        beta, tau, ll = cand_b, cand_t, ll_c
        if np.max(np.abs(t * step)) < 1e-12:
            break
    return beta, tau, ll


def _fit_glmm(x: np.ndarray, m: np.ndarray, design: np.ndarray, nagq: int) -> _GlmmFit:
    """ML fit of beta and tau >= 0: profile the log-likelihood over tau (bounded Brent)."""
    # start at the logit of the crude proportion in every column's least-squares sense
    a, b = x + 0.5, m - x + 0.5
    beta0 = np.linalg.lstsq(design, np.log(a / b), rcond=None)[0]
    cache: dict[float, tuple[np.ndarray, float, bool]] = {}

    def profile(tau: float) -> float:
        tau = float(tau)
        if tau not in cache:
            start = cache[min(cache, key=lambda t: abs(t - tau))][0] if cache else beta0
            cache[tau] = _fit_beta_given_tau(tau, x, m, design, nagq, start)
        return -cache[tau][1]

    # coarse grid to bracket the maximum (the profile is usually unimodal), then Brent
    grid = [0.0, 0.1, 0.3, 0.6, 1.0, 1.6, 2.5, 4.0]
    vals = [profile(t) for t in grid]
    while int(np.argmin(vals)) == len(grid) - 1 and grid[-1] < _TAU_MAX:
        grid.append(min(grid[-1] * 2, _TAU_MAX))
        vals.append(profile(grid[-1]))
    grid, vals = np.array(grid), np.array(vals)
    i = int(np.argmin(vals))
    lo = grid[max(i - 1, 0)]
    hi = grid[min(i + 1, grid.size - 1)]
    from scipy import optimize  # imported on use, see _tau2_reml

    res = optimize.minimize_scalar(profile, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    tau = float(res.x)
    # the log-likelihood is even in tau, so near 0 it is flat: snap to the boundary when
    # Brent ends next to it without a better value
    if tau < 1e-4 and profile(0.0) >= profile(tau) - 1e-9:
        tau = 0.0
    if grid[-1] >= _TAU_MAX and vals[-1] <= profile(tau):
        tau = _TAU_MAX
    beta, ll, converged = cache[tau]
    boundary = tau == 0.0
    if not boundary and tau < _TAU_MAX:
        beta, tau, ll = _polish(beta, tau, ll, x, m, design, nagq)
    # observed information of (beta, tau); at tau = 0 the cross terms vanish by symmetry
    lin = design @ beta
    _, _, d2_ll, d2_lt, d2_tt, _ = _moments(lin, tau, x, m, nagq)
    p = design.shape[1]
    info = np.zeros((p + 1, p + 1))
    info[:p, :p] = -(design.T @ (d2_ll[:, None] * design))
    if boundary:
        cov = np.linalg.inv(info[:p, :p])
    else:
        info[:p, p] = info[p, :p] = -(design.T @ d2_lt)
        info[p, p] = -float(np.sum(d2_tt))
        try:
            cov = np.linalg.inv(info)[:p, :p]
        except np.linalg.LinAlgError:
            cov = np.linalg.inv(info[:p, :p])
    ll_full = ll + 0.0  # _loglik_lin already adds the binomial coefficients
    return _GlmmFit(beta, tau, ll_full, cov, converged and tau < _TAU_MAX, boundary)


def _crude_instead(x: np.ndarray, m: np.ndarray, level: float, note: str) -> PooledEstimate:
    """The crude proportion with its exact CI, flagged, where the GLMM has no finite estimate."""
    crude = crude_pooled(x, m, level)
    return PooledEstimate(
        method=f"{METHOD_CRUDE} (GLMM not estimable)",
        k=int(x.size),
        n_patients=crude.n_patients,
        n_events=crude.n_events,
        estimate=crude.estimate,
        ci_low=crude.ci_low,
        ci_high=crude.ci_high,
        clamped=True,
        note=note,
    )


def pool_glmm(
    events: Sequence[int], n: Sequence[int], level: float = 0.95, nagq: int = DEFAULT_NAGQ
) -> PooledEstimate:
    """Random-intercept logistic GLMM (the primary estimate), as ``metafor::rma.glmm(measure="PLO")``.

    ML estimation with the marginal likelihood integrated by adaptive Gauss–Hermite quadrature
    with ``nagq`` points per report; tau is profiled on [0, 20] so tau² = 0 is reachable. When
    every report has 100 % (or 0 %) responders the ML estimate lies at infinity: the crude
    proportion with its exact CI is returned, ``clamped=True`` and the note says why.
    """
    x, m = _counts(events, n)
    k = int(x.size)
    if k == 0:
        return _empty()
    if k == 1:
        return _single(x, m, level)
    if np.all((x == m) | (x == 0)):
        if np.all(x == m):
            why = "every report has 100 % responders: the GLMM estimate lies at the boundary"
        elif np.all(x == 0):
            why = "no report has any responder: the GLMM estimate lies at the boundary"
        else:
            why = "every report has 0 % or 100 % responders: the between-report variance is unbounded"
        return _crude_instead(x, m, level, f"{why}; crude proportion with exact CI shown instead")
    z = float(special.ndtri(0.5 + level / 2))
    fit = _fit_glmm(x, m, np.ones((k, 1)), nagq)
    mu = float(fit.beta[0])
    var = float(fit.cov_beta[0, 0])
    if not (fit.tau < _TAU_MAX and math.isfinite(var) and var > 0 and abs(mu) < 40):
        return _crude_instead(
            x,
            m,
            level,
            "the GLMM fit ran to the edge of the parameter space; crude proportion with exact CI shown",
        )
    se = math.sqrt(var)
    tau2 = float(fit.tau) ** 2
    _, vi = _plo_escalc(x, m)
    notes = []
    if fit.boundary:
        notes.append("tau² estimated at its boundary 0")
    if not fit.converged:
        notes.append("GLMM fit did not converge cleanly; treat with caution")
    return PooledEstimate(
        method=METHOD_GLMM,
        k=k,
        n_patients=int(m.sum()),
        n_events=int(x.sum()),
        estimate=_expit(mu),
        ci_low=_expit(mu - z * se),
        ci_high=_expit(mu + z * se),
        tau2=float(tau2),
        i2=i2_typical(tau2, vi),
        pi_low=_expit(mu - z * math.sqrt(se**2 + tau2)),
        pi_high=_expit(mu + z * math.sqrt(se**2 + tau2)),
        mu=mu,
        se=se,
        clamped=False,
        note="; ".join(notes),
    )


def glmm_fit_details(
    events: Sequence[int], n: Sequence[int], nagq: int = DEFAULT_NAGQ, design: np.ndarray | None = None
) -> dict[str, Any]:
    """Raw ML fit (coefficients, tau, log-likelihood, covariance) for checks and tests."""
    x, m = _counts(events, n)
    d = np.ones((x.size, 1)) if design is None else np.asarray(design, float)
    fit = _fit_glmm(x, m, d, nagq)
    return {
        "beta": fit.beta.tolist(),
        "tau": float(fit.tau),
        "tau2": float(fit.tau**2),
        "loglik": fit.loglik,
        "cov_beta": fit.cov_beta.tolist(),
        "converged": bool(fit.converged),
        "boundary": bool(fit.boundary),
    }


# --------------------------------------------------------------------------------------------
# dispatch, subgroups, cumulative


POOLERS = {
    "glmm": lambda x, m, level: pool_glmm(x, m, level),
    "crude": lambda x, m, level: crude_pooled(x, m, level),
    "plo-dl": lambda x, m, level: pool_inverse_variance(x, m, "PLO", "DL", level),
    "plo-reml": lambda x, m, level: pool_inverse_variance(x, m, "PLO", "REML", level),
    "pft-dl": lambda x, m, level: pool_inverse_variance(x, m, "PFT", "DL", level),
    "pft-reml": lambda x, m, level: pool_inverse_variance(x, m, "PFT", "REML", level),
}


def pool(
    events: Sequence[int], n: Sequence[int], method: str = "glmm", level: float = 0.95
) -> PooledEstimate:
    """Pool with one of :data:`POOLERS` (``glmm`` is the primary method)."""
    try:
        fn = POOLERS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(POOLERS)}") from None
    return fn(events, n, level)


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
    x, m = _counts(events, n)
    g = np.asarray(list(groups), dtype=object)
    if g.size != x.size:
        raise ValueError(f"groups must have one entry per report (got {g.size} for {x.size})")
    levels = sorted(set(g.tolist()), key=str)
    design = np.column_stack([(g == lv).astype(float) for lv in levels])
    full = _fit_glmm(x, m, design, nagq)
    null = _fit_glmm(x, m, np.ones((x.size, 1)), nagq)
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


def cumulative_by_year(
    events: Sequence[int], n: Sequence[int], years: Sequence[int], method: str = "glmm", level: float = 0.95
) -> list[dict[str, Any]]:
    """Cumulative meta-analysis: the pooled estimate using all reports published up to each year.

    One dict per distinct year (ascending) with ``year``, ``k`` and the pooled estimate's fields.
    """
    x, m = _counts(events, n)
    yrs = np.asarray(list(years))
    if yrs.size != x.size:
        raise ValueError(f"years must have one entry per report (got {yrs.size} for {x.size})")
    out = []
    for year in sorted(set(yrs.tolist())):
        keep = yrs <= year
        est = pool(x[keep], m[keep], method, level)
        out.append({"year": int(year), **est.to_dict()})
    return out
