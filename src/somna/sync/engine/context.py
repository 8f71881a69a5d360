"""What the parts of a run share: the services it needs, the run being executed, and the
progress events it sends."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from somna.config import Settings
from somna.connections.clients import ConnectionRef
from somna.jobs.port import JobContext, JobQueue
from somna.pacing import Pacer
from somna.sync.engine.ledger import RunLedger
from somna.sync.planner import Window


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """One step of a run, for progress bars: sent after every committed page and at the end."""

    run_id: uuid.UUID
    connection_id: uuid.UUID
    person_id: uuid.UUID
    provider: str
    collection: str | None
    pages: int  # committed in this run so far (all collections)
    records: int  # records received in this run so far
    status: str  # running, then succeeded / partial / failed / cancelled
    done: bool
    error: str | None = None


ProgressCallback = Callable[[SyncProgress], Awaitable[None] | None]


async def notify(progress: ProgressCallback | None, event: SyncProgress) -> None:
    """Hand ``event`` to the callback, sync or async."""
    if progress is None:
        return
    result = progress(event)
    if inspect.isawaitable(result):
        await result


@dataclass
class SyncServices:
    """What executing a run needs: settings, the database, the pacer (and, for tests and
    benchmarks, a transport under the pacer)."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    pacer: Pacer
    transport: httpx.AsyncBaseTransport | None = None
    # Relays the outgoing-webhook jobs a page stages as soon as it commits; without it (CLI,
    # benchmarks) they wait in the outbox for the periodic relay.
    queue: JobQueue | None = None

    @property
    def engine(self) -> AsyncEngine:
        return cast(AsyncEngine, self.sessionmaker.kw["bind"])

    @classmethod
    def from_job(cls, ctx: JobContext) -> SyncServices:
        return cls(ctx.settings, ctx.sessionmaker, ctx.pacer, queue=ctx.queue)


@dataclass
class ActiveRun:
    """The run an executor holds: what it was asked for, and its ledger."""

    id: uuid.UUID
    connection: ConnectionRef
    person_id: uuid.UUID
    requested: Window | None  # explicit dates; None: incremental
    attempt: int
    ledger: RunLedger
    organization_id: uuid.UUID | None = None

    def progress(
        self,
        collection: str | None,
        status: str,
        *,
        done: bool = False,
        error: str | None = None,
    ) -> SyncProgress:
        return SyncProgress(
            run_id=self.id,
            connection_id=self.connection.id,
            person_id=self.person_id,
            provider=self.connection.provider,
            collection=collection,
            pages=self.ledger.pages,
            records=self.ledger.records,
            status=status,
            done=done,
            error=error,
        )
