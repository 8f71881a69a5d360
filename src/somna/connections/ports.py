"""What connecting and disconnecting need from outside the connections package.

Sync depends on connections (a run builds its provider through ``connections.clients``), so
connections cannot import sync back. What a connect or a disconnect asks of sync (queue the
backfill, forget the checkpoints, stop pending runs, count what it stored) is this
port instead; ``somna.sync.for_connections`` implements it, and the callers (endpoints, pages,
privacy) hand it in.
"""

from __future__ import annotations

import uuid
from typing import Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from somna.config import Settings
from somna.jobs.port import JobQueue
from somna.models import Connection


class ConnectionServices(Protocol):
    """Settings, the database, the provider budget, and sync's side of a connection's life."""

    @property
    def settings(self) -> Settings: ...

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]: ...

    @property
    def engine(self) -> AsyncEngine: ...

    @property
    def queue(self) -> JobQueue | None: ...

    def paced_transport(self, provider: str, budget_key: str) -> httpx.AsyncBaseTransport:
        """A transport that spends ``provider``'s request budget under ``budget_key``."""
        ...

    async def request_backfill(
        self, session: AsyncSession, queue: JobQueue, connection: Connection
    ) -> None:
        """Queue the first sync of a connection just made (sent after the caller commits)."""
        ...

    async def forget_progress(self, session: AsyncSession, connection_id: uuid.UUID) -> None:
        """Drop the connection's checkpoints, so its next sync backfills."""
        ...

    async def cancel_runs(
        self, session: AsyncSession, connection_id: uuid.UUID, reason: str
    ) -> None:
        """Cancel the connection's queued and running syncs."""
        ...

    async def count_records(self, session: AsyncSession, connection_id: uuid.UUID) -> int:
        """How many records the connection brought in."""
        ...
