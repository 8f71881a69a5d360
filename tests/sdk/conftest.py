"""The SDK against the real app served on loopback, on each database backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna_client import AsyncSomna, Somna
from tests.conftest import make_settings
from tests.support.auth import Org, TestKey, create_api_key, create_organization


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Jobs (exports, syncs) run inside the served app, so ``wait()`` sees them finish."""
    return make_settings(database_url, tmp_path, job_queue="embedded", worker_in_app=True)


@pytest.fixture
async def http(live_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to the live server, for arranging and checking."""
    async with httpx.AsyncClient(base_url=live_url) as client:
        yield client


@pytest.fixture
async def org(db_session: AsyncSession, http: httpx.AsyncClient) -> Org:
    return await create_organization(db_session, http)


@pytest.fixture
async def key(http: httpx.AsyncClient, org: Org) -> TestKey:
    """A key with every grant (read and write on every scope) and its signing secret."""
    return await create_api_key(http, org.owner.headers)


@pytest.fixture
def client(live_url: str, key: TestKey) -> Iterator[Somna]:
    with Somna(live_url, api_key=key.key, signing_secret=key.signing_secret) as somna:
        yield somna


@pytest.fixture
async def aclient(live_url: str, key: TestKey) -> AsyncIterator[AsyncSomna]:
    async with AsyncSomna(live_url, api_key=key.key, signing_secret=key.signing_secret) as somna:
        yield somna
