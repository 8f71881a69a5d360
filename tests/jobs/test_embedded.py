"""Embedded-adapter specifics: periodic schedules fire once per tick across processes, and a
job whose worker stopped renewing its lease is taken over."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from somna.db import create_engine, create_sessionmaker
from somna.jobs import TaskRegistry
from somna.jobs.repository import JobRepository
from somna.jobs.runtime import JobRuntime
from somna.kit.time import utc_now
from somna.models.job import Job
from somna.models.job_schedule import JobSchedule
from tests.jobs import sample_tasks
from tests.jobs.conftest import QueueEnv
from tests.jobs.sample_tasks import lines

EMBEDDED = pytest.mark.parametrize(
    "queue_env", ["embedded-sqlite", "embedded-postgresql"], indirect=True
)


def periodic_registry(log: str) -> TaskRegistry:
    registry = TaskRegistry()
    registry.tasks.update(sample_tasks.registry.tasks)
    registry.periodic(
        "test.tick", task="test.record", cron="0 0 1 1 *", args={"log": log, "key": "tick"}
    )
    return registry


@EMBEDDED
async def test_a_due_schedule_fires_once_however_many_workers_see_it(
    queue_env: QueueEnv, runtimes: Any
) -> None:
    registry = periodic_registry(str(queue_env.log))
    workers: list[JobRuntime] = [await runtimes(registry) for _ in range(3)]
    await workers[0].run_until_idle()  # creates the schedule row, due next January
    assert lines(queue_env.log) == []

    engine = create_engine(queue_env.database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await session.execute(
                update(JobSchedule).values(next_run_at=utc_now() - timedelta(seconds=1))
            )
    finally:
        await engine.dispose()

    await asyncio.gather(*(worker.run_until_idle() for worker in workers))
    await workers[0].run_until_idle()
    assert lines(queue_env.log) == [["run", "tick", "1"]]


@EMBEDDED
async def test_a_job_whose_lease_expired_is_run_again_by_another_worker(
    queue_env: QueueEnv, runtime: JobRuntime
) -> None:
    deferred = await runtime.queue.defer("test.record", {"log": str(queue_env.log), "key": "z"})
    engine = create_engine(queue_env.database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            # A worker that claims the job and then dies: its lease is never renewed.
            claimed = await JobRepository(session).claim("dead-worker", timedelta(minutes=10))
        assert claimed is not None
        assert claimed.attempts == 1
        assert await runtime.run_until_idle() == 0  # the lease still runs: hands off
        # Time passes without a heartbeat: move the lease into the past instead of sleeping, so
        # the test does not depend on how fast a loaded machine runs it.
        async with create_sessionmaker(engine)() as session, session.begin():
            expired = utc_now() - timedelta(seconds=1)
            await session.execute(update(Job).values(leased_until=expired))
        assert await runtime.run_until_idle() == 1
    finally:
        await engine.dispose()
    assert lines(queue_env.log) == [["run", "z", "2"]]
    assert deferred.job_id is not None
    info = await runtime.queue.get_job(deferred.job_id)
    assert info is not None
    assert (info.status, info.attempts) == ("succeeded", 2)
