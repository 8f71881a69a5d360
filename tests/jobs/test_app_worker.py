"""`somna serve` runs the embedded worker in its lifespan; `somna worker` runs jobs on its own."""

from __future__ import annotations

import asyncio
import io
import logging
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from somna.app import create_app
from somna.config import Settings
from somna.jobs import JobQueue, WorkerServices
from somna.jobs.embedded import EmbeddedQueue
from tests.conftest import make_settings
from tests.jobs.conftest import FAST_JOBS
from tests.jobs.processes import stop, wait_for, worker_env
from tests.support.server import app_client


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


def _crashing_worker(monkeypatch: pytest.MonkeyPatch, crashes: int) -> None:
    """The embedded worker dies of an unexpected error on its first ``crashes`` starts."""
    original = EmbeddedQueue.run_worker
    started = 0

    async def run_worker(
        self: EmbeddedQueue, context: WorkerServices, *, concurrency: int, stop: asyncio.Event
    ) -> None:
        nonlocal started
        started += 1
        if started <= crashes:
            raise RuntimeError(f"worker blew up on start {started}")
        await original(self, context, concurrency=concurrency, stop=stop)

    monkeypatch.setattr(EmbeddedQueue, "run_worker", run_worker)


async def _health_until(client: httpx.AsyncClient, worker_status: str) -> httpx.Response:
    async with asyncio.timeout(30):
        while True:
            response = await client.get("/health")
            if response.json().get("worker", {}).get("status") == worker_status:
                return response
            await asyncio.sleep(0.02)


async def test_a_crashed_in_app_worker_restarts_logs_it_and_health_counts_it(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(
        database_url, tmp_path, job_queue="embedded", worker_in_app=True,
        worker_restart_base_seconds=0.01, worker_restart_max_seconds=0.05, **FAST_JOBS,
    )  # fmt: skip
    _crashing_worker(monkeypatch, crashes=2)
    app = create_app(settings)
    stream = io.StringIO()
    [handler] = [h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)]
    handler.setStream(stream)
    async with app_client(app) as client:
        queue: JobQueue = app.state.jobs
        deferred = await queue.defer("jobs.prune")
        assert deferred.job_id is not None
        await wait_status(queue, deferred.job_id, "succeeded")  # the third start works
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["worker"] == {"status": "ok", "restarts": 2}
    logged = stream.getvalue()
    assert logged.count("worker.crashed") == 2
    assert "worker blew up on start 2" in logged


async def test_health_says_degraded_while_restarting_and_unavailable_when_it_cannot(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(
        database_url, tmp_path, job_queue="embedded", worker_in_app=True,
        worker_restart_base_seconds=4.0, worker_restart_limit=2, **FAST_JOBS,
    )  # fmt: skip
    _crashing_worker(monkeypatch, crashes=1_000)
    app = create_app(settings)
    async with app_client(app) as client:
        degraded = await _health_until(client, "degraded")
        assert degraded.status_code == 200
        assert degraded.json()["worker"] == {"status": "degraded", "restarts": 1}
        assert degraded.json()["status"] == "ok"
        gone = await _health_until(client, "unavailable")
        assert gone.status_code == 503
        assert gone.json()["worker"] == {"status": "unavailable", "restarts": 2}
        assert gone.json()["status"] == "unavailable"
