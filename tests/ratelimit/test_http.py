"""Rate limits at the HTTP edge: headers on every answer, per address, per organisation, Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from somna.app import create_app
from somna.config import Settings
from tests.conftest import make_settings
from tests.support.auth import create_api_key, create_organization
from tests.support.server import app_client

HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url, tmp_path, rate_limit_anonymous_per_minute=5, rate_limit_org_per_minute=8
    )


async def test_every_answer_carries_the_headers(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    answers = [
        await client.get("/health"),
        await client.get("/api/v1/no-such-route"),
        await client.get("/api/v1/user/profile"),  # 401 without credentials
        await client.get("/api/v1/user/profile", headers={"Authorization": "Bearer junk"}),
        await client.post("/api/v1/accounts", json={}, headers=org.owner.headers),  # 422
        await client.get("/api/v1/user/profile", headers=org.owner.headers),
    ]
    for response in answers:
        assert all(name in response.headers for name in HEADERS), (
            response.status_code,
            response.headers,
        )
    assert [r.status_code for r in answers] == [200, 404, 401, 401, 422, 200]
    assert answers[-1].headers["X-RateLimit-Limit"] == "8"  # the organisation's bucket is tightest


async def test_requests_without_credentials_are_limited_per_address(
    client: httpx.AsyncClient,
) -> None:
    codes = [(await client.get("/health")).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    limited = await client.get("/health")
    assert limited.json()["error"] == "rate_limited"
    assert limited.json()["window_seconds"] == 60
    assert limited.json()["retry_after"] == int(limited.headers["Retry-After"])
    # The Klyne-compatible routes keep that document's 429 body.
    klyne = await client.get("/api/analytics/health")
    assert klyne.status_code == 429
    assert klyne.json()["error"] == "Rate limit exceeded"
    assert set(klyne.json()) == {"error", "limit", "window_seconds", "reset_time", "current_usage"}
    assert limited.headers["Retry-After"] == limited.headers["X-RateLimit-Retry-After"]
    # Bad credentials count against the address too, so keys cannot be guessed freely.
    guessed = await client.get("/api/v1/user/profile", headers={"Authorization": "Bearer nope"})
    assert guessed.status_code == 429


async def test_static_files_are_never_charged(client: httpx.AsyncClient) -> None:
    """A page's scripts and styles do not spend the address's budget, so a signed-in user
    clicking through the dashboard is not refused behind a shared address."""
    assets = ["/assets/app.css", "/assets/app.js", "/static/apidocs/swagger-ui.css"]
    for _ in range(3):
        for path in assets:
            response = await client.get(path)
            assert response.status_code == 200, path
            assert "X-RateLimit-Remaining" not in response.headers
    codes = [(await client.get("/health")).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    assert all([(await client.get(path)).status_code == 200 for path in assets])


async def test_the_organisation_bucket_covers_all_its_callers(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)  # its login used no org budget
    one = await create_api_key(client, org.owner.headers, scopes=["keys"])
    two = await create_api_key(client, org.owner.headers, scopes=["keys"])
    # 2 key creations so far; 6 more requests fill the organisation's 8.
    codes = []
    for index in range(7):
        key = (one, two)[index % 2]
        codes.append((await client.get("/api/v1/developer/keys", headers=key.headers)).status_code)
    assert codes == [200] * 6 + [429]
    other = await create_organization(db_session, client)
    assert (
        await client.get("/api/v1/user/profile", headers=other.owner.headers)
    ).status_code == 200


@pytest.fixture
async def redis_client(
    database_url: str, tmp_path: Path, redis_test_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(database_url, tmp_path, redis_url=redis_test_url))
    async with app_client(app) as http:
        yield http


async def test_redis_store_limits_per_key(
    redis_client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, redis_client)
    key = await create_api_key(
        redis_client, org.owner.headers, scopes=["keys"], rate_limit_per_minute=2
    )
    codes = [
        (await redis_client.get("/api/v1/developer/keys", headers=key.headers)).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]


async def test_an_unreachable_redis_fails_open_by_default(
    database_url: str, tmp_path: Path, db_session: AsyncSession
) -> None:
    settings = make_settings(database_url, tmp_path, redis_url="redis://127.0.0.1:1/0")
    app = create_app(settings)
    async with app_client(app) as http:
        response = await http.get("/health")
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers
    closed = create_app(
        make_settings(
            database_url, tmp_path, redis_url="redis://127.0.0.1:1/0", rate_limit_fail_open=False
        )
    )
    async with app_client(closed) as http:
        response = await http.get("/health")
        assert response.status_code == 503
        assert response.json()["error"] == "service_unavailable"
