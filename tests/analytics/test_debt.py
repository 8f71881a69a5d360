"""Sleep need and the running sleep debt (calculations/debt.py), on worked numbers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pytest

from somna.calculations.debt import (
    DECAY,
    debt_recurrence,
    nights_to_repay,
    sleep_debt,
    sleep_need,
)

AS_OF = date(2026, 3, 15)
H = 3600.0


def daily(hours: Sequence[float | None]) -> dict[date, float]:
    """Sleep per date, the last value on ``AS_OF``; ``None`` leaves a date without a night."""
    last = len(hours) - 1
    return {AS_OF - timedelta(days=last - k): h * H for k, h in enumerate(hours) if h is not None}


def test_decay_halves_a_deficit_in_a_week() -> None:
    week = DECAY**7
    assert week == pytest.approx(0.5)
    # One night 2 h short, then seven nights at the need: 1 h left.
    assert debt_recurrence([6 * H] + [8 * H] * 7, 8 * H) / H == pytest.approx(1.0)


def test_worked_week() -> None:
    # Need 8 h; TST 7, 6.5, 8, 7.5, 6, 8.5, 7 h (oldest first). Step by step:
    # 1.0, 2.406, 2.179, 2.474, 4.240, 3.341, 4.026 h: the 8.5-h night repays half an hour.
    hours = [7, 6.5, 8, 7.5, 6, 8.5, 7]
    expected = 0.0
    for h in hours:
        expected = max(0.0, expected * DECAY + 8 - h)
    debt = sleep_debt(AS_OF, daily(list(map(float, hours))), 8 * H)
    assert debt.debt_seconds is not None
    assert debt.debt_seconds / H == pytest.approx(expected)
    assert debt.debt_seconds / H == pytest.approx(4.026, abs=1e-3)
    assert debt.nights == 7
    assert debt.reason is None


def test_surplus_never_banks_credit() -> None:
    rested = sleep_debt(AS_OF, daily([10.0] * 7 + [7.0]), 8 * H)
    assert rested.debt_seconds == pytest.approx(1 * H)  # the surplus before did not offset it


def test_missing_dates_only_decay() -> None:
    debt = sleep_debt(AS_OF, daily([4.0, 8.0, 8.0, None, None, 8.0, 8.0, 8.0]), 8 * H)
    assert debt.debt_seconds == pytest.approx(4 * H * DECAY**7)
    assert debt.nights == 6


def test_the_window_forgets_after_fourteen_days() -> None:
    old = daily([0.0] + [8.0] * 14)  # a sleepless night 15 days ago
    assert sleep_debt(AS_OF, old, 8 * H).debt_seconds == 0.0


def test_no_data_one_night_and_a_thin_week() -> None:
    none = sleep_debt(AS_OF, {}, 8 * H)
    assert (none.debt_seconds, none.nights, none.nights_to_repay) == (None, 0, None)
    assert none.reason == (
        "Too few nights: the sleep debt needs at least 4 recorded nights in the last 7 days "
        "and has 0."
    )
    one = sleep_debt(AS_OF, daily([5.0]), 8 * H)
    assert one.debt_seconds is None
    # Ten old nights do not stand in for the last week.
    thin = sleep_debt(AS_OF, daily([6.0] * 10 + [None] * 4), 8 * H)
    assert thin.debt_seconds is None
    assert thin.nights == 10


def test_nights_to_repay_at_the_need() -> None:
    assert nights_to_repay([8 * H] * 14, 8 * H) == 0
    # 2 h short on the last night: the debt halves every 7 nights; below 15 min after
    # 7 * log2(8) = 21 nights, but the 14-day window forgets the night after 14.
    assert nights_to_repay([8 * H] * 13 + [6 * H], 8 * H) == 14
    # 20 min short: 20 * d^n < 15 after n = 3 nights (20 * d^3 = 14.9).
    assert nights_to_repay([8 * H] * 13 + [8 * H - 20 * 60], 8 * H) == 3
    debt = sleep_debt(AS_OF, daily([8.0] * 13 + [6.0]), 8 * H)
    assert debt.nights_to_repay == 14


def test_need_from_goal_then_free_days_then_default() -> None:
    assert sleep_need(7.5, []).seconds == 7.5 * H
    assert sleep_need(7.5, [9 * H] * 10).source == "goal"
    estimated = sleep_need(None, [8.5 * H, 9 * H, 8 * H, 8.5 * H])
    assert (estimated.seconds, estimated.source) == (8.5 * H, "free_days")
    assert sleep_need(None, [8 * H] * 3).source == "default"  # three free nights: too few
    assert sleep_need(None, [8 * H] * 3).seconds == 8 * H
    # Held within 6-10 h: a weekend of 12-hour sleeps is not a 12-hour need.
    assert sleep_need(None, [12 * H] * 4).seconds == 10 * H
    assert sleep_need(None, [4 * H] * 4).seconds == 6 * H
