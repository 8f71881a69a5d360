"""Weekly report (ISO week of local dates) and monthly trends (calendar months)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from somna.calculations.debt import DECAY
from somna.calculations.inputs import SleepPeriod
from somna.calculations.insights import Insight, InsightContext
from somna.calculations.nights import resolve_sleep
from somna.calculations.reports import monthly_trends, weekly_report
from tests.analytics.helpers import at, diary_night, staged, totals

TOKYO = ZoneInfo("Asia/Tokyo")
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 11, 23)


def week_of_nights(zone: ZoneInfo = TOKYO) -> list[SleepPeriod]:
    return [diary_night(MONDAY + timedelta(days=i), "23:00", "06:00", zone) for i in range(7)]


def test_weekly_report_for_a_local_calendar_week() -> None:
    records = week_of_nights()
    # Woke on Monday the 30th at 06:00 in Tokyo (Sunday 21:00 UTC): next week, not this one.
    records.append(diary_night(MONDAY + timedelta(days=7), "23:00", "06:00", TOKYO))
    # The same Wednesday night from a second provider, and a nap.
    records.append(
        totals(
            at(MONDAY + timedelta(days=1), "22:50", TOKYO),
            at(MONDAY + timedelta(days=2), "06:10", TOKYO),
            asleep_hours=6.5,
        )
    )
    records.append(staged(at(MONDAY + timedelta(days=3), "14:00", TOKYO), "L" * 40, is_nap=True))
    report = weekly_report(resolve_sleep(records, zone=TOKYO), MONDAY + timedelta(days=3))
    assert report.week == "2026-W48"
    assert (report.start_date, report.end_date) == (MONDAY, MONDAY + timedelta(days=6))
    assert report.session_count == 7
    assert report.nap_count == 1
    assert report.sufficient
    assert report.sources_used == ("asleep",)
    assert report.summary.mean_sleep_seconds == 7 * 3600
    assert report.summary.mean_bedtime == "23:00:00"
    assert report.summary.mean_wake_time == "06:00:00"
    assert report.stages.light_pct == 100.0
    # The running debt on Sunday: 1 h short every night but Thursday's (a 20-min nap), each
    # shortfall decayed by 0.5 ** (1/7) per day since.
    shortfalls = [1.0, 1.0, 1.0, 1 - 20 / 60, 1.0, 1.0, 1.0]
    expected = sum(short * DECAY ** (6 - k) for k, short in enumerate(shortfalls))
    assert report.sleep_debt_hours == pytest.approx(expected)
    assert report.sleep_debt_hours == pytest.approx(5.056, abs=1e-3)
    assert report.regularity.method == "sri"
    assert report.score.overall is not None
    assert [i.kind for i in report.insights] == ["low_deep_sleep"]


def test_a_thin_week_is_marked_and_says_why() -> None:
    records = week_of_nights()[:2]
    report = weekly_report(resolve_sleep(records, zone=TOKYO), MONDAY)
    assert report.session_count == 2
    assert not report.sufficient
    assert [i.kind for i in report.insights] == ["not_enough_data"]


def test_an_empty_week() -> None:
    report = weekly_report(resolve_sleep([]), MONDAY)
    assert report.session_count == 0
    assert report.summary.mean_sleep_seconds is None
    assert report.summary.mean_bedtime is None
    assert report.sleep_debt_hours is None
    assert report.score.overall is None
    assert report.sources_used == ()


def test_weekly_report_uses_a_supplied_generator() -> None:
    class Echo:
        name = "echo"

        def generate(self, context: InsightContext) -> list[Insight]:
            return [Insight("echo", "info", "echo", str(context.nights))]

    report = weekly_report(resolve_sleep(week_of_nights(), zone=TOKYO), MONDAY, generator=Echo())
    assert report.insights == (Insight("echo", "info", "echo", "7"),)


def test_monthly_trends_are_calendar_months_with_empty_ones_present() -> None:
    records = [diary_night(date(2026, 1, d), "23:00", "07:00", BERLIN) for d in range(5, 15)]
    # Ends at 00:30 on 1 February in Berlin, which is still 31 January in UTC.
    evening, past_midnight = (
        at(date(2026, 1, 31), "17:00", BERLIN),
        at(date(2026, 2, 1), "00:30", BERLIN),
    )
    records.append(totals(evening, past_midnight, asleep_hours=7.0))
    records += [diary_night(date(2026, 3, d), "23:30", "07:00", BERLIN) for d in (2, 3, 4)]
    trends = monthly_trends(resolve_sleep(records, zone=BERLIN), date(2026, 3, 15), months=6)
    months = {m.month: m for m in trends.months}
    assert list(months) == ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]
    assert [m.empty for m in trends.months] == [True, True, True, False, False, False]
    assert months["2026-01"].summary.nights == 10
    assert months["2026-01"].summary.mean_sleep_seconds == 8 * 3600
    assert months["2026-02"].summary.nights == 1
    assert months["2026-02"].end_date == date(2026, 2, 28)
    assert months["2026-01"].complete
    assert not months["2026-03"].complete
    assert months["2025-11"].score is None
    assert months["2026-01"].score is not None
    assert months["2026-01"].midpoint_sd_minutes == pytest.approx(0.0)
    assert trends.sources_used == ("asleep", "whoop")


def test_monthly_slope_is_robust_minutes_per_week() -> None:
    first = date(2026, 5, 1)
    records = [
        totals(at(first + timedelta(days=k - 1), "23:00"), at(first + timedelta(days=k), "07:00"),
               asleep_hours=6 + k / 60)
        for k in range(40)
    ]  # fmt: skip
    trends = monthly_trends(resolve_sleep(records), date(2026, 6, 20), months=2)
    assert trends.sleep_slope_minutes_per_week == pytest.approx(7.0)
    assert trends.efficiency_slope_pct_per_week is not None


def test_no_data_months() -> None:
    trends = monthly_trends(resolve_sleep([]), date(2026, 1, 10), months=3)
    assert [m.month for m in trends.months] == ["2025-11", "2025-12", "2026-01"]
    assert all(m.empty and m.score is None for m in trends.months)
    assert trends.sleep_slope_minutes_per_week is None
