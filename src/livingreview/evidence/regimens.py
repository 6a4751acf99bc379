"""Classify IVIG regimens the way the sources and the subgroup analyses do.

Doses are per cycle in g/kg; a case group's regimen is a range (``*_min`` to ``*_max``) when the source gives
one. A range in a single-patient group describes successive cycles of that patient; in a larger group it may
also describe different patients, so a group whose range straddles a cut-off is left unclassified.
"""

from __future__ import annotations

import pandas as pd

HIGH_DOSE_PER_CYCLE = 2.0  # g/kg per cycle: the usual "high-dose" immunomodulatory course
CONVENTIONAL_DAILY_MAX = 0.5  # g/kg/day: 0.4-0.5 g/kg/day is the conventional infusion rate
_TOL = 1e-9

DOSE_HIGH = ">= 2 g/kg per cycle"
DOSE_LOW = "< 2 g/kg per cycle"
DAILY_HIGH = "> 0.5 g/kg per day"
DAILY_CONVENTIONAL = "<= 0.5 g/kg per day"
UNCLASSIFIED = "not classifiable"


def dose_group(cases: pd.DataFrame) -> pd.Series:
    """``>= 2 g/kg per cycle``, ``< 2 g/kg per cycle`` or ``not classifiable`` (unknown or straddling)."""
    lo = cases["dose_g_kg_min"].astype("Float64")
    hi = cases["dose_g_kg_max"].astype("Float64")
    out = pd.Series(UNCLASSIFIED, index=cases.index, dtype="string")
    out[(lo >= HIGH_DOSE_PER_CYCLE - _TOL).fillna(False)] = DOSE_HIGH
    out[(hi < HIGH_DOSE_PER_CYCLE - _TOL).fillna(False)] = DOSE_LOW
    return out


def daily_dose_range(cases: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Lowest and highest daily dose (g/kg/day) the regimen allows: dose range divided by the days range."""
    lo = cases["dose_g_kg_min"].astype("Float64") / cases["days_per_cycle_max"].astype("Float64")
    hi = cases["dose_g_kg_max"].astype("Float64") / cases["days_per_cycle_min"].astype("Float64")
    return lo, hi


def daily_dose_group(cases: pd.DataFrame) -> pd.Series:
    """``> 0.5 g/kg per day``, ``<= 0.5 g/kg per day`` or ``not classifiable``.

    High when every allowed daily dose exceeds 0.5 g/kg, or when a single patient received more than
    0.5 g/kg/day in some cycle; conventional when no cycle exceeded 0.5 g/kg/day.
    """
    lo, hi = daily_dose_range(cases)
    single = cases["n_patients"].astype("Int64") == 1
    out = pd.Series(UNCLASSIFIED, index=cases.index, dtype="string")
    high = (lo > CONVENTIONAL_DAILY_MAX + _TOL) | (single & (hi > CONVENTIONAL_DAILY_MAX + _TOL))
    out[high.fillna(False)] = DAILY_HIGH
    out[(hi <= CONVENTIONAL_DAILY_MAX + _TOL).fillna(False)] = DAILY_CONVENTIONAL
    return out
