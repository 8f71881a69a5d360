"""Retention: an organisation's ``settings.retention_days`` deletes exactly the records older
than that, and nothing of an organisation without it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.db import create_engine, create_sessionmaker
from somna.models import BurnoutScore, Insight, MoodRating, Organization, SleepSession
from somna.pacing import create_pacer
from somna.privacy.service import apply_retention
from somna.records.repository import RecordRepository
from somna.sync.engine import SyncServices
from tests.support.factories import make_connection, make_organization, make_person, sleep_record

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


async def _person_with_history(session: AsyncSession, organization: Organization) -> uuid.UUID:
    """Nights, moods, insights and scores 10, 29, 31 and 60 days before ``NOW``."""
    person = await make_person(session, organization)
    connection = await make_connection(session, person)
    records = []
    for age in (10, 29, 31, 60):
        start = NOW - timedelta(days=age)
        records.append(
            sleep_record(
                f"night-{age}",
                start_at=start,
                end_at=start + timedelta(hours=8),
                local_date=(start + timedelta(hours=8)).date(),
            )
        )
        session.add(MoodRating(person_id=person.id, local_date=start.date(), score=5,
                               recorded_at=start, created_at=start))  # fmt: skip
        session.add(Insight(person_id=person.id, kind="k", title="t", body="b", generator="g",
                            generated_at=start, expires_at=start + timedelta(days=1)))  # fmt: skip
        session.add(BurnoutScore(person_id=person.id, as_of_date=start.date(), level="low",
                                 model_version="v1", computed_at=start))  # fmt: skip
    await RecordRepository(session).upsert(connection.id, person.id, records)
    await session.commit()
    return person.id


async def _ages(session: AsyncSession, model: Any, column: Any, person_id: uuid.UUID) -> list[int]:
    session.expire_all()
    values = await session.scalars(select(column).where(model.person_id == person_id))
    result = []
    for value in values:
        moment = value if isinstance(value, datetime) else None
        day = value if moment is None else moment.date()
        assert isinstance(day, date)
        result.append((NOW.date() - day).days)
    return sorted(result)


async def test_retention_deletes_exactly_the_old_records(
    settings: Settings, db_session: AsyncSession
) -> None:
    kept = await make_organization(db_session)
    kept.settings = {"timezone": "UTC", "retention_days": 30}
    untouched = await make_organization(db_session)
    person = await _person_with_history(db_session, kept)
    other = await _person_with_history(db_session, untouched)
    await db_session.commit()

    engine = create_engine(settings.database_url)
    try:
        services = SyncServices(settings, create_sessionmaker(engine), create_pacer(settings))
        removed = await apply_retention(services, now=NOW)
    finally:
        await engine.dispose()

    assert removed["sleep"] == 2
    assert removed["mood_ratings"] == 2
    assert removed["insights"] == 2
    assert removed["burnout_scores"] == 2
    for model, column in (
        (SleepSession, SleepSession.start_at),
        (MoodRating, MoodRating.recorded_at),
        (Insight, Insight.generated_at),
        (BurnoutScore, BurnoutScore.as_of_date),
    ):
        assert await _ages(db_session, model, column, person) == [10, 29], model
        assert await _ages(db_session, model, column, other) == [10, 29, 31, 60], model
    # The counted flag follows what is left: the remaining nights still count.
    counted = await db_session.scalar(
        select(func.count()).where(SleepSession.person_id == person, SleepSession.counted)
    )
    assert counted == 2
