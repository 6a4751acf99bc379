"""The pooling methods by name, for callers that let the reader choose one."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from types import MappingProxyType

from livingreview.stats.estimate import PooledEstimate
from livingreview.stats.glmm import pool_glmm
from livingreview.stats.inverse_variance import pool_inverse_variance
from livingreview.stats.proportions import crude_pooled

#: Name -> function of (events, n, level=...); ``glmm`` is the primary method. Read-only.
POOLERS = MappingProxyType(
    {
        "glmm": pool_glmm,
        "crude": crude_pooled,
        "plo-dl": partial(pool_inverse_variance, measure="PLO", tau2_method="DL"),
        "plo-reml": partial(pool_inverse_variance, measure="PLO", tau2_method="REML"),
        "pft-dl": partial(pool_inverse_variance, measure="PFT", tau2_method="DL"),
        "pft-reml": partial(pool_inverse_variance, measure="PFT", tau2_method="REML"),
    }
)


def pool(
    events: Sequence[int], n: Sequence[int], method: str = "glmm", level: float = 0.95
) -> PooledEstimate:
    """Pool with one of :data:`POOLERS`."""
    try:
        fn = POOLERS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(POOLERS)}") from None
    return fn(events, n, level=level)
