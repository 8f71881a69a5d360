"""Arranging data for SDK tests: people with records, written straight to the database."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import Person
from somna.records.canonical import RecoveryRecord, ScoreState, SleepSessionRecord
from somna.records.repository import RecordRepository
from tests.support.auth import Org, create_person
from tests.support.factories import NIGHT_START, make_connection, sleep_record


async def person_with_nights(db_session: AsyncSession, org: Org, nights: int) -> Person:
    """A person with ``nights`` WHOOP nights (one a day from 2026-03-02) and a recovery."""
    person = await create_person(db_session, org.id)
    connection = await make_connection(db_session, person)
    records: list[SleepSessionRecord | RecoveryRecord] = [
        sleep_record(
            f"night-{index}",
            start_at=NIGHT_START + timedelta(days=index),
            end_at=NIGHT_START + timedelta(days=index, hours=7, minutes=30),
            local_date=date(2026, 3, 2) + timedelta(days=index),
            score_state=ScoreState.SCORED,
            asleep_seconds=6 * 3600 + index * 60,
            in_bed_seconds=int(7.5 * 3600),
        )
        for index in range(nights)
    ]
    records.append(
        RecoveryRecord(
            provider="whoop",
            provider_record_id=f"recovery-{uuid.uuid4().hex[:6]}",
            score_state=ScoreState.SCORED,
            provider_updated_at=NIGHT_START,
            raw={},
            recorded_at=NIGHT_START + timedelta(hours=8),
            local_date=date(2026, 3, 2),
            recovery_score=71.0,
        )
    )
    await RecordRepository(db_session).upsert(connection.id, person.id, records)
    await db_session.commit()
    return person
