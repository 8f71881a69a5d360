"""Retries: a 429 waited out as the server asks, and a creating POST retried after its answer
was lost, which must leave exactly one resource."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import Person
from somna.ratelimit.memory import MemoryRateLimiter
from somna_client import RateLimitError, Somna
from tests.support.auth import Org, create_api_key, unique_email

WINDOW_END = 60_000.0  # a minute boundary on the limiter's clock


class HeldClock:
    """The limiter's clock: held one second before a window ends until released, then
    running with real time, so the refusal and its ``Retry-After: 1`` are certain."""

    def __init__(self) -> None:
        self.released_at: float | None = None

    def __call__(self) -> float:
        held = WINDOW_END - 1.0
        if self.released_at is None:
            return held
        return held + time.monotonic() - self.released_at

    def release(self) -> None:
        if self.released_at is None:
            self.released_at = time.monotonic()


@pytest.fixture
def held_clock(app: FastAPI, live_url: str) -> HeldClock:
    clock = HeldClock()
    app.state.rate_limiter = MemoryRateLimiter(clock=clock)
    return clock


async def test_a_429_is_waited_out_then_succeeds(
    live_url: str, http: httpx.AsyncClient, org: Org, held_clock: HeldClock
) -> None:
    key = await create_api_key(http, org.owner.headers, rate_limit_per_minute=1)
    events: list[tuple[str, float, Any]] = []

    def on_request(request: httpx.Request) -> None:
        events.append(("request", time.monotonic(), None))

    def on_response(response: httpx.Response) -> None:
        events.append(("response", time.monotonic(), response))
        if response.status_code == 429:
            held_clock.release()

    hooks: dict[str, list[Callable[..., Any]]] = {
        "request": [on_request],
        "response": [on_response],
    }
    with Somna(live_url, api_key=key.key, http_client=httpx.Client(event_hooks=hooks)) as client:
        client.users.list()  # spends the minute's one request
        assert client.users.list().data == []  # refused once, then admitted
    responses = [item[2] for item in events if item[0] == "response"]
    assert [answer.status_code for answer in responses] == [200, 429, 200]
    refused = responses[1]
    asked = float(refused.headers["Retry-After"])
    assert asked == float(refused.headers["X-RateLimit-Retry-After"]) == 1
    refused_at = next(at for kind, at, answer in events if answer is refused)
    retried_at = [at for kind, at, _ in events if kind == "request"][2]
    assert retried_at - refused_at >= asked


async def test_without_retries_the_429_is_a_rate_limit_error(
    live_url: str, http: httpx.AsyncClient, org: Org, held_clock: HeldClock
) -> None:
    key = await create_api_key(http, org.owner.headers, rate_limit_per_minute=1)
    with Somna(live_url, api_key=key.key, max_retries=0) as client:
        client.users.list()
        with pytest.raises(RateLimitError) as raised:
            client.users.list()
    assert raised.value.status_code == 429
    assert raised.value.retry_after == 1
    assert raised.value.code


class DropFirstAnswer(httpx.HTTPTransport):
    """Delivers the first POST to the server, lets it finish, then loses the answer."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST":
            self.keys.append(request.headers.get("Idempotency-Key"))
            if len(self.keys) == 1:
                response.read()
                response.close()
                raise httpx.ReadError("connection dropped", request=request)
        return response


async def test_a_lost_answer_retried_leaves_one_resource(
    live_url: str, db_session: AsyncSession, client: Somna, key: Any
) -> None:
    transport = DropFirstAnswer()
    email = unique_email()
    with Somna(live_url, api_key=key.key, http_client=httpx.Client(transport=transport)) as flaky:
        person = flaky.users.create(email)
    assert person.email == email
    assert len(transport.keys) == 2
    assert transport.keys[0] is not None
    assert transport.keys[0] == transport.keys[1]
    stored = await db_session.scalar(
        select(func.count()).select_from(Person).where(Person.email == email)
    )
    assert stored == 1
    assert client.users.retrieve(person.id).email == email
