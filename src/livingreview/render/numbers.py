"""Numbers as readers see them: percentages, intervals, ranges, counted nouns. One formatter per idea."""

from __future__ import annotations

import numpy as np
import pandas as pd

from livingreview import stats

NA_TEXT = "—"


class Text(str):
    """A string whose plain-text representation has no quotes, so ``{glue:text}`` shows it as is."""

    def __repr__(self) -> str:
        return str(self)


def _missing(value) -> bool:
    return value is None or bool(pd.isna(value))


def pct_number(p: float | None, digits: int = 1, missing: str = NA_TEXT) -> str:
    """A proportion as a number of percent, without the sign: 0.95 -> '95.0' (table cells, chart labels)."""
    return missing if _missing(p) else f"{100 * p:.{digits}f}"


def pct(p: float | None, digits: int = 1, missing: str = NA_TEXT) -> str:
    """A proportion as a percentage: 0.95 -> '95.0 %'; unknown -> '—'."""
    return missing if _missing(p) else f"{pct_number(p, digits)} %"


def pct_interval(lo: float | None, hi: float | None, digits: int = 1, missing: str = NA_TEXT) -> str:
    """An interval of proportions: '87.4–98.1 %'; unknown -> '—'."""
    if _missing(lo) or _missing(hi):
        return missing
    return f"{pct_number(lo, digits)}–{pct_number(hi, digits)} %"


def estimate_interval(
    est: float | None, lo: float | None, hi: float | None, digits: int = 1, missing: str = NA_TEXT
) -> str:
    """An estimate with its interval: '95.0 % (87.4–98.1 %)'; the estimate alone when the interval is
    unknown; ``missing`` when the estimate is."""
    if _missing(est):
        return missing
    interval = pct_interval(lo, hi, digits, missing="")
    return pct(est, digits) + (f" ({interval})" if interval else "")


def describe_pooled(result: stats.PooledEstimate, digits: int = 1) -> str:
    """One phrase for prose: '95.0 % (95 % CI 87.4–98.1 %)', with the caveat when not pooled."""
    if result.k == 0 or result.estimate is None:
        return "not estimable (no report gives responders)"
    text = f"{pct(result.estimate, digits)} (95 % CI {pct_interval(result.ci_low, result.ci_high, digits)})"
    return f"{text}, from a single report (not pooled)" if result.k == 1 else text


def format_range(lo: float | None, hi: float | None, unit: str = "") -> str:
    """'2', '2–3' or '' for unknown, with an optional unit: how regimens are shown."""
    lo, hi = (hi if _missing(lo) else lo), (lo if _missing(hi) else hi)
    if _missing(lo):
        return ""
    text = f"{lo:g}" if np.isclose(lo, hi) else f"{lo:g}–{hi:g}"
    return f"{text} {unit}".strip()


def with_sd(value: float | None, sd: float | None = None) -> str:
    """'12', or '12 ± 3' with a standard deviation; '—' when the value is unknown."""
    if _missing(value):
        return NA_TEXT
    return f"{float(value):g} ± {float(sd):g}" if not _missing(sd) else f"{float(value):g}"


def plain(value: float) -> int | float:
    """12.0 -> 12, so that quoted numbers read as the source wrote them."""
    return int(value) if float(value).is_integer() else float(value)


def plural(noun: str, n: int) -> str:
    if n == 1:
        return noun
    return noun[:-1] + "ies" if noun.endswith("study") else noun if noun.endswith("s") else noun + "s"


def counted(n: int, noun: str) -> str:
    """'1 report', '3 reports'."""
    return f"{n} {plural(noun, n)}"


def series(counts: dict[str, int]) -> str:
    """'3 case reports, 2 case series and 1 retrospective cohort'."""
    return joined([counted(n, noun) for noun, n in counts.items() if n])


def joined(parts: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'; 'none' for nothing."""
    if not parts:
        return "none"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
