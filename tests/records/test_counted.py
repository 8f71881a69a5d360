"""The per-night derived columns and the "counted" flag the store keeps for statistics.

After every write, delete and source-priority change, the flags must equal a resolution of
all the person's records from scratch (``resolve_sleep``), whatever order records arrive in.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from somna import calculations as calc
from somna.config import Settings
from somna.db import create_engine, create_sessionmaker
from somna.models import Connection, Person, SleepSession, UserPreferences
from somna.nights.repository import CountedNights, counted_record_ids
from somna.people.schemas import Preferences
from somna.people.service import put_preferences
from somna.records.canonical import SleepSessionRecord
from somna.records.repository import RecordRepository
from tests.support.factories import NIGHT_START as T0
from tests.support.factories import (
    make_connection,
    make_organization,
    make_person,
    sleep_record,
)

# A hypnogram of 16 epochs of 30 s: 2 wake, then 12 asleep, then 2 wake.
STAGED = "WW" + "LLLLDDDDRRRR" + "WW"


def _record(
    provider: str, record_id: str, start_hours: float, hours: float, **changes: Any
) -> SleepSessionRecord:
    start = T0 + timedelta(hours=start_hours)
    end = start + timedelta(hours=hours)
    return replace(
        sleep_record(record_id, **changes),
        provider=provider,
        start_at=start,
        end_at=end,
        local_date=end.date(),
    )


async def _setup(db_session: AsyncSession) -> tuple[Person, dict[str, Connection]]:
    organization = await make_organization(db_session)
    person = await make_person(db_session, organization)
    connections = {
        provider: await make_connection(db_session, person, provider=provider)
        for provider in ("whoop", "asleep")
    }
    return person, connections


async def _flags(db_session: AsyncSession, person: Person) -> dict[str, bool]:
    rows = await db_session.execute(
        select(SleepSession.provider_record_id, SleepSession.counted).where(
            SleepSession.person_id == person.id
        )
    )
    return {row.provider_record_id: row.counted for row in rows}


async def _from_scratch(db_session: AsyncSession, person: Person) -> dict[str, bool]:
    """What a full resolution of every stored record says, with the stored priority."""
    rows = list(
        await db_session.scalars(select(SleepSession).where(SleepSession.person_id == person.id))
    )
    preferences = await db_session.get(UserPreferences, person.id)
    priority = (preferences.source_priority or []) if preferences else []
    keep = counted_record_ids([calc.SleepPeriod.from_row(row) for row in rows], priority)
    return {row.provider_record_id: str(row.id) in keep for row in rows}


async def test_derived_columns_are_the_analytics_numbers(db_session: AsyncSession) -> None:
    person, connections = await _setup(db_session)
    store = RecordRepository(db_session)
    # 23:00-07:00 at UTC+1, 7 h asleep, 30 min to fall asleep, no provider efficiency.
    whoop = _record(
        "whoop",
        "w",
        0,
        8,
        timezone_offset_minutes=60,
        asleep_seconds=7 * 3600,
        in_bed_seconds=8 * 3600,
        latency_seconds=1800,
        efficiency_pct=None,
    )
    # A hypnogram wins over the totals the record also carries (as night_metrics reads it).
    asleep = _record(
        "asleep",
        "a",
        48,
        len(STAGED) * 30 / 3600,
        asleep_seconds=1,
        hypnogram=STAGED,
        hypnogram_epoch_seconds=30,
    )
    await store.upsert(connections["whoop"].id, person.id, [whoop])
    await store.upsert(connections["asleep"].id, person.id, [asleep])
    rows = {
        row.provider_record_id: row
        for row in await db_session.scalars(
            select(SleepSession).where(SleepSession.person_id == person.id)
        )
    }
    w, a = rows["w"], rows["a"]
    assert w.night_sleep_seconds == 7 * 3600
    assert w.night_efficiency_pct == pytest.approx(87.5)
    # 00:00-08:00 on the record's clock (UTC+1), onset 00:30 after the latency: midpoint
    # 04:15, 16 h 15 min after noon.
    assert w.night_midpoint_minutes == pytest.approx(16 * 60 + 15)
    assert (w.counted, a.counted) == (True, True)  # different nights
    assert a.night_sleep_seconds == 12 * 30
    assert a.night_efficiency_pct == pytest.approx(100 * 12 / 16)
    # Asleep from epoch 2 to 14 on the UTC clock from 23:00: midpoint 23:04, 11 h 4 min.
    assert a.night_midpoint_minutes == pytest.approx(11 * 60 + 4)


async def test_a_later_second_provider_takes_over_the_night(db_session: AsyncSession) -> None:
    person, connections = await _setup(db_session)
    store = RecordRepository(db_session)
    await store.upsert(connections["whoop"].id, person.id, [_record("whoop", "w", 0, 8)])
    assert await _flags(db_session, person) == {"w": True}

    staged = _record(
        "asleep", "a", 0.2, len(STAGED) * 30 / 3600, hypnogram=STAGED, hypnogram_epoch_seconds=30
    )
    await store.upsert(connections["asleep"].id, person.id, [staged])
    # By default the record with a hypnogram counts; both stay stored.
    assert await _flags(db_session, person) == {"w": False, "a": True}


async def test_a_priority_change_recomputes_the_persons_flags(db_session: AsyncSession) -> None:
    person, connections = await _setup(db_session)
    store = RecordRepository(db_session)
    whoop = [_record("whoop", f"w{k}", 24 * k, 8) for k in range(3)]
    asleep = [_record("asleep", f"a{k}", 24 * k + 0.5, 7) for k in range(2)]
    await store.upsert(connections["whoop"].id, person.id, whoop)
    await store.upsert(connections["asleep"].id, person.id, asleep)
    # No hypnograms: by default the longer sleep (WHOOP's 8 h against Asleep's 7 h) counts.
    assert await _flags(db_session, person) == {
        "w0": True, "w1": True, "w2": True, "a0": False, "a1": False,
    }  # fmt: skip
    await put_preferences(db_session, person, Preferences(source_priority=["asleep"]))
    assert await _flags(db_session, person) == {
        "w0": False, "w1": False, "w2": True, "a0": True, "a1": True,
    }  # fmt: skip
    await put_preferences(db_session, person, Preferences(source_priority=["whoop", "asleep"]))
    assert await _flags(db_session, person) == {
        "w0": True, "w1": True, "w2": True, "a0": False, "a1": False,
    }  # fmt: skip
    # An unrelated change (the goal) leaves the flags alone and they stay right.
    await put_preferences(
        db_session, person, Preferences(sleep_goal_hours=7, source_priority=["whoop", "asleep"])
    )
    assert await _flags(db_session, person) == await _from_scratch(db_session, person)


async def test_deleting_the_counted_record_hands_the_night_back(
    db_session: AsyncSession,
) -> None:
    person, connections = await _setup(db_session)
    store = RecordRepository(db_session)
    await store.upsert(connections["whoop"].id, person.id, [_record("whoop", "w", 0, 8)])
    staged = _record(
        "asleep", "a", 0.1, len(STAGED) * 30 / 3600, hypnogram=STAGED, hypnogram_epoch_seconds=30
    )
    await store.upsert(connections["asleep"].id, person.id, [staged])
    assert await _flags(db_session, person) == {"w": False, "a": True}
    assert await store.delete(connections["asleep"].id, "sleep", ["a"]) == 1
    assert await _flags(db_session, person) == {"w": True}


async def test_a_record_moved_out_of_a_chain_splits_it(db_session: AsyncSession) -> None:
    person, connections = await _setup(db_session)
    store = RecordRepository(db_session)
    # A long Asleep sleep bridging two WHOOP records: one group, the long one counts.
    await store.upsert(
        connections["whoop"].id,
        person.id,
        [_record("whoop", "w1", 0, 3), _record("whoop", "w2", 4, 4)],
    )
    bridge = _record("asleep", "a", -0.5, 9, asleep_seconds=8 * 3600)
    await store.upsert(connections["asleep"].id, person.id, [bridge])
    assert await _flags(db_session, person) == {"w1": False, "w2": False, "a": True}
    # The provider re-scores it to a later night: the two WHOOP records count again.
    moved = replace(
        _record("asleep", "a", 30, 8, asleep_seconds=8 * 3600),
        provider_updated_at=T0 + timedelta(days=3),
    )
    result = await store.upsert(connections["asleep"].id, person.id, [moved])
    assert result.updated == 1
    assert await _flags(db_session, person) == {"w1": True, "w2": True, "a": True}


async def test_flags_equal_a_full_resolution_after_any_sequence(
    db_session: AsyncSession,
) -> None:
    """Random records (chains, naps, hypnograms, zero-length) written in random batches,
    re-scored, deleted and re-prioritised: after each step, flags equal a fresh resolution."""
    rng = random.Random(20261124)
    person, connections = await _setup(db_session)
    store = RecordRepository(db_session)
    records: dict[str, SleepSessionRecord] = {}
    for index in range(60):
        provider = rng.choice(["whoop", "asleep"])
        staged = provider == "asleep" and rng.random() < 0.5
        hours = 0.0 if index == 7 else rng.uniform(0.5, 14)
        records[f"r{index}"] = _record(
            provider,
            f"r{index}",
            rng.uniform(0, 24 * 8),
            len(STAGED) * 30 / 3600 if staged else hours,
            asleep_seconds=rng.choice([None, rng.randint(600, 30_000)]),
            is_nap=rng.random() < 0.15,
            hypnogram=STAGED if staged else None,
            hypnogram_epoch_seconds=30 if staged else None,
        )
    pending = list(records.values())
    rng.shuffle(pending)
    while pending:
        size = rng.randint(1, 6)
        batch, pending = pending[:size], pending[size:]
        for provider in ("whoop", "asleep"):
            mine = [r for r in batch if r.provider == provider]
            if mine:
                await store.upsert(connections[provider].id, person.id, mine)
        assert await _flags(db_session, person) == await _from_scratch(db_session, person)
    stored = await _flags(db_session, person)
    assert 0 < sum(stored.values()) < len(stored)  # some overlaps were resolved

    for step in range(25):
        record = records[rng.choice(sorted(records))]
        action = rng.choice(["move", "delete", "priority"])
        if action == "move":
            moved = _record(
                record.provider,
                record.provider_record_id,
                rng.uniform(0, 24 * 8),
                rng.uniform(0.5, 12),
                updated=T0 + timedelta(days=10 + step),
            )
            records[moved.provider_record_id] = moved
            await store.upsert(connections[moved.provider].id, person.id, [moved])
        elif action == "delete":
            del records[record.provider_record_id]
            await store.delete(
                connections[record.provider].id, "sleep", [record.provider_record_id]
            )
        else:
            order = rng.choice([None, ["whoop"], ["asleep"], ["asleep", "whoop"]])
            await put_preferences(db_session, person, Preferences(source_priority=order))
        assert await _flags(db_session, person) == await _from_scratch(db_session, person), step


async def test_refresh_fixes_flags_and_reports_changes(db_session: AsyncSession) -> None:
    """``refresh`` with no spans recomputes everything (for callers that removed records
    another way, such as a deleted connection's cascade)."""
    person, connections = await _setup(db_session)
    store = RecordRepository(db_session)
    await store.upsert(
        connections["whoop"].id,
        person.id,
        [_record("whoop", "w1", 0, 8), _record("whoop", "w2", 1, 8)],
    )
    flags = await _flags(db_session, person)
    assert sorted(flags.values()) == [False, True]
    counting = SleepSession.provider_record_id == ("w1" if flags["w1"] else "w2")
    await db_session.execute(update(SleepSession).where(counting).values(counted=False))
    refreshed = CountedNights(db_session)
    assert await refreshed.refresh(person.id) == 1
    assert await _flags(db_session, person) == flags
    assert await refreshed.refresh(person.id) == 0
    assert await refreshed.refresh(uuid.uuid4()) == 0  # nobody: nothing to do


async def test_two_providers_storing_one_night_at_once(
    settings: Settings, db_session: AsyncSession
) -> None:
    """Two syncs in two transactions: the second waits for the first's person lock, then sees
    its record, so the night does not count twice."""
    person, connections = await _setup(db_session)
    await db_session.commit()
    staged = _record(
        "asleep", "a", 0.2, len(STAGED) * 30 / 3600, hypnogram=STAGED, hypnogram_epoch_seconds=30
    )
    engine = create_engine(settings.database_url)
    try:
        sessions = create_sessionmaker(engine)
        async with sessions() as first, sessions() as second:
            await RecordRepository(first).upsert(
                connections["whoop"].id, person.id, [_record("whoop", "w", 0, 8)]
            )
            later = asyncio.create_task(
                RecordRepository(second).upsert(connections["asleep"].id, person.id, [staged])
            )
            await asyncio.sleep(0.3)  # give the second writer time to reach the lock
            await first.commit()
            await later
            await second.commit()
    finally:
        await engine.dispose()
    assert await _flags(db_session, person) == {"w": False, "a": True}


async def test_disconnecting_with_delete_data_hands_the_night_back(
    db_session: AsyncSession, settings: Settings
) -> None:
    from somna.connections.service import disconnect
    from somna.pacing import create_pacer
    from somna.sync.engine import SyncServices
    from somna.sync.for_connections import SyncForConnections

    person, connections = await _setup(db_session)
    store = RecordRepository(db_session)
    await store.upsert(connections["whoop"].id, person.id, [_record("whoop", "w", 0, 8)])
    staged = _record(
        "asleep", "a", 0.2, len(STAGED) * 30 / 3600, hypnogram=STAGED, hypnogram_epoch_seconds=30
    )
    await store.upsert(connections["asleep"].id, person.id, [staged])
    assert await _flags(db_session, person) == {"w": False, "a": True}
    # Already revoked at the provider, so disconnecting makes no network call.
    connections["asleep"].status = "revoked"
    await db_session.flush()

    engine = create_engine(settings.database_url)
    try:
        services = SyncServices(settings, create_sessionmaker(engine), create_pacer(settings))
        await disconnect(
            db_session, SyncForConnections(services), person, "asleep", delete_data=True
        )
    finally:
        await engine.dispose()
    assert await _flags(db_session, person) == {"w": True}
    assert await _flags(db_session, person) == await _from_scratch(db_session, person)
