"""Regularity: SRI (Phillips 2017), midpoint spread, social jetlag, CPD, consistency."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from somna.calculations.nights import resolve_sleep
from somna.calculations.regularity import (
    composite_phase_deviation,
    consistency_score,
    midpoint_sd_from_sums,
    midpoint_sd_minutes,
    minutes_after_noon,
    regularity,
)
from somna.calculations.sri import Segment, days_from_nights, sri_from_days
from tests.analytics.helpers import at, diary_night, staged, totals

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 1, 5)
# sleep-science.md 2.2: the seven nights (onset, offset).
SEVEN = [
    ("23:00", "07:00"),
    ("23:30", "07:00"),
    ("00:15", "07:45"),
    ("23:45", "07:15"),
    ("23:00", "07:00"),
    ("01:00", "09:30"),
    ("01:30", "10:00"),
]


def grid_day(states: list[int]) -> list[Segment]:
    width = 86_400 // len(states)
    return [(i * width, (i + 1) * width, bool(s)) for i, s in enumerate(states)]


def test_sri_on_the_four_epoch_grid_is_fifty() -> None:
    days = {MONDAY + timedelta(days=i): grid_day(g) for i, g in enumerate(
        [[1, 0, 0, 0], [1, 1, 0, 0], [1, 0, 0, 0]]
    )}  # fmt: skip
    result = sri_from_days(days, min_day_pairs=2)
    assert result.sri == pytest.approx(50.0)
    assert result.day_pairs == 2


def test_sri_from_three_thirty_second_nights() -> None:
    nights = [
        diary_night(MONDAY + timedelta(days=1), "23:00", "07:00"),
        diary_night(MONDAY + timedelta(days=2), "23:00", "08:00"),
        diary_night(MONDAY + timedelta(days=3), "23:00", "07:00"),
    ]
    resolved = resolve_sleep(nights)
    reg = regularity(resolved.nights, min_day_pairs=2)
    assert reg.sri == pytest.approx(91.6667, abs=1e-4)
    assert reg.sri_day_pairs == 2
    assert reg.method == "sri"
    assert reg.consistency == pytest.approx(91.6667, abs=1e-4)


def test_sri_is_withheld_below_five_day_pairs_and_midpoint_spread_takes_over() -> None:
    days = [1, 2, 3, 5, 6, 7]  # a gap: four consecutive pairs
    nights = [diary_night(MONDAY + timedelta(days=d), "23:00", "07:00") for d in days]
    reg = regularity(resolve_sleep(nights).nights)
    assert reg.sri is None
    assert reg.sri_day_pairs == 4
    assert reg.method == "midpoint_sd"
    assert reg.midpoint_sd_minutes == pytest.approx(0.0)
    assert reg.consistency == 100.0


def test_midpoint_spread_of_the_seven_worked_nights() -> None:
    nights = [
        diary_night(MONDAY + timedelta(days=i), bed, wake) for i, (bed, wake) in enumerate(SEVEN)
    ]
    reg = regularity(resolve_sleep(nights).nights)
    assert reg.midpoint_sd_minutes == pytest.approx(66.762, abs=1e-3)
    assert reg.midpoint_circular_sd_minutes == pytest.approx(62.016, abs=1e-3)
    assert reg.mean_midpoint_clock_seconds is not None
    assert reg.mean_midpoint_clock_seconds / 60 == pytest.approx(237.299, abs=1e-3)
    assert reg.sri is not None  # seven consecutive hypnogram nights: six day pairs
    assert reg.method == "sri"


def test_regular_sleeper_across_spring_forward_keeps_a_perfect_sri() -> None:
    # Wall-clock comparison: 23:00-07:00 every night stays identical across the DST change.
    first = date(2026, 3, 25)
    nights = [diary_night(first + timedelta(days=i), "23:00", "07:00", BERLIN) for i in range(8)]
    reg = regularity(resolve_sleep(nights, zone=BERLIN).nights)
    assert reg.sri == pytest.approx(100.0)
    assert reg.sri_day_pairs == 7
    assert reg.midpoint_sd_minutes == pytest.approx(0.0)


def test_unscored_epochs_are_left_out_of_the_pairs() -> None:
    one = staged(at(MONDAY, "23:00"), "L" * 960)
    two = staged(at(MONDAY + timedelta(days=1), "23:00"), "U" * 120 + "L" * 840)
    resolved = resolve_sleep([one, two])
    days = days_from_nights(resolved.nights)
    result = sri_from_days(days, min_day_pairs=1)
    assert result.valid_seconds == 86_400 - 3600
    assert result.sri == pytest.approx(100.0)


def test_a_daytime_nap_changes_the_sri_and_a_totals_nap_is_unknown() -> None:
    nights = [diary_night(MONDAY + timedelta(days=d), "23:00", "07:00") for d in (1, 2)]
    nap = staged(at(MONDAY + timedelta(days=1), "14:00"), "L" * 120, is_nap=True)
    with_nap = resolve_sleep([*nights, nap])
    reg = regularity(with_nap.nights, with_nap.naps, min_day_pairs=1)
    assert reg.sri == pytest.approx(200 * (1 - 3600 / 86_400) - 100)
    blind = totals(
        at(MONDAY + timedelta(days=1), "14:00"),
        at(MONDAY + timedelta(days=1), "15:00"),
        is_nap=True,
    )
    unknown = resolve_sleep([*nights, blind])
    reg = regularity(unknown.nights, unknown.naps, min_day_pairs=1)
    assert reg.sri == pytest.approx(100.0)


def test_totals_only_nights_have_no_sri_but_a_midpoint_spread() -> None:
    nights = [
        totals(at(MONDAY + timedelta(days=d), "23:00"), at(MONDAY + timedelta(days=d + 1), "07:00"))
        for d in range(6)
    ]
    reg = regularity(resolve_sleep(nights).nights)
    assert reg.sri is None
    assert reg.sri_day_pairs == 0
    assert reg.method == "midpoint_sd"


def test_no_nights_and_one_night() -> None:
    empty = regularity([])
    assert (empty.consistency, empty.method, empty.sri, empty.nights) == (None, None, None, 0)
    one = regularity(resolve_sleep([diary_night(MONDAY, "23:00", "07:00")]).nights)
    assert one.consistency is None
    assert one.midpoint_sd_minutes is None
    assert one.composite_phase_deviation_hours is None
    assert one.nights == 1


def test_social_jetlag_from_nights() -> None:
    nights = [
        diary_night(MONDAY + timedelta(days=i), "01:00" if i >= 5 else "23:00",
                    "09:00" if i >= 5 else "07:00")
        for i in range(7)
    ]  # fmt: skip
    reg = regularity(resolve_sleep(nights).nights)
    assert reg.social_jetlag_minutes == pytest.approx(120.0)
    assert reg.relative_social_jetlag_minutes == pytest.approx(120.0)
    # The person's own workdays: with Sunday to Thursday as workdays the late nights (ending
    # Saturday and Sunday) split between the kinds of day.
    custom = regularity(resolve_sleep(nights).nights, workdays={7, 1, 2, 3, 4})
    assert custom.social_jetlag_minutes is not None
    assert custom.social_jetlag_minutes != pytest.approx(120.0)


def test_composite_phase_deviation_worked_example() -> None:
    cpd = composite_phase_deviation([3.0, 3.5, 4.0, 2.5, 3.0], reference_hours=3.5)
    assert cpd == pytest.approx(0.9292, abs=1e-4)
    assert composite_phase_deviation([3.0]) is None


def test_midpoint_sd_from_sql_sums_matches_the_python_path() -> None:
    clocks = [m * 60.0 for m in (180, 195, 240, 210, 180, 315, 345)]
    unwrapped = [minutes_after_noon(c) for c in clocks]
    from_sums = midpoint_sd_from_sums(len(unwrapped), sum(unwrapped), sum(u * u for u in unwrapped))
    assert from_sums == pytest.approx(midpoint_sd_minutes(clocks))
    assert midpoint_sd_from_sums(1, 5.0, 25.0) is None


def test_unwrapping_keeps_nights_around_midnight_close() -> None:
    assert minutes_after_noon(23 * 3600) == 660
    assert minutes_after_noon(1 * 3600) == 780
    assert minutes_after_noon(12 * 3600) == 0


@pytest.mark.parametrize(
    ("sri", "sd", "expected", "method"),
    [
        (85.0, 200.0, 85.0, "sri"),
        (-20.0, None, 0.0, "sri"),
        (None, 20.0, 100.0, "midpoint_sd"),
        (None, 30.0, 100.0, "midpoint_sd"),
        (None, 75.0, 50.0, "midpoint_sd"),
        (None, 90.0, 100 / 3, "midpoint_sd"),
        (None, 120.0, 0.0, "midpoint_sd"),
        (None, 300.0, 0.0, "midpoint_sd"),
        (None, None, None, None),
    ],
)
def test_consistency_mapping(
    sri: float | None, sd: float | None, expected: float | None, method: str | None
) -> None:
    value, used = consistency_score(sri, sd)
    assert used == method
    assert value == (None if expected is None else pytest.approx(expected))
