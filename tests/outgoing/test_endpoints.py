"""The webhook-endpoints API on both backends: CRUD, secrets, subscriptions, the SSRF guard,
scopes and organisations."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.app import create_app
from somna.models import WebhookEndpoint
from somna.outgoing.exceptions import InvalidWebhookUrl
from somna.outgoing.urls import check_url
from tests.conftest import make_settings
from tests.outgoing.support import ENDPOINTS, create_endpoint
from tests.support.auth import create_account, create_api_key, create_organization
from tests.support.server import app_client


async def test_crud_and_the_secret_shown_once(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    headers = org.owner.headers
    created = await create_endpoint(client, headers, "http://127.0.0.1:9/hook", description="a")
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["*"]
    assert created["enabled"] is True
    one = f"{ENDPOINTS}/{created['id']}"

    fetched = (await client.get(one, headers=headers)).json()
    assert "secret" not in fetched
    assert fetched["description"] == "a"
    stored = await db_session.scalar(select(WebhookEndpoint.secret_encrypted))
    assert stored is not None
    assert created["secret"] not in stored

    patched = await client.patch(
        one, json={"events": ["sleep.created", "sleep.created", "sync.failed"]}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["events"] == ["sleep.created", "sync.failed"]
    everything = await client.patch(one, json={"events": ["*"], "enabled": False}, headers=headers)
    assert everything.json()["events"] == ["*"]
    assert everything.json()["enabled"] is False

    unknown = await client.patch(one, json={"events": ["sleep.eaten"]}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["type"] == "unknown_event_type"

    await create_endpoint(client, headers, "http://127.0.0.1:9/second")
    first = await client.get(ENDPOINTS, params={"limit": 1}, headers=headers)
    page = first.json()
    assert len(page["data"]) == 1
    assert page["next_cursor"]
    rest = await client.get(
        ENDPOINTS, params={"limit": 1, "cursor": page["next_cursor"]}, headers=headers
    )
    assert rest.json()["data"][0]["id"] == created["id"]

    deleted = await client.delete(one, headers=headers)
    assert deleted.status_code == 204
    gone = await client.get(one, headers=headers)
    assert gone.status_code == 404
    assert gone.json()["error"] == "webhook_endpoint_not_found"


async def test_rotation_keeps_the_old_secret_for_the_grace_period(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    created = await create_endpoint(client, org.owner.headers, "http://127.0.0.1:9/hook")
    path = f"{ENDPOINTS}/{created['id']}/rotate-secret"
    rotated = await client.post(path, json={"grace_seconds": 600}, headers=org.owner.headers)
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"] != created["secret"]
    assert rotated.json()["secret_rotated_until"] is not None

    # With an API key, rotating is a sensitive operation: it must be signed.
    key = await create_api_key(
        client, org.owner.headers, scopes=["webhooks"], permissions=["write"]
    )
    unsigned = await client.post(path, headers=key.headers)
    assert unsigned.status_code == 401
    signed = await client.post(path, headers=key.signed("POST", path, b""))
    assert signed.status_code == 200, signed.text


async def test_other_organisations_and_missing_scopes_are_refused(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    other = await create_organization(db_session, client)
    created = await create_endpoint(client, org.owner.headers, "http://127.0.0.1:9/hook")
    one = f"{ENDPOINTS}/{created['id']}"
    assert (await client.get(one, headers=other.owner.headers)).status_code == 404
    assert (await client.delete(one, headers=other.owner.headers)).status_code == 404
    assert (await client.get(ENDPOINTS, headers=other.owner.headers)).json()["data"] == []

    member = await create_account(db_session, client, org.id, "member")
    refused = await client.get(ENDPOINTS, headers=member.headers)
    assert refused.status_code == 403
    assert refused.json()["required_scopes"] == ["webhooks:read"]
    reader = await create_api_key(
        client, org.owner.headers, scopes=["webhooks"], permissions=["read"]
    )
    assert (await client.get(one, headers=reader.headers)).status_code == 200
    write = await client.post(ENDPOINTS, json={"url": "http://x.test"}, headers=reader.headers)
    assert write.status_code == 403


async def test_the_ssrf_guard_without_allow_private(database_url: str, tmp_path: Path) -> None:
    app = create_app(make_settings(database_url, tmp_path))
    async with app_client(app) as client:
        async with app.state.sessionmaker() as session:
            org = await create_organization(session, client)
        for url in (
            "http://93.184.215.14/hook",  # not https
            "https://127.0.0.1/hook",
            "https://10.1.2.3/hook",
            "https://[::1]/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://user:pass@93.184.215.14/",
        ):
            response = await client.post(ENDPOINTS, json={"url": url}, headers=org.owner.headers)
            assert response.status_code == 422, url
            assert response.json()["errors"][0]["type"] == "invalid_webhook_url", url
        allowed = await client.post(
            ENDPOINTS, json={"url": "https://93.184.215.14/hook"}, headers=org.owner.headers
        )
        assert allowed.status_code == 201, allowed.text


async def test_check_url_allows_private_when_told() -> None:
    await check_url("http://127.0.0.1:8080/x", allow_private=True)
    with pytest.raises(InvalidWebhookUrl):
        await check_url("ftp://127.0.0.1/x", allow_private=True)
    with pytest.raises(InvalidWebhookUrl):
        await check_url("https://[::ffff:10.0.0.1]/x", allow_private=False)
