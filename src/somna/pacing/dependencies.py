"""The provider pacer of the running app, as a FastAPI dependency."""

from __future__ import annotations

from fastapi import Request

from somna.pacing.port import Pacer
from somna.state import app_state


def get_pacer(request: Request) -> Pacer:
    return app_state(request).service("pacer", Pacer)
