"""One engine and one session factory per process, and the request-scoped session."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from somna.state import app_state

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _prepare_sqlite(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers run beside the one writer; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for SQLite (aiosqlite) or PostgreSQL (asyncpg)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _prepare_sqlite)
        return engine
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: objects stay readable after the commit, without hidden reloads.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


# One asyncio lock per SQLite file and event loop: the writers of this process queue on it.
_SQLITE_WRITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


@contextlib.asynccontextmanager
async def write_transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session in a transaction that is going to write, committed when the block ends.

    On SQLite the writers of this process first queue on an asyncio lock, held to the commit.
    SQLite has one writer per file anyway, but a writer that finds the file locked sleeps
    in the busy handler (1, 2, 5 ... 100 ms) and polls again, so with a few concurrent writers
    the lock stood free most of the time while they slept: measured in the sync benchmark,
    the first write of a page transaction waited 47 ms on average behind 8 others. Queued
    here, the next writer starts the moment the last commits. Other processes (a CLI beside
    the server) still meet the busy timeout. PostgreSQL locks rows, not the database: no
    queue there."""
    engine = sessionmaker.kw["bind"]
    if engine.dialect.name != "sqlite":
        async with sessionmaker() as session, session.begin():
            yield session
        return
    locks = _SQLITE_WRITERS.setdefault(asyncio.get_running_loop(), {})
    gate = locks.setdefault(str(engine.url), asyncio.Lock())
    # As long as SQLite itself would wait before saying "database is locked": a writer that
    # never commits fails the others, as it did without the queue, instead of hanging them.
    async with sessionmaker() as session:
        async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
            await gate.acquire()
        try:
            async with session.begin():
                yield session
        finally:
            # Released at the commit: handing the connection back to the pool (its reset,
            # another trip to the driver's thread) no longer holds the next writer up.
            gate.release()


async def ping(engine: AsyncEngine) -> None:
    """Raise if the database does not answer a trivial query."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session: committed once when the endpoint returns, rolled back on error."""
    async with app_state(request).sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


# scope="function": the commit happens before the response is sent, so a client that reads its
# own write right after the response always sees it.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
