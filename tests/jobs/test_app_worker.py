"""`somna serve` runs the embedded worker in its lifespan; `somna worker` runs jobs on its own."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from somna.app import create_app
from somna.config import Settings
from somna.jobs import JobQueue
from tests.conftest import make_settings
from tests.jobs.conftest import FAST_JOBS
from tests.jobs.processes import stop, wait_for, worker_env


async def wait_status(queue: JobQueue, job_id: str, status: str) -> None:
    async with asyncio.timeout(30):
        while True:
            info = await queue.get_job(job_id)
            if info is not None and info.status == status:
                return
            await asyncio.sleep(0.05)


async def test_the_app_runs_jobs_in_process_when_its_worker_is_on(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url, tmp_path, job_queue="embedded", worker_in_app=True, **FAST_JOBS
    )
    app = create_app(settings)
    async with LifespanManager(app):
        queue: JobQueue = app.state.jobs
        deferred = await queue.defer("jobs.prune")
        assert deferred.job_id is not None
        await wait_status(queue, deferred.job_id, "succeeded")


async def test_tests_get_no_in_app_worker_unless_they_ask(app: FastAPI, settings: Settings) -> None:
    async with LifespanManager(app):
        assert settings.runs_worker_in_app is False
        assert app.state.jobs.backend == settings.job_backend
        deferred = await app.state.jobs.defer("jobs.prune")
        assert deferred.job_id is not None
        # Jobs wait for a worker; a test runs them when it wants to.
        assert (await app.state.jobs.get_job(deferred.job_id)).status == "queued"
        assert await app.state.job_runtime.run_until_idle() >= 1
        assert (await app.state.jobs.get_job(deferred.job_id)).status == "succeeded"


def test_somna_worker_command_runs_jobs_and_stops_cleanly_on_sigterm(
    settings: Settings, tmp_path: Path
) -> None:
    async def defer() -> str:
        app = create_app(settings)
        async with LifespanManager(app):
            queue: JobQueue = app.state.jobs
            deferred = await queue.defer("jobs.prune")
            assert deferred.job_id is not None
            return deferred.job_id

    job_id = asyncio.run(defer())
    env = worker_env(settings.model_copy(update=FAST_JOBS))
    with (tmp_path / "worker.out").open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "somna", "worker", "--concurrency", "2"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    async def status() -> str | None:
        app = create_app(settings)
        async with LifespanManager(app):
            info = await app.state.jobs.get_job(job_id)
            return None if info is None else str(info.status)

    try:
        wait_for(lambda: asyncio.run(status()) == "succeeded", 60, "the worker to run the job")
    finally:
        code = stop(process)
    assert code == 0, (tmp_path / "worker.out").read_text()
    assert "2 concurrent jobs" in (tmp_path / "worker.out").read_text()
