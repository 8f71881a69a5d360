"""Arranging people with records for the analytics API tests: records go in through the
store (``RecordRepository.upsert``), exactly as a sync writes them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.analytics.dependencies import current_time
from somna.models import Connection, Person
from somna.people.schemas import Preferences
from somna.people.service import put_preferences
from somna.records.canonical import AnyRecord, RecoveryRecord, ScoreState, SleepSessionRecord
from somna.records.repository import RecordRepository
from tests.support.factories import make_connection

# "Now" for these tests: Thursday 2026-03-12, 10:00 UTC (ISO week 2026-W11).
NOW = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
TODAY = NOW.date()


def pin_now(app: FastAPI, now: datetime = NOW) -> None:
    app.dependency_overrides[current_time] = lambda: now


def night(
    provider: str,
    wake_date: date,
    *,
    bed: str = "23:00",
    hours: float = 8.0,
    zone: ZoneInfo | None = None,
    offset_minutes: int | None = None,
    asleep_hours: float | None = 7.5,
    hypnogram: str | None = None,
    is_nap: bool = False,
    record_id: str | None = None,
    **fields: Any,
) -> SleepSessionRecord:
    """A sleep that starts at ``bed`` local time the evening before ``wake_date`` (or on it
    when ``bed`` is before noon) in ``zone`` or at a fixed ``offset_minutes``."""
    tz: Any = zone or (
        UTC if offset_minutes is None else timezone(timedelta(minutes=offset_minutes))
    )
    bed_time = time.fromisoformat(bed)
    bed_day = wake_date - timedelta(days=1) if bed_time.hour >= 12 else wake_date
    start = datetime.combine(bed_day, bed_time, tzinfo=tz)
    end = (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(tz)
    offset = start.utcoffset()
    assert offset is not None
    values: dict[str, Any] = {
        "asleep_seconds": None if asleep_hours is None else int(asleep_hours * 3600),
        "in_bed_seconds": int(hours * 3600),
    }
    if hypnogram is not None:
        # Totals consistent with the epochs, as the Asleep mapper stores them.
        first_sleep = next((i for i, c in enumerate(hypnogram) if c in "LDR"), len(hypnogram))
        values = {
            "hypnogram": hypnogram,
            "hypnogram_epoch_seconds": 30,
            "asleep_seconds": 30 * sum(1 for c in hypnogram if c in "LDR"),
            "latency_seconds": 30 * first_sleep,
            "in_bed_seconds": 30 * len(hypnogram),
        }
        end = (start.astimezone(UTC) + timedelta(seconds=30 * len(hypnogram))).astimezone(tz)
    values |= fields
    return SleepSessionRecord(
        provider=provider,
        provider_record_id=record_id or f"{provider}-{uuid.uuid4().hex[:12]}",
        score_state=ScoreState.SCORED,
        provider_updated_at=None,
        raw={},
        start_at=start,
        end_at=end,
        timezone_offset_minutes=int(offset.total_seconds() // 60),
        local_date=end.date(),
        is_nap=is_nap,
        **values,
    )


def recovery(provider: str, day: date, hrv: float, rhr: float) -> RecoveryRecord:
    return RecoveryRecord(
        provider=provider,
        provider_record_id=f"{provider}-rec-{day.isoformat()}",
        score_state=ScoreState.SCORED,
        provider_updated_at=None,
        raw={},
        recorded_at=datetime.combine(day, time(7), tzinfo=UTC),
        local_date=day,
        hrv_rmssd_ms=hrv,
        resting_hr_bpm=rhr,
    )


async def store(db_session: AsyncSession, person: Person, records: Sequence[AnyRecord]) -> None:
    """Upsert through the store, one connection per provider, and commit."""
    by_provider: dict[str, list[AnyRecord]] = {}
    for record in records:
        by_provider.setdefault(record.provider, []).append(record)
    repository = RecordRepository(db_session)
    for provider, group in by_provider.items():
        connection = await db_session.scalar(
            select(Connection).where(
                Connection.person_id == person.id, Connection.provider == provider
            )
        )
        if connection is None:
            connection = await make_connection(db_session, person, provider=provider)
        await repository.upsert(connection.id, person.id, group)
    await db_session.commit()


async def set_preferences(db_session: AsyncSession, person: Person, **values: Any) -> None:
    """Through the people service, which also refreshes which records count."""
    await put_preferences(db_session, person, Preferences(**values))
    await db_session.commit()


def nights(provider: str, last: date, count: int, **kw: Any) -> list[SleepSessionRecord]:
    """``count`` identical nights ending on ``last``, oldest first."""
    return [night(provider, last - timedelta(days=k), **kw) for k in range(count - 1, -1, -1)]
