"""Test databases: a fresh, migrated database for every test, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from somna import migrations
from somna.kit.models import Base

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, why: BaseException) -> None:
    """Skip on a laptop without the service; fail in CI, where it must be there."""
    message = f"{what} is not reachable ({type(why).__name__}: {why})"
    if in_ci():
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


def postgres_base_url() -> str:
    return os.environ.get("SOMNA_TEST_DATABASE_URL", DEFAULT_POSTGRES_URL)


def redis_url() -> str:
    return os.environ.get("SOMNA_TEST_REDIS_URL", DEFAULT_REDIS_URL)


class PostgresDatabase:
    """A database of its own for this test process, so parallel runs never collide."""

    def __init__(self, base_url: str) -> None:
        self.base = make_url(base_url)
        self.name = f"somna_test_{uuid.uuid4().hex[:12]}"
        self.url = self.base.set(database=self.name).render_as_string(hide_password=False)
        self._admin_url = self.base.set(drivername="postgresql+psycopg").render_as_string(
            hide_password=False
        )

    def create(self) -> None:
        engine = create_engine(self._admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        finally:
            engine.dispose()
        migrations.upgrade(self.url)

    def drop(self) -> None:
        engine = create_engine(self._admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        finally:
            engine.dispose()

    def truncate(self) -> None:
        """Empty Somna's tables and, when a test created them, Procrastinate's jobs."""
        names = [table.name for table in Base.metadata.sorted_tables]
        engine = create_engine(migrations.sync_url(self.url))
        try:
            with engine.begin() as connection:
                procrastinate = connection.scalars(
                    text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'procrastinate_%'")
                ).all()
                names += list(procrastinate)
                tables = ", ".join(f'"{name}"' for name in names)
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresDatabase]:
    database = PostgresDatabase(postgres_base_url())
    try:
        database.create()
    except Exception as exc:  # any connection failure means "not here"
        unavailable("PostgreSQL", exc)
    yield database
    database.drop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test: migrating per test would be slow."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrations.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean, migrated database on each backend; the same test body runs on both."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "somna.db"
        shutil.copyfile(template, target)
        return f"sqlite+aiosqlite:///{target}"
    database: PostgresDatabase = request.getfixturevalue("postgres_database")
    database.truncate()
    return database.url


@pytest.fixture
def redis_test_url() -> str:
    """A reachable Redis URL; keys written by a test use a unique prefix (see ``settings``)."""
    import redis

    url = redis_url()
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except Exception as exc:
        unavailable("Redis", exc)
    finally:
        client.close()
    return url
