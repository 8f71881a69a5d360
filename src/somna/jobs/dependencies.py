"""The job queue of the running app, as a FastAPI dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from somna.jobs.port import JobQueue
from somna.state import app_state


def get_job_queue(request: Request) -> JobQueue:
    return app_state(request).service("jobs", JobQueue)


JobQueueDep = Annotated[JobQueue, Depends(get_job_queue)]
