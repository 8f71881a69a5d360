"""Input dataclasses: built from the store's column names, validated, in UTC."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from somna.calculations.inputs import MoodEntry, SleepPeriod
from somna.records.canonical import ScoreState, SleepSessionRecord

START = datetime(2026, 2, 1, 23, 0, tzinfo=timezone(timedelta(hours=1)))


def test_from_a_canonical_record() -> None:
    record = SleepSessionRecord(
        provider="asleep",
        provider_record_id="20260201220000_abcde",
        score_state=ScoreState.SCORED,
        provider_updated_at=None,
        raw={},
        start_at=START,
        end_at=START + timedelta(hours=8),
        timezone_offset_minutes=60,
        local_date=date(2026, 2, 2),
        asleep_seconds=7 * 3600,
        hypnogram="WLLDR",
        hypnogram_epoch_seconds=30,
    )
    p = SleepPeriod.from_row(record)
    assert p.record_id == "20260201220000_abcde"
    assert (p.provider, p.asleep_seconds, p.hypnogram) == ("asleep", 7 * 3600, "WLLDR")
    assert p.start_at.utcoffset() == timedelta(0)
    assert p.start_at == START


def test_from_an_orm_like_row_uses_its_id() -> None:
    row = SimpleNamespace(
        id="4c1d", provider_record_id="x", provider="whoop", start_at=START,
        end_at=START + timedelta(hours=7), timezone_offset_minutes=None, is_nap=True,
    )  # fmt: skip
    p = SleepPeriod.from_row(row)
    assert (p.record_id, p.is_nap, p.hypnogram) == ("4c1d", True, None)


def test_naive_or_reversed_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SleepPeriod("r", "p", START.replace(tzinfo=None), START.replace(tzinfo=None))
    with pytest.raises(ValueError, match="before"):
        SleepPeriod("r", "p", START, START - timedelta(minutes=1))


@pytest.mark.parametrize("score", [0, 11])
def test_mood_outside_one_to_ten_is_refused(score: int) -> None:
    with pytest.raises(ValueError, match="1-10"):
        MoodEntry(date(2026, 1, 1), score)
