"""Liveness and readiness: the version and whether the database answers."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from somna import __version__
from somna.db import ping
from somna.jobs.runtime import JobRuntime
from somna.state import EngineDep, app_state

router = APIRouter(tags=["health"])
DATABASE_PING_TIMEOUT_SECONDS = 3.0


class Worker(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    restarts: int


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    version: str
    mode: Literal["embedded", "distributed"]
    database: Literal["reachable", "unreachable"]
    # Only when this process runs the embedded worker (``somna serve`` in the embedded mode).
    worker: Worker | None = None


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(request: Request, engine: EngineDep) -> JSONResponse:
    """Report the version, database reachability and (embedded) the in-process worker; 503
    when the database does not answer or the worker keeps crashing."""
    try:
        await asyncio.wait_for(ping(engine), DATABASE_PING_TIMEOUT_SECONDS)
        reachable = True
    except Exception:  # any failure to answer means "not ready", whatever the driver raised
        reachable = False
    worker = _worker(request)
    ready = reachable and (worker is None or worker.status != "unavailable")
    body = Health(
        status="ok" if ready else "unavailable",
        version=__version__,
        mode=app_state(request).settings.run_mode,
        database="reachable" if reachable else "unreachable",
        worker=worker,
    )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=200 if ready else 503)


def _worker(request: Request) -> Worker | None:
    runtime = app_state(request).optional_service("job_runtime", JobRuntime)
    health = runtime.worker_health if runtime is not None else None
    if health is None:
        return None
    return Worker(status=health.status, restarts=health.restarts)
