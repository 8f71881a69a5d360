"""Rows for tests, inserted straight through a session (no API round trip)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import Connection, Organization, Person
from somna.records.canonical import ScoreState, SleepSessionRecord

NIGHT_START = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)


async def make_organization(session: AsyncSession, *, name: str | None = None) -> Organization:
    slug = f"org-{uuid.uuid4().hex[:10]}"
    organization = Organization(name=name or slug, slug=slug, settings={"timezone": "UTC"})
    session.add(organization)
    await session.flush()
    return organization


async def make_person(
    session: AsyncSession, organization: Organization, *, timezone: str = "UTC"
) -> Person:
    person = Person(
        organization_id=organization.id,
        email=f"person-{uuid.uuid4().hex[:10]}@example.com",
        timezone=timezone,
    )
    session.add(person)
    await session.flush()
    return person


async def make_connection(
    session: AsyncSession, person: Person, *, provider: str = "whoop"
) -> Connection:
    connection = Connection(
        organization_id=person.organization_id,
        person_id=person.id,
        provider=provider,
        provider_user_id=uuid.uuid4().hex[:12],
        status="active",
    )
    session.add(connection)
    await session.flush()
    return connection


def sleep_record(
    record_id: str, *, updated: datetime | None = NIGHT_START, **changes: object
) -> SleepSessionRecord:
    """An eight-hour WHOOP night starting at ``NIGHT_START``; ``changes`` override fields."""
    night = SleepSessionRecord(
        provider="whoop",
        provider_record_id=record_id,
        score_state=ScoreState.PENDING_SCORE,
        provider_updated_at=updated,
        raw={"id": record_id},
        start_at=NIGHT_START,
        end_at=NIGHT_START + timedelta(hours=8),
        timezone_offset_minutes=0,
        local_date=date(2026, 3, 2),
    )
    return replace(night, **changes)  # type: ignore[arg-type]
