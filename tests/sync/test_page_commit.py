"""The page commit's own guarantees, as the fewer-statement write path keeps them: the run row
is a compare-and-set on its executor and its page count, SQLite writers of one process queue
instead of polling the file lock, and provider clients share one TLS context."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.db import create_engine, create_sessionmaker, write_transaction
from somna.kit.http import new_transport
from somna.models import SyncCheckpoint, SyncRun
from somna.providers.http import ProviderHttp
from somna.sandbox import WhoopSandbox
from somna.sync.engine import SyncProgress, execute_run
from tests.conftest import make_settings
from tests.connections.support import (
    asleep,
    queue_run,
    stored_ids,
    sync_app,
    sync_settings,
    whoop,
    whoop_connection,
)
from tests.sync.test_sync_engine import services_for

__all__ = ["asleep", "sync_app", "sync_settings", "whoop"]


async def test_a_page_is_rolled_back_when_a_page_was_committed_behind_the_executors_back(
    sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    """Another executor under the same name (a stalled job retried in the same worker) commits
    a page: the first one's next page is refused whole, records and checkpoint included, and
    it stops; its counts never overwrite what the other wrote."""
    # One page a commit: the compare-and-set is per commit, whatever it holds.
    settings = sync_settings.model_copy(update={"sync_page_size": 5, "sync_pages_per_commit": 1})
    services = services_for(settings)
    member = whoop.members[0]
    connection = await whoop_connection(db_session, settings, whoop, member)
    connection_id = connection.id
    run_id = (await queue_run(db_session, connection)).id
    other = create_engine(settings.database_url)
    bumped_at: list[int] = []

    async def another_executor_commits(event: SyncProgress) -> None:
        if event.collection == "sleep" and not bumped_at:
            bumped_at.append(event.pages)
            async with create_sessionmaker(other)() as session, session.begin():
                await session.execute(
                    update(SyncRun)
                    .where(SyncRun.id == run_id)
                    .values(pages=SyncRun.pages + 1, counts={"sleep": {"pages": 7}})
                )

    try:
        status = await execute_run(services, run_id, progress=another_executor_commits)
    finally:
        await services.engine.dispose()
        await other.dispose()

    assert status == "running"  # left to its other executor
    db_session.expire_all()
    run = await db_session.get(SyncRun, run_id)
    assert run is not None
    assert (run.pages, run.counts) == (bumped_at[0] + 1, {"sleep": {"pages": 7}})
    assert len(await stored_ids(db_session, connection_id, "sleep")) == 5  # page one only
    checkpoint = await db_session.get(SyncCheckpoint, (connection_id, "sleep"))
    assert checkpoint is not None
    assert checkpoint.run_id == run_id
    assert checkpoint.next_token is not None  # the cursor after page one, not after two


async def test_sqlite_writers_of_one_process_queue_and_postgresql_ones_do_not(
    database_url: str, tmp_path: Path
) -> None:
    """On SQLite a second write transaction starts only once the first committed (it would
    otherwise sleep in the busy handler); on PostgreSQL both are open at once."""
    settings = make_settings(database_url, tmp_path)
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    events: list[str] = []
    first_inside = asyncio.Event()
    second_inside = asyncio.Event()

    async def first() -> None:
        async with write_transaction(sessionmaker) as session:
            await session.execute(text("SELECT 1"))
            events.append("first in")
            first_inside.set()
            if engine.dialect.name == "postgresql":
                await second_inside.wait()  # never set on SQLite: the queue would deadlock
            else:
                for _ in range(20):  # give the second every chance to get in
                    await asyncio.sleep(0)
            events.append("first out")

    async def second() -> None:
        await first_inside.wait()
        async with write_transaction(sessionmaker) as session:
            await session.execute(text("SELECT 1"))
            events.append("second in")
            second_inside.set()
        events.append("second out")

    try:
        await asyncio.gather(first(), second())
    finally:
        await engine.dispose()

    if engine.dialect.name == "sqlite":
        assert events == ["first in", "first out", "second in", "second out"]
    else:
        assert events.index("second in") < events.index("first out")


async def test_provider_clients_share_one_tls_context() -> None:
    one = ProviderHttp("whoop", "https://example.invalid")
    two = ProviderHttp("whoop", "https://example.invalid")
    try:
        contexts = {
            id(client._client._transport._pool._ssl_context)  # type: ignore[attr-defined]
            for client in (one, two)
        }
        assert len(contexts) == 1
        assert new_transport()._pool._ssl_context is one._client._transport._pool._ssl_context  # type: ignore[attr-defined]
    finally:
        await one.aclose()
        await two.aclose()
