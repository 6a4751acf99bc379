"""The primary pooled estimate: the random-intercept logistic model (binomial-normal GLMM).

Case-report evidence is awkward: reports are tiny and most report 100 % responders. The GLMM
(Stijnen, Hamza & Özdemir 2010) uses the exact binomial likelihood of every report, so it needs
no continuity correction and handles reports with 0 % or 100 % responders. It is fitted by
maximum likelihood, the marginal likelihood integrated by adaptive Gauss–Hermite quadrature
(:mod:`livingreview.stats.glmm_likelihood`). The conventions follow R's
``metafor::rma.glmm(measure="PLO")``:

* 95 % CI: Wald interval on the logit scale (``mu ± z·se``), back-transformed; ``se`` is taken
  from the inverse of the observed information of (mu, tau), as ``lme4`` does;
* tau²: ML estimate of the between-report variance on the logit scale, bounded at 0;
* I²: ``tau² / (tau² + s²)`` where ``s²`` is the "typical" within-report variance
  (Higgins & Thompson 2002) of the logit, computed from ``1/(x) + 1/(n-x)`` with 0.5 added to
  both cells of reports with 0 or all events (metafor's ``add=1/2, to="only0"``);
* 95 % prediction interval: ``mu ± z·sqrt(se² + tau²)``, back-transformed (``predict()``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from livingreview.stats.estimate import METHOD_CRUDE, METHOD_GLMM, PooledEstimate, expit, no_reports
from livingreview.stats.glmm_likelihood import DEFAULT_NAGQ, MarginalLikelihood
from livingreview.stats.inverse_variance import i2_typical, logit_escalc
from livingreview.stats.memo import memoized
from livingreview.stats.proportions import checked_counts, crude_pooled, single_report

_TAU_MAX = 20.0  # logit scale; an SD of 20 means "anything goes"


@dataclass(frozen=True)
class GlmmFit:
    beta: np.ndarray
    tau: float
    loglik: float
    cov_beta: np.ndarray
    converged: bool
    boundary: bool


def _fit_beta_given_tau(
    lik: MarginalLikelihood, tau: float, design: np.ndarray, beta0: np.ndarray
) -> tuple[np.ndarray, float, bool]:
    """Newton–Raphson for the fixed effects at fixed tau (log-likelihood is concave in beta)."""
    beta = beta0.copy()
    ll_old = -np.inf
    for _ in range(200):
        lin = design @ beta
        d_ll, _, d2_ll, _, _, ll = lik.moments(lin, tau)
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
            ll_c = lik.loglik(design @ cand, tau)
            if ll_c >= ll - 1e-12 or not np.isfinite(ll):
                break
            t /= 2
        beta = cand
        if np.max(np.abs(t * step)) < 1e-11 or abs(ll_c - ll_old) < 1e-14:
            return beta, ll_c, True
        ll_old = ll_c
        if np.max(np.abs(beta)) > 50:  # divergence to +-infinity (all or no events)
            return beta, ll_c, False
    return beta, lik.loglik(design @ beta, tau), False


def _grad_hess(lik: MarginalLikelihood, beta: np.ndarray, tau: float, design: np.ndarray):
    d_ll, d_tt, d2_ll, d2_lt, d2_tt, _ = lik.moments(design @ beta, tau)
    p = design.shape[1]
    g = np.concatenate([design.T @ d_ll, [np.sum(d_tt)]])
    h = np.zeros((p + 1, p + 1))
    h[:p, :p] = design.T @ (d2_ll[:, None] * design)
    h[:p, p] = h[p, :p] = design.T @ d2_lt
    h[p, p] = np.sum(d2_tt)
    return g, h


def _polish(lik: MarginalLikelihood, beta: np.ndarray, tau: float, ll: float, design: np.ndarray):
    """Newton steps on (beta, tau) with the analytic gradient: the profile search over tau is
    limited by the flatness of the log-likelihood, the gradient is not."""
    p = design.shape[1]
    for _ in range(30):
        g, h = _grad_hess(lik, beta, tau, design)
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
                ll_c = lik.loglik(design @ cand_b, cand_t)
                if ll_c >= ll - 1e-12:
                    break
            t /= 2
        else:
            break
        beta, tau, ll = cand_b, cand_t, ll_c
        if np.max(np.abs(t * step)) < 1e-12:
            break
    return beta, tau, ll


@memoized
def fit_glmm(x: np.ndarray, m: np.ndarray, design: np.ndarray, nagq: int) -> GlmmFit:
    """ML fit of beta and tau >= 0: profile the log-likelihood over tau (bounded Brent)."""
    lik = MarginalLikelihood(x, m, nagq)
    # start at the logit of the crude proportion in every column's least-squares sense
    a, b = x + 0.5, m - x + 0.5
    beta0 = np.linalg.lstsq(design, np.log(a / b), rcond=None)[0]
    fits: dict[float, tuple[np.ndarray, float, bool]] = {}

    def profile(tau: float) -> float:
        tau = float(tau)
        if tau not in fits:
            start = fits[min(fits, key=lambda t: abs(t - tau))][0] if fits else beta0
            fits[tau] = _fit_beta_given_tau(lik, tau, design, start)
        return -fits[tau][1]

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
    from scipy import optimize  # imported on use: it costs ~0.3 s, and most pages never pool

    res = optimize.minimize_scalar(profile, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    tau = float(res.x)
    # the log-likelihood is even in tau, so near 0 it is flat: snap to the boundary when
    # Brent ends next to it without a better value
    if tau < 1e-4 and profile(0.0) >= profile(tau) - 1e-9:
        tau = 0.0
    if grid[-1] >= _TAU_MAX and vals[-1] <= profile(tau):
        tau = _TAU_MAX
    beta, ll, converged = fits[tau]
    boundary = tau == 0.0
    if not boundary and tau < _TAU_MAX:
        beta, tau, ll = _polish(lik, beta, tau, ll, design)
    # observed information of (beta, tau); at tau = 0 the cross terms vanish by symmetry
    _, _, d2_ll, d2_lt, d2_tt, _ = lik.moments(design @ beta, tau)
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
    return GlmmFit(beta, tau, ll, cov, converged and tau < _TAU_MAX, boundary)


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
    x, m = checked_counts(events, n)
    k = int(x.size)
    if k == 0:
        return no_reports()
    if k == 1:
        return single_report(x, m, level)
    if np.all((x == m) | (x == 0)):
        if np.all(x == m):
            why = "every report has 100 % responders: the GLMM estimate lies at the boundary"
        elif np.all(x == 0):
            why = "no report has any responder: the GLMM estimate lies at the boundary"
        else:
            why = "every report has 0 % or 100 % responders: the between-report variance is unbounded"
        return _crude_instead(x, m, level, f"{why}; crude proportion with exact CI shown instead")
    z = float(special.ndtri(0.5 + level / 2))
    fit = fit_glmm(x, m, np.ones((k, 1)), nagq)
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
    _, vi = logit_escalc(x, m)
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
        estimate=expit(mu),
        ci_low=expit(mu - z * se),
        ci_high=expit(mu + z * se),
        tau2=float(tau2),
        i2=i2_typical(tau2, vi),
        pi_low=expit(mu - z * math.sqrt(se**2 + tau2)),
        pi_high=expit(mu + z * math.sqrt(se**2 + tau2)),
        mu=mu,
        se=se,
        clamped=False,
        note="; ".join(notes),
    )


def glmm_fit_details(events: Sequence[int], n: Sequence[int], nagq: int = DEFAULT_NAGQ) -> dict[str, Any]:
    """Raw ML fit of the intercept-only model (coefficient, tau, log-likelihood, covariance) for checks."""
    x, m = checked_counts(events, n)
    fit = fit_glmm(x, m, np.ones((x.size, 1)), nagq)
    return {
        "beta": fit.beta.tolist(),
        "tau": float(fit.tau),
        "tau2": float(fit.tau**2),
        "loglik": fit.loglik,
        "cov_beta": fit.cov_beta.tolist(),
        "converged": bool(fit.converged),
        "boundary": bool(fit.boundary),
    }
