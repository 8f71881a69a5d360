"""Liveness and readiness: the version and whether the database answers."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from somna import __version__
from somna.db import ping

router = APIRouter(tags=["health"])
DATABASE_PING_TIMEOUT_SECONDS = 3.0


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    version: str
    mode: Literal["embedded", "distributed"]
    database: Literal["reachable", "unreachable"]


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(request: Request) -> JSONResponse:
    """Report the version and database reachability; 503 when the database does not answer."""
    try:
        await asyncio.wait_for(ping(request.app.state.engine), DATABASE_PING_TIMEOUT_SECONDS)
        reachable = True
    except Exception:  # any failure to answer means "not ready", whatever the driver raised
        reachable = False
    body = Health(
        status="ok" if reachable else "unavailable",
        version=__version__,
        mode=request.app.state.settings.run_mode,
        database="reachable" if reachable else "unreachable",
    )
    return JSONResponse(body.model_dump(), status_code=200 if reachable else 503)
