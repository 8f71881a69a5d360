"""The job queue of the running app, as a FastAPI dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from somna.jobs.port import JobQueue


def get_job_queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.jobs
    return queue


JobQueueDep = Annotated[JobQueue, Depends(get_job_queue)]
