"""The transactional outbox: a job asked for by committed data reaches the queue exactly once,
even when the hand-off right after the commit fails (on all three set-ups)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from somna.db import create_engine, create_sessionmaker
from somna.jobs.port import JobRequest
from somna.jobs.runtime import JobRuntime
from somna.models import JobOutbox
from tests.jobs.conftest import QueueEnv
from tests.jobs.sample_tasks import lines


@pytest.fixture
async def sessions(queue_env: QueueEnv) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(queue_env.database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


class Outage:
    """The queue refuses every hand-off while on (as when its connection dropped)."""

    def __init__(self, runtime: JobRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
        self.on = True
        self.refused = 0
        deliver = runtime.queue.deliver_in

        async def flaky(session: AsyncSession, request: JobRequest) -> None:
            if self.on:
                self.refused += 1
                raise ConnectionResetError("connection to the queue dropped")
            await deliver(session, request)

        monkeypatch.setattr(runtime.queue, "deliver_in", flaky)


async def _waiting(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(JobOutbox)) or 0)


async def test_a_job_whose_hand_off_fails_after_commit_still_runs_once(
    queue_env: QueueEnv,
    runtime: JobRuntime,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outage = Outage(runtime, monkeypatch)
    async with sessions() as session:
        await runtime.queue.enqueue(session, "test.record", {"log": str(queue_env.log), "key": "k"})
        await session.commit()  # the caller's commit stands although the hand-off failed
    assert outage.refused == 1
    assert await _waiting(sessions) == 1
    assert await runtime.queue.run_until_idle(runtime.services) == 0  # nothing reached the queue
    assert lines(queue_env.log) == []

    outage.on = False
    assert await runtime.queue.relay_outbox() == 1  # what the periodic relay does
    assert await runtime.run_until_idle() == 1
    assert lines(queue_env.log) == [["run", "k", "1"]]
    assert await _waiting(sessions) == 0
    assert await runtime.queue.relay_outbox() == 0
    assert await runtime.run_until_idle() == 0  # delivered once, run once


async def test_the_hand_off_after_commit_needs_no_relay(
    queue_env: QueueEnv, runtime: JobRuntime, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session:
        await runtime.queue.enqueue(session, "test.record", {"log": str(queue_env.log), "key": "n"})
        await session.commit()
    assert await _waiting(sessions) == 0  # already in the queue when commit() returned
    assert await runtime.queue.run_until_idle(runtime.services) == 1
    assert lines(queue_env.log) == [["run", "n", "1"]]


async def test_relays_racing_each_other_deliver_every_job_exactly_once(
    queue_env: QueueEnv,
    runtimes: object,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first: JobRuntime = await runtimes()  # type: ignore[operator]
    second: JobRuntime = await runtimes()  # type: ignore[operator]
    outage = Outage(first, monkeypatch)
    keys = [f"j{index}" for index in range(30)]
    async with sessions() as session:
        for key in keys:
            await first.queue.enqueue(
                session, "test.record", {"log": str(queue_env.log), "key": key}
            )
        await session.commit()
    assert await _waiting(sessions) == len(keys)
    outage.on = False

    counts = await asyncio.gather(
        first.queue.relay_outbox(), second.queue.relay_outbox(), first.queue.relay_outbox()
    )
    assert sum(counts) == len(keys)
    await first.run_until_idle()
    ran = Counter(words[1] for words in lines(queue_env.log))
    assert ran == Counter(keys)  # each exactly once


async def test_a_job_survives_the_database_connection_dropping_during_the_hand_off(
    queue_env: QueueEnv, runtime: JobRuntime, sessions: async_sessionmaker[AsyncSession]
) -> None:
    postgres = queue_env.database_url.startswith("postgresql")
    engine: AsyncEngine = runtime.queue.sessionmaker.kw["bind"]
    dropped: list[str] = []

    def drop_connection(
        _conn: object, cursor: Any, statement: str, *_args: object, **_kwargs: object
    ) -> None:
        # The relay's first statement kills its own server session, as a restart or a
        # network cut would: the hand-off fails after the caller committed. (SQLite has no
        # server: its driver fails as on a lost file handle.)
        if not dropped and statement.lstrip().startswith("DELETE FROM job_outbox"):
            dropped.append(statement)
            if not postgres:
                raise OSError("disk I/O error")
            with contextlib.suppress(Exception):
                cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    event.listen(engine.sync_engine, "before_cursor_execute", drop_connection)
    try:
        async with sessions() as session:
            await runtime.queue.enqueue(
                session, "test.record", {"log": str(queue_env.log), "key": "d"}
            )
            await session.commit()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", drop_connection)
    assert dropped
    assert await _waiting(sessions) == 1

    assert await runtime.queue.relay_outbox() == 1
    assert await runtime.run_until_idle() == 1
    assert lines(queue_env.log) == [["run", "d", "1"]]
