"""The job queue and provider pacer of the running app, as FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from somna.jobs.port import JobQueue
from somna.sync.pacer import Pacer


def get_job_queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.jobs
    return queue


def get_pacer(request: Request) -> Pacer:
    pacer: Pacer = request.app.state.pacer
    return pacer


JobQueueDep = Annotated[JobQueue, Depends(get_job_queue)]
PacerDep = Annotated[Pacer, Depends(get_pacer)]
