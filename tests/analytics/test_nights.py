"""One night counts once: overlapping records, source priority, naps kept apart."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from somna.calculations.inputs import SleepPeriod
from somna.calculations.nights import overlapping_groups, resolve_sleep
from tests.analytics.helpers import at, diary_night, totals

BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2026, 5, 12)


def whoop_night(wake_day: date = DAY) -> SleepPeriod:
    start = at(wake_day - timedelta(days=1), "22:50", BERLIN)
    return totals(start, at(wake_day, "07:05", BERLIN), asleep_hours=7.5)


def test_two_providers_one_night_counts_once_and_the_hypnogram_wins() -> None:
    asleep = diary_night(DAY, "23:00", "07:00", BERLIN)
    whoop = whoop_night()
    resolved = resolve_sleep([whoop, asleep], zone=BERLIN)
    assert len(resolved.nights) == 1
    night = resolved.nights[0]
    assert night.record is asleep
    assert night.duplicates == (whoop,)
    assert night.local_date == DAY
    assert resolved.sources_used == ("asleep",)
    assert resolved.duplicate_ids == (whoop.record_id,)


def test_person_priority_overrides_the_hypnogram_default() -> None:
    asleep = diary_night(DAY, "23:00", "07:00", BERLIN)
    whoop = whoop_night()
    resolved = resolve_sleep([asleep, whoop], zone=BERLIN, priority=["whoop", "asleep"])
    assert resolved.nights[0].record is whoop
    assert resolved.sources_used == ("whoop",)


def test_unlisted_providers_come_after_listed_ones() -> None:
    asleep = diary_night(DAY, "23:00", "07:00", BERLIN)
    oura = diary_night(DAY, "23:10", "06:50", BERLIN, provider="oura")
    resolved = resolve_sleep([asleep, oura], priority=["oura"])
    assert resolved.nights[0].record is oura


def test_choice_does_not_depend_on_input_order() -> None:
    records = [
        diary_night(DAY, "23:00", "07:00", BERLIN, provider="asleep"),
        diary_night(DAY, "23:05", "07:00", BERLIN, provider="oura"),
        whoop_night(),
    ]
    chosen = {
        resolve_sleep(order, zone=BERLIN).nights[0].record.record_id
        for order in itertools.permutations(records)
    }
    assert len(chosen) == 1


def test_a_nap_never_merges_into_the_night() -> None:
    night = diary_night(DAY, "23:00", "07:00", BERLIN)
    # A nap recorded by another device that overlaps the end of the night.
    nap = totals(at(DAY, "06:30", BERLIN), at(DAY, "07:30", BERLIN), asleep_hours=0.8, is_nap=True)
    resolved = resolve_sleep([night, nap], zone=BERLIN)
    assert [n.record for n in resolved.nights] == [night]
    assert [n.record for n in resolved.naps] == [nap]
    assert resolved.between(DAY, DAY) == [resolved.nights[0]]
    assert len(resolved.between(DAY, DAY, include_naps=True)) == 2
    assert resolved.sources_used == ("asleep", "whoop")


def test_the_same_nap_from_two_providers_counts_once() -> None:
    a = totals(at(DAY, "14:00", BERLIN), at(DAY, "14:40", BERLIN), is_nap=True)
    b = totals(at(DAY, "14:05", BERLIN), at(DAY, "14:35", BERLIN), is_nap=True, provider="oura")
    assert len(resolve_sleep([a, b]).naps) == 1


def test_back_to_back_records_are_separate_sleeps() -> None:
    first = totals(at(DAY, "01:00", BERLIN), at(DAY, "03:00", BERLIN))
    second = totals(at(DAY, "03:00", BERLIN), at(DAY, "07:00", BERLIN))
    assert len(overlapping_groups([first, second])) == 2
    resolved = resolve_sleep([first, second], zone=BERLIN)
    assert [n.local_date for n in resolved.nights] == [DAY, DAY]


def test_consecutive_nights_are_not_merged() -> None:
    nights = [diary_night(DAY + timedelta(days=k), "23:00", "07:00", BERLIN) for k in range(3)]
    resolved = resolve_sleep(nights, zone=BERLIN)
    assert [n.local_date for n in resolved.nights] == [DAY + timedelta(days=k) for k in range(3)]


def test_nothing_in_nothing_out() -> None:
    resolved = resolve_sleep([])
    assert resolved.nights == ()
    assert resolved.naps == ()
    assert resolved.sources_used == ()
    assert resolved.between(DAY, DAY) == []


def test_travelling_person_gets_one_night_per_local_wake_date() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    home = [diary_night(date(2026, 6, d), "23:00", "07:00", BERLIN) for d in (1, 2)]
    # Flies out on the 2nd, lands on the 3rd, sleeps in Tokyo from the night of the 3rd.
    away = [diary_night(date(2026, 6, d), "23:00", "07:00", tokyo) for d in (4, 5)]
    resolved = resolve_sleep([*home, *away], zone=BERLIN)
    assert [n.local_date for n in resolved.nights] == [date(2026, 6, d) for d in (1, 2, 4, 5)]
    assert [n.zone.utcoffset(None) for n in resolved.nights[2:]] == [timedelta(hours=9)] * 2
