"""Queue fixtures: every contract test runs on the embedded adapter (SQLite and PostgreSQL)
and on Procrastinate (PostgreSQL)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from somna.config import Settings
from somna.db import create_engine, create_sessionmaker
from somna.jobs import TaskRegistry
from somna.jobs.distributed import ensure_schema, libpq_url
from somna.jobs.runtime import JobRuntime
from tests.conftest import make_settings
from tests.jobs.sample_tasks import registry as sample_registry
from tests.support.databases import PostgresDatabase

PROCRASTINATE_TABLES = (
    "procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, procrastinate_workers"
)
# Small numbers keep every test within seconds: quick polls, no backoff floor, short leases.
FAST_JOBS: dict[str, Any] = {
    "job_poll_seconds": 0.05,
    "job_retry_base_seconds": 0.0,
    "job_retry_max_seconds": 0.0,
    "job_lease_seconds": 3.0,
    "job_stalled_seconds": 2.0,
    "job_stalled_check_seconds": 1,
}


def reset_procrastinate(database_url: str) -> None:
    """Give a test an empty Procrastinate queue in the shared test database."""
    asyncio.run(ensure_schema(database_url))
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        connection.execute(f"TRUNCATE {PROCRASTINATE_TABLES} RESTART IDENTITY CASCADE")


@dataclass
class QueueEnv:
    backend: str
    database_url: str
    settings: Settings
    log: Path
    effects: Path


@pytest.fixture(params=["embedded-sqlite", "embedded-postgresql", "procrastinate-postgresql"])
def queue_env(request: pytest.FixtureRequest, tmp_path: Path) -> QueueEnv:
    backend, database = str(request.param).split("-")
    if database == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, tmp_path / "somna.db")
        url = f"sqlite+aiosqlite:///{tmp_path / 'somna.db'}"
    else:
        postgres: PostgresDatabase = request.getfixturevalue("postgres_database")
        postgres.truncate()
        url = postgres.url
        if backend == "procrastinate":
            reset_procrastinate(url)
    settings = make_settings(url, tmp_path, job_queue=backend, **FAST_JOBS)
    effects = tmp_path / "effects"
    effects.mkdir()
    return QueueEnv(backend, url, settings, tmp_path / "events.log", effects)


@pytest.fixture
async def runtimes(queue_env: QueueEnv) -> AsyncIterator[Callable[..., Any]]:
    """Open job runtimes (each like one process) on the test database; closed afterwards."""
    opened: list[tuple[JobRuntime, Any]] = []

    async def open_runtime(
        registry: TaskRegistry = sample_registry, **overrides: Any
    ) -> JobRuntime:
        settings = queue_env.settings.model_copy(update=overrides)
        engine = create_engine(settings.database_url)
        runtime = JobRuntime(settings, create_sessionmaker(engine), registry=registry)
        await runtime.start()
        opened.append((runtime, engine))
        return runtime

    yield open_runtime
    for runtime, engine in reversed(opened):
        await runtime.aclose()
        await engine.dispose()


@pytest.fixture
async def runtime(runtimes: Callable[..., Any]) -> JobRuntime:
    result: JobRuntime = await runtimes()
    return result
