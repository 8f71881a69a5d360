"""One token refresh per connection across processes, with no database connection held while
the provider's token endpoint answers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import QueuePool

from somna.config import Settings
from somna.connections.clients import (
    ConnectionRefreshLease,
    ConnectionTokenStore,
    decrypted_tokens,
    refresher,
    token_box,
)
from somna.connections.refresh import ManagedToken
from somna.db import create_engine, create_sessionmaker
from somna.models import Connection
from somna.providers.oauth import TokenSet
from somna.providers.whoop.provider import WhoopProvider
from somna.sandbox import WhoopSandbox
from tests.connections.support import asleep, sync_settings, whoop, whoop_connection

__all__ = ["asleep", "sync_settings", "whoop"]


def _checked_out(engine: AsyncEngine) -> int:
    """Database connections the engine's pool has lent out right now."""
    pool: QueuePool = engine.pool  # type: ignore[assignment]  # both backends pool by queue
    return pool.checkedout()


async def test_racing_processes_refresh_once_without_holding_a_connection(
    sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    connection = await whoop_connection(db_session, sync_settings, whoop, whoop.members[0])
    connection_id = connection.id
    stale = decrypted_tokens(token_box(sync_settings), connection)
    assert stale is not None
    # Two engines are two pools of database sessions, as two processes would have.
    engines: list[AsyncEngine] = [create_engine(sync_settings.database_url) for _ in range(2)]
    held_during_calls: list[int] = []
    call_token = refresher(sync_settings, WhoopProvider)

    async def observed_refresh(tokens: TokenSet) -> TokenSet:
        held_during_calls.append(sum(_checked_out(engine) for engine in engines))
        await asyncio.sleep(0.05)  # the provider takes a while: the others must wait, not call
        return await call_token(tokens)

    try:
        workers = []
        for index in range(8):
            sessions = create_sessionmaker(engines[index % 2])
            store = ConnectionTokenStore(sessions, connection_id, token_box(sync_settings))
            lease = ConnectionRefreshLease(
                sessions, connection_id, lease_seconds=60, poll_seconds=0.01
            )
            workers.append(ManagedToken(f"whoop:{connection_id}", observed_refresh, store, lease))
        results = await asyncio.gather(
            *(worker.refresh(stale_access_token=stale.access_token) for worker in workers)
        )
    finally:
        for engine in engines:
            await engine.dispose()

    assert whoop.token_calls["refresh_token"] == 1
    assert held_during_calls == [0]
    assert len({result.access_token for result in results}) == 1
    db_session.expire_all()
    stored = await db_session.get(Connection, connection_id)
    assert stored is not None
    assert decrypted_tokens(token_box(sync_settings), stored) == results[0]
    assert (stored.refresh_claimed_by, stored.refresh_claimed_until) == (None, None)


async def test_a_lease_left_by_a_dead_process_is_taken_once_it_expires(
    sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    connection = await whoop_connection(db_session, sync_settings, whoop, whoop.members[0])
    connection.refresh_claimed_by = "dead-host:1:abc"
    connection.refresh_claimed_until = connection.created_at - timedelta(seconds=1)
    await db_session.commit()
    connection_id = connection.id
    engine = create_engine(sync_settings.database_url)
    try:
        sessions = create_sessionmaker(engine)
        lease = ConnectionRefreshLease(sessions, connection_id, lease_seconds=60, wait_seconds=5)
        async with lease.hold(f"whoop:{connection_id}"):
            db_session.expire_all()
            held = await db_session.get(Connection, connection_id)
            assert held is not None
            assert held.refresh_claimed_by is not None
            assert held.refresh_claimed_by != "dead-host:1:abc"
    finally:
        await engine.dispose()
