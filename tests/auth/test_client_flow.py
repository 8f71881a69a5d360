"""The client flow of the seed document (002), end to end over real HTTP on loopback."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import time_machine
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth.tokens import AccessClaims, issue_access_token
from somna.config import Settings
from tests.conftest import make_settings
from tests.support.auth import create_api_key, create_organization, login, sign
from tests.support.server import serve_in_thread

KEYS = "/api/v1/developer/keys"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # No overlap for refresh reuse, so that reuse is detected at once.
    return make_settings(database_url, tmp_path, refresh_reuse_grace_seconds=0)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    with serve_in_thread(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield client


async def test_login_profile_refresh_rotation_and_reuse_detection(
    http: httpx.AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    org = await create_organization(db_session, http)
    wrong = await http.post(
        "/api/v1/auth/token", json={"username": org.owner.email, "password": "not it"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_credentials"
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")

    tokens = await login(http, org.owner.email)
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == settings.access_token_ttl_seconds
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    profile = (await http.get("/api/v1/user/profile", headers=headers)).json()
    assert profile["email"] == org.owner.email
    assert profile["role"] == "owner"
    assert profile["organization_id"] == str(org.id)
    assert {"id", "created_at"} <= set(profile)

    first = tokens["refresh_token"]
    rotated = await http.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first
    new_access = rotated.json()["access_token"]
    me = await http.get("/api/v1/user/profile", headers={"Authorization": f"Bearer {new_access}"})
    assert me.status_code == 200

    # The spent token comes back: the whole family is revoked, including the newest token.
    reused = await http.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert reused.status_code == 401
    assert reused.json()["error"] == "invalid_token"
    after = await http.post("/api/v1/auth/refresh", json={"refresh_token": second})
    assert after.status_code == 401

    # Logout revokes a fresh login's family.
    fresh = await login(http, org.owner.email)
    out = await http.post("/api/v1/auth/logout", json={"refresh_token": fresh["refresh_token"]})
    assert out.json() == {"revoked": True}
    gone = await http.post("/api/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
    assert gone.status_code == 401


async def test_expired_and_forged_tokens(
    http: httpx.AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    org = await create_organization(db_session, http)
    claims = AccessClaims(org.owner.account_id, org.id, "owner", None, False)
    old = issue_access_token(settings, claims, now=datetime.now(UTC) - timedelta(hours=1))
    expired = await http.get("/api/v1/user/profile", headers={"Authorization": f"Bearer {old}"})
    assert expired.status_code == 401
    assert expired.json()["error"] == "token_expired"
    assert "WWW-Authenticate" in expired.headers

    forged = org.owner.access_token[:-4] + "AAAA"
    bad = await http.get("/api/v1/user/profile", headers={"Authorization": f"Bearer {forged}"})
    assert bad.json()["error"] == "invalid_token"
    missing = await http.get("/api/v1/user/profile")
    assert missing.status_code == 401
    assert missing.json()["error"] == "authentication_failed"


async def test_key_lifecycle_and_scopes(http: httpx.AsyncClient, db_session: AsyncSession) -> None:
    org = await create_organization(db_session, http)
    owner = org.owner.headers
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    created = await http.post(
        KEYS,
        headers=owner,
        json={
            "name": "Production Server Key",
            "permissions": ["read", "write"],
            "scopes": ["sleep", "keys"],
            "expires_at": expires,
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith("somna_live_")
    assert body["signing_secret"]
    assert body["is_active"] is True
    assert {"id", "name", "permissions", "scopes", "expires_at", "created_at"} <= set(body)
    key = {"Authorization": f"Bearer {body['key']}"}

    listed = (await http.get(KEYS, headers=key)).json()["keys"]
    assert [item["id"] for item in listed] == [body["id"]]
    assert listed[0]["prefix"] == body["key"][:15]
    assert listed[0]["last4"] == body["key"][-4:]
    assert listed[0]["last_used_at"] is not None  # the listing itself used the key
    assert "key" not in listed[0]
    assert "signing_secret" not in listed[0]
    assert body["key"] not in json.dumps(listed)

    # A key without the keys scope is refused with the grants it lacks.
    reader = await create_api_key(http, owner, scopes=["sleep"], permissions=["read"])
    denied = await http.get(KEYS, headers=reader.headers)
    assert denied.status_code == 403
    assert denied.json()["error"] == "insufficient_permissions"
    assert denied.json()["required_scopes"] == ["keys:read"]

    # Rotate with the default grace: both keys work.
    rotated = await http.post(f"{KEYS}/{body['id']}/rotate", headers=owner)
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["id"] != body["id"]
    assert (new["permissions"], new["scopes"]) == (body["permissions"], body["scopes"])
    new_key = {"Authorization": f"Bearer {new['key']}"}
    assert (await http.get(KEYS, headers=key)).status_code == 200
    assert (await http.get(KEYS, headers=new_key)).status_code == 200
    old_row = next(
        item for item in (await http.get(KEYS, headers=owner)).json()["keys"]
        if item["id"] == body["id"]
    )  # fmt: skip
    assert old_row["rotated_to_id"] == new["id"]
    grace_end = datetime.fromisoformat(old_row["expires_at"])
    assert timedelta(hours=23) < grace_end - datetime.now(UTC) <= timedelta(hours=24)

    # Rotate with no grace: the old key stops at once.
    again = await http.post(f"{KEYS}/{new['id']}/rotate", headers=owner, json={"grace_seconds": 0})
    assert again.status_code == 200
    stopped = await http.get(KEYS, headers=new_key)
    assert stopped.status_code == 401
    assert stopped.json()["error"] == "invalid_api_key"
    newest = {"Authorization": f"Bearer {again.json()['key']}"}
    assert (await http.get(KEYS, headers=newest)).status_code == 200

    # Revoke: 200 with the revoked key as JSON, and the key stops at once.
    revoked = await http.delete(f"{KEYS}/{again.json()['id']}", headers=owner)
    assert revoked.status_code == 200
    assert revoked.json()["is_active"] is False
    assert revoked.json()["revoked_at"] is not None
    assert (await http.get(KEYS, headers=newest)).json()["error"] == "invalid_api_key"
    unknown = await http.delete(f"{KEYS}/{uuid.uuid4()}", headers=owner)
    assert unknown.status_code == 404


async def test_signed_requests(http: httpx.AsyncClient, db_session: AsyncSession) -> None:
    org = await create_organization(db_session, http)
    manager = await create_api_key(http, org.owner.headers, scopes=["keys"], permissions=["write"])
    victim = await create_api_key(http, org.owner.headers, scopes=["sleep"])
    path = f"{KEYS}/{victim.id}/rotate"
    body = json.dumps({"grace_seconds": 60})

    json_type = {"Content-Type": "application/json"}
    unsigned = await http.post(path, headers={**manager.headers, **json_type}, content=body)
    assert unsigned.status_code == 401
    assert unsigned.json()["error"] == "invalid_signature"

    tampered_headers = {**manager.signed("POST", path, body), "Content-Type": "application/json"}
    tampered = await http.post(
        path, headers=tampered_headers, content=json.dumps({"grace_seconds": 0})
    )
    assert tampered.json()["error"] == "invalid_signature"

    stale = manager.signed("POST", path, body, timestamp=int(time.time()) - 301)
    expired = await http.post(path, headers={**stale, "Content-Type": "application/json"},
                              content=body)  # fmt: skip
    assert expired.json()["error"] == "signature_expired"

    good_headers = {**manager.signed("POST", path, body), "Content-Type": "application/json"}
    good = await http.post(path, headers=good_headers, content=body)
    assert good.status_code == 200, good.text
    replayed = await http.post(path, headers=good_headers, content=body)
    assert replayed.status_code == 401
    assert replayed.json()["error"] == "signature_replayed"

    # A signature made for one key's secret does not pass with another's.
    other = sign(victim.signing_secret, "DELETE", f"{KEYS}/{victim.id}")
    wrong = await http.delete(f"{KEYS}/{victim.id}", headers={**manager.headers, **other})
    assert wrong.json()["error"] == "invalid_signature"
    revoke_path = f"{KEYS}/{victim.id}"
    revoked = await http.delete(revoke_path, headers=manager.signed("DELETE", revoke_path))
    assert revoked.status_code == 200
    assert revoked.json()["is_active"] is False


async def test_rate_limit_429_then_retry_after_succeeds(
    http: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, http)
    key = await create_api_key(http, org.owner.headers, scopes=["keys"], rate_limit_per_minute=3)
    with time_machine.travel(datetime.now(UTC), tick=True) as traveller:
        statuses = []
        for _ in range(3):
            response = await http.get(KEYS, headers=key.headers)
            statuses.append(response.status_code)
            assert response.headers["X-RateLimit-Limit"] == "3"
        assert statuses == [200, 200, 200]
        assert response.headers["X-RateLimit-Remaining"] == "0"
        limited = await http.get(KEYS, headers=key.headers)
        assert limited.status_code == 429
        body = limited.json()
        assert body["error"] == "rate_limited"
        assert body["limit"] == 3
        assert body["window_seconds"] == 60
        assert body["current_usage"] == 3
        reset = datetime.fromisoformat(body["reset_time"])
        assert reset.timestamp() == int(limited.headers["X-RateLimit-Reset"])
        retry_after = int(limited.headers["Retry-After"])
        assert body["retry_after"] == retry_after
        assert limited.headers["X-RateLimit-Retry-After"] == str(retry_after)
        assert 1 <= retry_after <= 60
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        traveller.shift(retry_after)
        retried = await http.get(KEYS, headers=key.headers)
        assert retried.status_code == 200
        assert retried.headers["X-RateLimit-Remaining"] == "2"
