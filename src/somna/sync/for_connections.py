"""Sync's side of a connection's life, as the port ``somna.connections.ports`` declares.

Connections sits below sync (sync builds its providers through ``connections.clients``), so
connect and disconnect reach sync only through this adapter, which their callers hand in.
"""

from __future__ import annotations

import uuid

import httpx
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from somna.config import Settings
from somna.jobs.port import JobQueue
from somna.models import Connection
from somna.pacing import PacedTransport
from somna.sync.dependencies import get_sync_services
from somna.sync.engine import SyncServices
from somna.sync.repositories import StoredRecords, SyncRunRepository
from somna.sync.service import forget_progress, request_sync


class SyncForConnections:
    """``ConnectionServices`` on top of the sync services of the app, a job or a test."""

    def __init__(self, services: SyncServices) -> None:
        self.services = services

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        return self.services.sessionmaker

    @property
    def engine(self) -> AsyncEngine:
        return self.services.engine

    @property
    def queue(self) -> JobQueue | None:
        return self.services.queue

    def paced_transport(self, provider: str, budget_key: str) -> httpx.AsyncBaseTransport:
        services = self.services
        return PacedTransport(services.pacer, provider, budget_key, services.transport)

    async def request_backfill(
        self, session: AsyncSession, queue: JobQueue, connection: Connection
    ) -> None:
        await request_sync(session, queue, connection, trigger="connect")

    async def forget_progress(self, session: AsyncSession, connection_id: uuid.UUID) -> None:
        await forget_progress(session, connection_id)

    async def cancel_runs(
        self, session: AsyncSession, connection_id: uuid.UUID, reason: str
    ) -> None:
        await SyncRunRepository(session).cancel_pending(connection_id, reason)

    async def count_records(self, session: AsyncSession, connection_id: uuid.UUID) -> int:
        return await StoredRecords(session).count_for_connection(connection_id)


def connection_services_for(request: Request) -> SyncForConnections:
    """The app's ``ConnectionServices`` for one request (``somna.connections.dependencies``)."""
    return SyncForConnections(get_sync_services(request))
