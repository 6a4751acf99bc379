"""Proportions and meta-analysis of proportions for small case-report evidence.

Everything here is a pure function of event counts (``events``) and group sizes (``n``), one
entry per *report* (the pooling unit), on numpy arrays: no data frames, rendering or files.

* :mod:`~livingreview.stats.estimate`: :class:`PooledEstimate`, the result of every method;
* :mod:`~livingreview.stats.proportions`: input checks, exact and Wilson CIs, crude pooling;
* :mod:`~livingreview.stats.inverse_variance`: logit and double-arcsine pooling (sensitivity
  analyses), tau² estimators, I²;
* :mod:`~livingreview.stats.glmm_likelihood`: the GLMM's marginal likelihood by adaptive
  Gauss–Hermite quadrature;
* :mod:`~livingreview.stats.glmm`: the GLMM fit, the primary pooled estimate;
* :mod:`~livingreview.stats.methods`: the methods by name (:data:`POOLERS`, :func:`pool`);
* :mod:`~livingreview.stats.subgroups`: per-subgroup estimates and the test of their difference;
* :mod:`~livingreview.stats.cumulative`: the pooled estimate year by year.
"""

from livingreview.stats.cumulative import cumulative_by_year
from livingreview.stats.estimate import (
    METHOD_CRUDE,
    METHOD_GLMM,
    METHOD_NONE,
    METHOD_SINGLE,
    Z95,
    PooledEstimate,
    expit,
)
from livingreview.stats.glmm import glmm_fit_details, pool_glmm
from livingreview.stats.glmm_likelihood import DEFAULT_NAGQ, glmm_loglik
from livingreview.stats.inverse_variance import i2_typical, ipft_hm, pool_inverse_variance, transf_pft
from livingreview.stats.methods import POOLERS, pool
from livingreview.stats.proportions import clopper_pearson, crude_pooled, proportion_table, wilson
from livingreview.stats.subgroups import SubgroupResult, subgroup_analysis, subgroup_lrt

__all__ = [
    "DEFAULT_NAGQ",
    "METHOD_CRUDE",
    "METHOD_GLMM",
    "METHOD_NONE",
    "METHOD_SINGLE",
    "POOLERS",
    "Z95",
    "PooledEstimate",
    "SubgroupResult",
    "clopper_pearson",
    "crude_pooled",
    "cumulative_by_year",
    "expit",
    "glmm_fit_details",
    "glmm_loglik",
    "i2_typical",
    "ipft_hm",
    "pool",
    "pool_glmm",
    "pool_inverse_variance",
    "proportion_table",
    "subgroup_analysis",
    "subgroup_lrt",
    "transf_pft",
    "wilson",
]
