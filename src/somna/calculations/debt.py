"""Sleep need and a running sleep debt: one definition for the daily summary, the weekly
report and burnout (docs/analytics.md, "Sleep need and debt").

**Need.** The person's sleep goal when they set one; otherwise estimated from their free-day
sleep (nights ending on free days sleep without an alarm, so their mean total sleep over the
last 28 days approximates the need; at least 4 such nights, held within 6-10 h); otherwise 8 h.

**Debt.** Over the 14 local dates ending on ``as_of``, oldest first:

    debt = 0
    for each date:
        debt = debt * DECAY
        if a night was recorded: debt = max(0, debt + need - sleep)

``DECAY = 0.5 ** (1 / 7)``: a deficit loses half its weight in a week, since recovery sleep
does not repay lost sleep hour for hour, and after 14 dates it leaves the window. It needs at
least 4 recorded nights among the last 7 dates (else ``None`` with a reason). Surplus sleep
repays debt but never banks credit (the floor at 0). A date without a recorded night changes
nothing but the decay. Sleep per date is the counted night plus naps on that date.

**Nights to repay**: nights of sleeping exactly the need until the debt falls below 15 minutes,
by running the same recurrence forward (at most 14: the window then forgets every deficit).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

DEBT_DAYS = 14
DECAY = 0.5 ** (1 / 7)
MIN_RECENT_NIGHTS = 4  # recorded nights among the last 7 dates, as a week's figures
RECENT_DAYS = 7
NEED_LOOKBACK_DAYS = 28
MIN_FREE_NIGHTS_FOR_NEED = 4
NEED_BOUNDS_HOURS = (6.0, 10.0)
DEFAULT_NEED_HOURS = 8.0
REPAID_BELOW_SECONDS = 15 * 60

NeedSource = Literal["goal", "free_days", "default"]


@dataclass(frozen=True, slots=True)
class SleepNeed:
    seconds: float
    source: NeedSource


@dataclass(frozen=True, slots=True)
class SleepDebt:
    as_of: date
    need_seconds: float
    debt_seconds: float | None  # None below 4 recorded nights in the last 7 dates
    nights: int  # dates of the window with a recorded night
    nights_to_repay: int | None  # at the need; 0 when there is no debt to speak of
    reason: str | None


def sleep_need(goal_hours: float | None, free_day_sleep_seconds: Sequence[float]) -> SleepNeed:
    """The need from the goal, else the free-day estimate, else the default."""
    if goal_hours is not None:
        return SleepNeed(goal_hours * 3600, "goal")
    if len(free_day_sleep_seconds) >= MIN_FREE_NIGHTS_FOR_NEED:
        low, high = (h * 3600 for h in NEED_BOUNDS_HOURS)
        estimate = sum(free_day_sleep_seconds) / len(free_day_sleep_seconds)
        return SleepNeed(min(high, max(low, estimate)), "free_days")
    return SleepNeed(DEFAULT_NEED_HOURS * 3600, "default")


def debt_recurrence(
    sleep: Sequence[float | None], need_seconds: float, start: float = 0.0
) -> float:
    """Run the recurrence over a day-by-day sequence (``None``: no night that date)."""
    debt = start
    for seconds in sleep:
        debt *= DECAY
        if seconds is not None:
            debt = max(0.0, debt + need_seconds - seconds)
    return debt


@functools.lru_cache(maxsize=256)
def window(as_of: date, days: int = DEBT_DAYS) -> tuple[date, ...]:
    """The ``days`` local dates ending on ``as_of``, oldest first (cached: statistics over
    many people ask for the same dates once per person)."""
    return tuple(as_of - timedelta(days=days - 1 - k) for k in range(days))


def sleep_debt(as_of: date, daily_sleep: Mapping[date, float], need_seconds: float) -> SleepDebt:
    """The running debt on ``as_of`` from sleep per local date (see the module docstring)."""
    dates = window(as_of)
    sleep = [daily_sleep.get(d) for d in dates]
    nights = sum(1 for s in sleep if s is not None)
    debt, reason = _debt_of_window(sleep, need_seconds)
    if debt is None:
        return SleepDebt(as_of, need_seconds, None, nights, None, reason)
    return SleepDebt(as_of, need_seconds, debt, nights, nights_to_repay(sleep, need_seconds), None)


def debt_seconds(
    as_of: date, daily_sleep: Mapping[date, float], need_seconds: float
) -> float | None:
    """``sleep_debt(...).debt_seconds`` without the nights to repay (statistics over many
    people need only the debt)."""
    return _debt_of_window([daily_sleep.get(d) for d in window(as_of)], need_seconds)[0]


def _debt_of_window(
    sleep: Sequence[float | None], need_seconds: float
) -> tuple[float | None, str | None]:
    recent = sum(1 for s in sleep[-RECENT_DAYS:] if s is not None)
    if recent < MIN_RECENT_NIGHTS:
        return None, (
            f"Too few nights: the sleep debt needs at least {MIN_RECENT_NIGHTS} recorded nights "
            f"in the last {RECENT_DAYS} days and has {recent}."
        )
    return debt_recurrence(sleep, need_seconds), None


def nights_to_repay(sleep: Sequence[float | None], need_seconds: float) -> int:
    """Nights at the need until the debt of the window ``sleep`` is under 15 minutes."""
    history = list(sleep)
    for nights in range(DEBT_DAYS + 1):
        if debt_recurrence(history[-DEBT_DAYS:], need_seconds) < REPAID_BELOW_SECONDS:
            return nights
        history.append(need_seconds)
    return DEBT_DAYS  # unreachable: after 14 nights at the need the window holds no deficit


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600
