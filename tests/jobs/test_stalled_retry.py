"""Procrastinate's janitor: a stalled job is retried even when a newer job with its queueing
lock already waits (the unique index on queued locks refused that retry before)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from somna.db import create_engine, create_sessionmaker
from somna.jobs.distributed import ProcrastinateQueue, libpq_url
from somna.jobs.runtime import JobRuntime
from tests.conftest import make_settings
from tests.jobs.conftest import FAST_JOBS, reset_procrastinate
from tests.jobs.sample_tasks import lines
from tests.jobs.sample_tasks import registry as sample_registry
from tests.support.databases import PostgresDatabase


@pytest.fixture
def procrastinate_url(postgres_database: PostgresDatabase) -> str:
    postgres_database.truncate()
    reset_procrastinate(postgres_database.url)
    return postgres_database.url


async def test_a_stalled_job_is_retried_beside_a_queued_one_with_its_queueing_lock(
    procrastinate_url: str, tmp_path: Path
) -> None:
    url = procrastinate_url
    settings = make_settings(url, tmp_path, job_queue="procrastinate", **FAST_JOBS)
    engine = create_engine(url)
    runtime = JobRuntime(settings, create_sessionmaker(engine), registry=sample_registry)
    await runtime.start()
    try:
        queue = runtime.queue
        assert isinstance(queue, ProcrastinateQueue)
        log, effects = str(tmp_path / "events.log"), tmp_path / "effects"
        effects.mkdir()
        args = {"log": log, "effects": str(effects), "key": "c1", "pages": 2, "seconds": 0.0}
        stalled = await queue.defer("test.pages", args)
        assert stalled.job_id is not None
        # Its worker died mid-job: 'doing', owned by a worker whose heartbeat stopped long ago.
        with psycopg.connect(libpq_url(url), autocommit=True) as connection:
            row = connection.execute(
                "INSERT INTO procrastinate_workers (last_heartbeat) "
                "VALUES (now() - interval '1 hour') RETURNING id"
            ).fetchone()
            assert row is not None
            connection.execute(
                "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE id = %s",
                (row[0], int(stalled.job_id)),
            )
        waiting = await queue.defer("test.pages", args)  # same queueing lock, now 'todo'
        assert waiting.job_id is not None

        assert await queue.retry_stalled_jobs() == 1
        await runtime.run_until_idle()

        for job_id in (stalled.job_id, waiting.job_id):
            info = await queue.get_job(job_id)
            assert info is not None
            assert info.status == "succeeded"
        assert [words[0] for words in lines(log)] == ["start", "done", "start", "done"]
    finally:
        await runtime.aclose()
        await engine.dispose()
