"""Nothing lost, nothing twice, with real processes.

Workers are ``somna worker`` subprocesses syncing from a WHOOP sandbox (in this process, on
loopback) that answers slowly, fails now and then with 5xx, refuses bursts with 429 and kills
access tokens early. One worker's whole process tree is SIGKILLed mid-sync. Afterwards every
record the sandbox holds is stored exactly once, the sandbox never counted more requests than
the budget in any window, and the runs the kill interrupted were taken up again and finished.
Distributed: two workers on PostgreSQL (Procrastinate) and Redis (the shared pacer).
Embedded: one worker on SQLite, killed and started again.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text
from sqlalchemy.engine import Engine

from somna import migrations
from somna.config import Settings
from somna.db import create_engine, create_sessionmaker
from somna.jobs.runtime import JobRuntime
from somna.kit.time import utc_now
from somna.models import Connection
from somna.sandbox import WhoopConfig, WhoopSandbox
from somna.sync.service import request_sync
from tests.conftest import make_settings
from tests.connections.support import assert_whoop_complete, whoop_connection
from tests.jobs.conftest import reset_procrastinate
from tests.jobs.processes import kill_tree, stop, wait_for, worker_env
from tests.support.databases import PostgresDatabase
from tests.support.factories import make_organization, make_person

PEOPLE = 4
LIMIT = 240  # requests per minute, for the sandbox and for Somna's budget alike
FAST: dict[str, Any] = {
    "job_poll_seconds": 0.1,
    "job_retry_base_seconds": 0.2,
    "job_retry_max_seconds": 1.0,
    "job_lease_seconds": 1.5,
    "job_stalled_seconds": 2.0,
    "job_stalled_check_seconds": 1,
    "sync_page_size": 5,
    "sync_interval_minutes": 0,
    "provider_max_retries": 4,
    "whoop_requests_per_minute": LIMIT,
}


@pytest.fixture
def faulty_whoop() -> Iterator[WhoopSandbox]:
    sandbox = WhoopSandbox(WhoopConfig(seed=11, days=21, per_minute=LIMIT), people=PEOPLE)
    sandbox.freeze_clock(utc_now())
    sandbox.set_faults(
        latency_seconds=0.05,
        error_rate=0.03,
        rate_limit_next=3,
        rate_limit_retry_after=1,
        token_lifetime_requests=15,
    )
    with sandbox:
        yield sandbox


def _settings(url: str, tmp_path: Path, whoop: WhoopSandbox, **extra: Any) -> Settings:
    return make_settings(url, tmp_path, **whoop.settings_overrides(), **FAST, **extra)


def _env(settings: Settings) -> dict[str, str]:
    extra: dict[str, object] = {
        "whoop_api_base": settings.whoop_api_base,
        "whoop_oauth_base": settings.whoop_oauth_base,
        "whoop_client_id": settings.whoop_client_id,
        "whoop_client_secret": settings.whoop_client_secret.get_secret_value(),
        **{name: getattr(settings, name) for name in FAST},
    }
    if settings.redis_url:
        extra["redis_url"] = settings.redis_url
    return worker_env(settings, **extra)


def _start(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """``somna worker`` in a session of its own, so a kill reaches all of it."""
    with (cwd / f"worker-{uuid.uuid4().hex[:6]}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "somna", "worker", "--concurrency", "2"],
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def _arrange(settings: Settings, whoop: WhoopSandbox) -> dict[int, uuid.UUID]:
    """A connection per sandbox member, and a queued sync of each (sent as jobs)."""
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    runtime = JobRuntime(settings, sessionmaker)
    await runtime.start()
    connections: dict[int, uuid.UUID] = {}
    try:
        async with sessionmaker() as session:
            organization = await make_organization(session)
            for member in whoop.members:
                person = await make_person(session, organization)
                connection = await whoop_connection(session, settings, whoop, member, person=person)
                connections[member.user_id] = connection.id
        async with sessionmaker() as session, session.begin():
            for connection_id in connections.values():
                row = await session.get(Connection, connection_id)
                assert row is not None
                await request_sync(session, runtime.queue, row, trigger="manual")
    finally:
        await runtime.aclose()
        await engine.dispose()
    return connections


async def _assert_complete(
    settings: Settings, whoop: WhoopSandbox, ids: dict[int, uuid.UUID]
) -> None:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            for member in whoop.members:
                await assert_whoop_complete(session, whoop, member, ids[member.user_id])
    finally:
        await engine.dispose()


def _runs(db: Engine) -> dict[str, tuple[str, int, int]]:
    """run id -> (status, pages, attempts)."""
    with db.connect() as connection:
        rows = connection.execute(text("SELECT id, status, pages, attempts FROM sync_runs"))
        return {str(row[0]): (row[1], row[2], row[3]) for row in rows}


def _in_flight(db: Engine, min_pages: int) -> set[str]:
    return {
        run_id
        for run_id, (status, pages, _) in _runs(db).items()
        if status == "running" and pages >= min_pages
    }


def _all_finished(db: Engine) -> bool:
    runs = _runs(db)
    return len(runs) == PEOPLE and all(s not in ("queued", "running") for s, _, _ in runs.values())


def _assert_budget_kept(whoop: WhoopSandbox) -> None:
    assert whoop.max_requests_in_window(60) <= LIMIT
    # The same budget at a finer grain: unpaced, four jobs on a 50 ms sandbox would send
    # several times this many in ten seconds (a few extra for network jitter on arrival).
    assert whoop.max_requests_in_window(10) <= LIMIT / 6 + 4


def _doing_workers(db: Engine) -> set[str]:
    with db.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT DISTINCT worker_id::text FROM procrastinate_jobs"
                " WHERE status = 'doing' AND task_name = 'sync.connection'"
            )
        )
        return {row[0] for row in rows if row[0] is not None}


def _sync_jobs(db: Engine) -> dict[str, tuple[str, int, str | None]]:
    """connection id -> (status, attempts, worker) of its Procrastinate sync jobs."""
    with db.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT args->>'connection_id', status::text, attempts, worker_id::text"
                " FROM procrastinate_jobs WHERE task_name = 'sync.connection'"
            )
        )
        return {row[0]: (row[1], row[2], row[3]) for row in rows}


def _run_connections(db: Engine) -> dict[str, str]:
    with db.connect() as connection:
        rows = connection.execute(text("SELECT id, connection_id FROM sync_runs"))
        return {str(row[0]): str(row[1]) for row in rows}


def test_two_distributed_workers_one_killed_mid_sync_lose_and_duplicate_nothing(
    postgres_database: PostgresDatabase,
    redis_test_url: str,
    faulty_whoop: WhoopSandbox,
    tmp_path: Path,
) -> None:
    postgres_database.truncate()
    reset_procrastinate(postgres_database.url)
    settings = _settings(postgres_database.url, tmp_path, faulty_whoop, redis_url=redis_test_url)
    connections = asyncio.run(_arrange(settings, faulty_whoop))
    db = create_sync_engine(migrations.sync_url(settings.database_url))
    env = _env(settings)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        victim = _start(env, tmp_path)
        workers.append(victim)
        wait_for(lambda: len(_in_flight(db, 2)) >= 2, 120, "two syncs in flight with pages")
        victim_ids = _doing_workers(db)
        assert victim_ids
        survivor = _start(env, tmp_path)
        workers.append(survivor)
        wait_for(lambda: len(_runs(db)) == PEOPLE, 30, "runs visible")  # survivor is starting
        killed_jobs = {
            connection
            for connection, (status, _, worker) in _sync_jobs(db).items()
            if status == "doing" and worker in victim_ids
        }
        kill_tree(victim)
        assert killed_jobs, "the victim was no longer running a sync when killed"
        faulty_whoop.set_faults(rate_limit_next=3)  # another 429 burst for the survivor
        wait_for(lambda: _all_finished(db), 300, "every sync finished by the survivor")
    finally:
        for process in workers:
            if process.poll() is None:
                stop(process)

    runs = _runs(db)
    assert {status for status, _, _ in runs.values()} == {"succeeded"}, runs
    by_connection = {conn: run for run, conn in _run_connections(db).items()}
    jobs = _sync_jobs(db)
    for connection_id in killed_jobs:
        status, attempts, _ = jobs[connection_id]
        assert status == "succeeded"
        assert attempts >= 1  # retried by the stalled-job recovery
        assert runs[by_connection[connection_id]][2] >= 2  # the run was taken up again
    db.dispose()
    asyncio.run(_assert_complete(settings, faulty_whoop, connections))
    _assert_budget_kept(faulty_whoop)


def test_embedded_worker_killed_mid_sync_finishes_after_restart(
    sqlite_template: Path, faulty_whoop: WhoopSandbox, tmp_path: Path
) -> None:
    import shutil

    database = tmp_path / "somna.db"
    shutil.copyfile(sqlite_template, database)
    settings = _settings(f"sqlite+aiosqlite:///{database}", tmp_path, faulty_whoop)
    connections = asyncio.run(_arrange(settings, faulty_whoop))
    db = create_sync_engine(migrations.sync_url(settings.database_url))
    env = _env(settings)
    first = _start(env, tmp_path)
    try:
        wait_for(lambda: len(_in_flight(db, 2)) >= 1, 120, "a sync in flight with pages")
    finally:
        killed = _in_flight(db, 1)
        kill_tree(first)
    assert killed
    faulty_whoop.set_faults(rate_limit_next=3)
    second = _start(env, tmp_path)
    try:
        wait_for(lambda: _all_finished(db), 300, "every sync finished after the restart")
    finally:
        assert stop(second) == 0

    runs = _runs(db)
    assert {status for status, _, _ in runs.values()} == {"succeeded"}, runs
    for run_id in killed:
        assert runs[run_id][2] >= 2  # taken up again after the kill
    with db.connect() as connection:
        leftovers = connection.execute(
            text(
                "SELECT count(*) FROM jobs WHERE task_name = 'sync.connection'"
                " AND status IN ('queued', 'running')"
            )
        ).scalar_one()
    assert leftovers == 0
    db.dispose()
    asyncio.run(_assert_complete(settings, faulty_whoop, connections))
    _assert_budget_kept(faulty_whoop)
