"""Sync services of the running app, as a FastAPI dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from somna.sync.engine import SyncServices


def get_sync_services(request: Request) -> SyncServices:
    app = request.app
    return SyncServices(
        app.state.settings, app.state.sessionmaker, app.state.pacer, queue=app.state.jobs
    )


SyncServicesDep = Annotated[SyncServices, Depends(get_sync_services)]
