"""How many counted nights a figure needs before Somna shows it (docs/analytics.md).

Below the minimum a score, a regularity or a trend is ``None`` with a ``reason`` that says
what it needs and what there is, instead of a confident number from three nights.

* a week (weekly report): 4 of its 7 nights;
* a score over N days (``/sleep-score``, organisation statistics): 10 nights for 30 days,
  scaled to the window, ``ceil(10 * N / 30)``, at least 1;
* a calendar month (monthly trends), and the trend slopes over the months: 7 nights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WEEK_MIN_NIGHTS = 4
SCORE_MIN_NIGHTS_PER_30_DAYS = 10
MONTH_MIN_NIGHTS = 7
TREND_MIN_NIGHTS = MONTH_MIN_NIGHTS


@dataclass(frozen=True, slots=True)
class Sufficiency:
    sufficient: bool
    nights: int  # counted nights with sleep
    required: int
    reason: str | None  # why a figure is withheld; None when sufficient


def score_min_nights(days: int) -> int:
    """The nights a score over ``days`` local dates needs: 10 per 30 days, rounded up."""
    return max(1, math.ceil(SCORE_MIN_NIGHTS_PER_30_DAYS * days / 30))


def sufficiency(nights: int, required: int, what: str) -> Sufficiency:
    """Whether ``nights`` reach ``required``; ``what`` names the window in the reason."""
    if nights >= required:
        return Sufficiency(True, nights, required, None)
    reason = f"Too few nights: {what} needs at least {required} recorded nights and has {nights}."
    return Sufficiency(False, nights, required, reason)


def for_score(nights: int, days: int) -> Sufficiency:
    return sufficiency(nights, score_min_nights(days), f"a score over {days} days")


def for_week(nights: int) -> Sufficiency:
    return sufficiency(nights, WEEK_MIN_NIGHTS, "a week")


def for_month(nights: int) -> Sufficiency:
    return sufficiency(nights, MONTH_MIN_NIGHTS, "a month")


def for_trend(nights: int) -> Sufficiency:
    return sufficiency(nights, TREND_MIN_NIGHTS, "a trend")
