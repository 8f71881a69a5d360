"""Shared fixtures: settings, a clean database per test on each backend, the app and clients."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from somna.app import create_app
from somna.config import Settings
from somna.db import create_engine, create_sessionmaker
from tests.support.databases import (
    database_url,
    postgres_database,
    redis_test_url,
    sqlite_template,
)
from tests.support.server import app_client, serve_in_thread

__all__ = ["database_url", "postgres_database", "redis_test_url", "sqlite_template"]

TEST_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests run last. pytest-playwright's Playwright lives for the session, and
    its sync API marks this thread's event loop as running while it lives: pytest-asyncio
    could not start the loop of an async test after it."""
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": SecretStr(TEST_SECRET),
        "environment": "test",
        "redis_prefix": f"somna-test-{uuid.uuid4().hex[:8]}:",
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client: the app's lifespan runs, requests skip the network."""
    async with app_client(app) as http:
        yield http


@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    """The app served over real HTTP on loopback."""
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture
async def db_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session on the test database, for arranging rows and checking what was stored."""
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()
