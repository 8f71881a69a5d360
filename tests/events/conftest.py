"""Fixtures for the ingestion API: a real-HTTP client on the live server and publishers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import UsageEvent
from tests.support.auth import Org, TestKey, create_api_key, create_organization

PACKAGE = "my-package"
SINGLE = "/api/analytics"
BATCH = "/api/analytics/batch"


@pytest.fixture
async def http(live_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client talking to the app over real HTTP on loopback."""
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as client:
        yield client


@dataclass(frozen=True)
class Publisher:
    org: Org
    key: TestKey
    package: str

    @property
    def headers(self) -> dict[str, str]:
        return self.key.headers


async def make_publisher(
    db_session: AsyncSession,
    http: httpx.AsyncClient,
    *,
    package: str = PACKAGE,
    org: Org | None = None,
    **key_fields: Any,
) -> Publisher:
    """An organisation (or ``org``) with a key bound to ``package`` holding ``events:write``."""
    org = org or await create_organization(db_session, http)
    key = await create_api_key(
        http,
        org.owner.headers,
        scopes=["events"],
        permissions=["write"],
        package_name=package,
        **key_fields,
    )
    return Publisher(org, key, package)


@pytest.fixture
async def publisher(db_session: AsyncSession, http: httpx.AsyncClient) -> Publisher:
    return await make_publisher(db_session, http)


def make_event(**overrides: Any) -> dict[str, Any]:
    """The document's minimal event, with a fresh session id."""
    event: dict[str, Any] = {
        "session_id": str(uuid.uuid4()),
        "package_name": PACKAGE,
        "package_version": "1.0.0",
        "python_version": "3.11.5",
        "os_type": "Linux",
        "event_timestamp": "2024-01-15T10:30:00Z",
    }
    event.update(overrides)
    return {key: value for key, value in event.items() if value is not None}


async def stored_count(db_session: AsyncSession, **where: Any) -> int:
    """Events stored, optionally filtered by column values."""
    await db_session.commit()  # end any read transaction: SQLite would keep its old snapshot
    statement = select(func.count()).select_from(UsageEvent)
    for name, value in where.items():
        statement = statement.where(getattr(UsageEvent, name) == value)
    return int(await db_session.scalar(statement) or 0)
