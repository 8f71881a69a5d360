"""The job queue and provider pacer of the running app, as FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from somna.jobs.port import JobQueue
from somna.state import app_state
from somna.sync.pacer import Pacer


def get_job_queue(request: Request) -> JobQueue:
    return app_state(request).service("jobs", JobQueue)


def get_pacer(request: Request) -> Pacer:
    return app_state(request).service("pacer", Pacer)


JobQueueDep = Annotated[JobQueue, Depends(get_job_queue)]
PacerDep = Annotated[Pacer, Depends(get_pacer)]
