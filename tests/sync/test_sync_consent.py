"""Consent is respected mid-page: a disconnect racing a sync page's commit.

The page is held inside its transaction, after its connection check, while the person
disconnects. Whatever the order the database settles on, no record of the connection may be
stored once the disconnect is done.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.connections.service import disconnect
from somna.db import create_engine, create_sessionmaker
from somna.models import Person, SyncRun
from somna.pacing import MemoryPacer, provider_budgets
from somna.records.repository import COLLECTION_MODELS, RecordRepository
from somna.sandbox import WhoopSandbox
from somna.sync.engine import SyncServices, execute_run
from somna.sync.for_connections import SyncForConnections
from tests.connections.support import (
    asleep,
    count_rows,
    queue_run,
    sync_settings,
    whoop,
    whoop_connection,
)

__all__ = ["asleep", "sync_settings", "whoop"]

# Long enough for an unguarded disconnect to finish while the page is held; a guarded one
# waits for the page however long this is (the outcome asserted never depends on it).
HOLD_SECONDS = 1.0


async def _records(session: AsyncSession, connection_id: uuid.UUID) -> int:
    session.expire_all()
    total = 0
    for collection, model in COLLECTION_MODELS.items():
        total += await count_rows(session, collection, model.connection_id == connection_id)
    return total


@pytest.mark.parametrize("delete_data", [False, True], ids=["revoke", "delete"])
async def test_a_disconnect_racing_a_page_commit_leaves_no_record_after_it(
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
    monkeypatch: pytest.MonkeyPatch,
    delete_data: bool,
) -> None:
    engine = create_engine(sync_settings.database_url)
    services = SyncServices(
        sync_settings,
        create_sessionmaker(engine),
        MemoryPacer(provider_budgets(sync_settings), max_wait=30.0),
    )
    connection = await whoop_connection(db_session, sync_settings, whoop, whoop.members[0])
    connection_id, person_id = connection.id, connection.person_id
    run_id = (await queue_run(db_session, connection)).id

    inside, release = asyncio.Event(), asyncio.Event()
    original = RecordRepository.write

    async def held_write(self: RecordRepository, *args: Any, **kwargs: Any) -> Any:
        if not inside.is_set():
            inside.set()
            await release.wait()  # the first page waits here, inside its transaction
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(RecordRepository, "write", held_write)

    async def withdraw() -> None:
        async with services.sessionmaker() as session:
            person = await session.get(Person, person_id)
            assert person is not None
            await disconnect(
                session, SyncForConnections(services), person, "whoop", delete_data=delete_data
            )
            await session.commit()

    try:
        syncing = asyncio.create_task(execute_run(services, run_id))
        async with asyncio.timeout(30):
            await inside.wait()
        withdrawing = asyncio.create_task(withdraw())
        finished, _ = await asyncio.wait({withdrawing}, timeout=HOLD_SECONDS)
        stored_when_done = await _records(db_session, connection_id) if finished else None
        release.set()
        async with asyncio.timeout(60):
            await withdrawing
            if stored_when_done is None:
                stored_when_done = await _records(db_session, connection_id)
            status = await syncing
    finally:
        release.set()
        await engine.dispose()

    # Stopped by the disconnect (or by the tokens it revoked at the provider before it).
    assert status in ("cancelled", "failed")
    assert await _records(db_session, connection_id) == stored_when_done
    if delete_data:
        assert stored_when_done == 0
    run = await db_session.scalar(select(SyncRun).where(SyncRun.id == run_id))
    assert run is not None
    assert run.status == status
