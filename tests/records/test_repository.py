from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import Recovery, SleepSession
from somna.records.canonical import RecoveryRecord, ScoreState
from somna.records.repository import RecordRepository, UpsertResult
from tests.support.factories import (
    NIGHT_START as T0,
)
from tests.support.factories import (
    make_connection,
    make_organization,
    make_person,
    sleep_record,
)


async def _count(session: AsyncSession, model: type[SleepSession] | type[Recovery]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_upsert_inserts_then_updates_without_duplicates(db_session: AsyncSession) -> None:
    organization = await make_organization(db_session)
    person = await make_person(db_session, organization)
    connection = await make_connection(db_session, person)
    store = RecordRepository(db_session)

    first = await store.upsert(connection.id, person.id, [sleep_record("a"), sleep_record("b")])
    assert first == UpsertResult(inserted=2, updated=0, unchanged=0)

    scored = sleep_record(
        "a",
        updated=T0 + timedelta(hours=10),
        score_state=ScoreState.SCORED,
        asleep_seconds=25_000,
        efficiency_pct=91.5,
    )
    second = await store.upsert(connection.id, person.id, [scored, sleep_record("c")])
    assert second == UpsertResult(inserted=1, updated=1, unchanged=0)
    await db_session.commit()

    assert await _count(db_session, SleepSession) == 3
    stored = await db_session.scalar(
        select(SleepSession).where(SleepSession.provider_record_id == "a")
    )
    assert stored is not None
    await db_session.refresh(stored)
    assert stored.score_state == "SCORED"
    assert stored.asleep_seconds == 25_000
    assert stored.efficiency_pct == 91.5
    assert stored.start_at == T0  # timezone-aware on both backends


async def test_an_older_version_never_overwrites_a_newer_one(db_session: AsyncSession) -> None:
    organization = await make_organization(db_session)
    person = await make_person(db_session, organization)
    connection = await make_connection(db_session, person)
    store = RecordRepository(db_session)
    newer = sleep_record("a", updated=T0 + timedelta(hours=12), asleep_seconds=27_000)
    await store.upsert(connection.id, person.id, [newer])

    late = await store.upsert(connection.id, person.id, [sleep_record("a", asleep_seconds=1)])
    assert late == UpsertResult(inserted=0, updated=0, unchanged=1)
    stored = await db_session.scalar(
        select(SleepSession.asleep_seconds).where(SleepSession.provider_record_id == "a")
    )
    assert stored == 27_000


async def test_same_id_on_two_connections_is_two_records(db_session: AsyncSession) -> None:
    organization = await make_organization(db_session)
    alice = await make_person(db_session, organization)
    bob = await make_person(db_session, organization)
    alice_whoop = await make_connection(db_session, alice)
    bob_whoop = await make_connection(db_session, bob)
    store = RecordRepository(db_session)
    await store.upsert(alice_whoop.id, alice.id, [sleep_record("same")])
    await store.upsert(bob_whoop.id, bob.id, [sleep_record("same")])
    assert await _count(db_session, SleepSession) == 2


async def test_mixed_types_and_delete(db_session: AsyncSession) -> None:
    organization = await make_organization(db_session)
    person = await make_person(db_session, organization)
    connection = await make_connection(db_session, person)
    store = RecordRepository(db_session)
    recovery = RecoveryRecord(
        provider="whoop",
        provider_record_id="r1",
        score_state=ScoreState.SCORED,
        provider_updated_at=T0,
        raw={},
        recorded_at=T0 + timedelta(hours=8),
        local_date=date(2026, 3, 2),
        hrv_rmssd_ms=55.2,
        resting_hr_bpm=52,
    )
    result = await store.upsert(
        connection.id, person.id, [sleep_record("a"), recovery, sleep_record("b")]
    )
    assert result.inserted == 3
    assert await store.delete(connection.id, "sleep", ["a", "missing"]) == 1
    assert await _count(db_session, SleepSession) == 1
    assert await _count(db_session, Recovery) == 1


async def test_a_large_page_is_written_in_chunks(db_session: AsyncSession) -> None:
    organization = await make_organization(db_session)
    person = await make_person(db_session, organization)
    connection = await make_connection(db_session, person)
    nights = [sleep_record(f"n{index}") for index in range(450)]
    result = await RecordRepository(db_session).upsert(connection.id, person.id, nights)
    assert result.inserted == 450
    assert await _count(db_session, SleepSession) == 450
