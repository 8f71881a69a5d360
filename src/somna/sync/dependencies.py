"""Sync services of the running app, as a FastAPI dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from somna.jobs.dependencies import get_job_queue
from somna.pacing.dependencies import get_pacer
from somna.state import app_state
from somna.sync.engine import SyncServices


def get_sync_services(request: Request) -> SyncServices:
    state = app_state(request)
    return SyncServices(
        state.settings, state.sessionmaker, get_pacer(request), queue=get_job_queue(request)
    )


SyncServicesDep = Annotated[SyncServices, Depends(get_sync_services)]
