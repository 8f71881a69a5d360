"""The app's typed state: what create_app installs and the lifespan fills in."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from somna.jobs.runtime import JobRuntime
from somna.keys.service import KeyCache
from somna.ratelimit.base import RateLimiter
from somna.state import AppState, ServiceMissing, state_of


def test_the_app_state_holds_the_settings_before_the_lifespan(app: FastAPI) -> None:
    state = state_of(app)
    assert isinstance(state, AppState)
    assert state.settings.environment == "test"
    assert state.optional_service("job_runtime", JobRuntime) is None
    with pytest.raises(ServiceMissing, match="job_runtime is not a JobRuntime"):
        state.service("job_runtime", JobRuntime)


async def test_the_lifespan_installs_each_service_with_its_type(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    state = state_of(app)
    assert isinstance(state.service("rate_limiter", RateLimiter), RateLimiter)
    assert state.service("api_key_cache", KeyCache).ttl == state.settings.api_key_cache_seconds
    assert state.service("job_runtime", JobRuntime).queue is state.service("jobs", object)
    # A service asked for under the wrong type is a wiring bug, said as such.
    with pytest.raises(ServiceMissing, match="api_key_cache is not a JobRuntime"):
        state.service("api_key_cache", JobRuntime)
    assert (await client.get("/health")).status_code == 200


def test_state_of_refuses_an_app_not_built_by_create_app() -> None:
    with pytest.raises(ServiceMissing, match="create_app"):
        state_of(FastAPI())
