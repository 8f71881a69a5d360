"""``Idempotency-Key`` on creating POSTs: replay, refusal of another body, per-organisation
keys, failures forgotten, and signed replays."""

from __future__ import annotations

import json
import time

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import IdempotencyKey, Person
from tests.support.auth import create_api_key, create_organization, unique_email

USERS = "/api/v1/users"


def _keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def _people(db_session: AsyncSession, email: str) -> int:
    db_session.expire_all()
    count = await db_session.scalar(
        select(func.count()).select_from(Person).where(Person.email == email)
    )
    return int(count or 0)


async def test_a_repeat_replays_the_first_answer(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    email = unique_email()
    headers = _keyed(org.owner.headers, "create-person-1")
    first = await client.post(USERS, json={"email": email}, headers=headers)
    again = await client.post(USERS, json={"email": email}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert await _people(db_session, email) == 1


async def test_the_same_key_with_another_body_is_refused(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    headers = _keyed(org.owner.headers, "k-2")
    await client.post(USERS, json={"email": unique_email()}, headers=headers)
    other = await client.post(USERS, json={"email": unique_email()}, headers=headers)
    assert other.status_code == 409
    assert other.json()["error"] == "idempotency_key_reused"


async def test_keys_are_kept_per_organisation(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    one = await create_organization(db_session, client)
    two = await create_organization(db_session, client)
    email = unique_email()
    first = await client.post(USERS, json={"email": email}, headers=_keyed(one.owner.headers, "x"))
    second = await client.post(USERS, json={"email": email}, headers=_keyed(two.owner.headers, "x"))
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert "Idempotent-Replayed" not in second.headers


async def test_a_failed_request_leaves_the_key_free(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    headers = _keyed(org.owner.headers, "retry-after-fix")
    bad = await client.post(USERS, json={"email": "not an email"}, headers=headers)
    assert bad.status_code == 422
    good = await client.post(USERS, json={"email": unique_email()}, headers=headers)
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good.headers
    stored = await db_session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.key == "retry-after-fix")
    )
    assert stored is not None
    assert stored.response_status == 201
    assert json.loads(stored.response_body or "{}")["id"] == good.json()["id"]


async def test_another_caller_cannot_replay_an_answer(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    key = await create_api_key(client, org.owner.headers)
    body = {"name": "made once", "scopes": ["sleep"]}
    first = await client.post(
        "/api/v1/developer/keys", json=body, headers=_keyed(org.owner.headers, "key-1")
    )
    assert first.status_code == 201
    stolen = await client.post(
        "/api/v1/developer/keys", json=body, headers=_keyed(key.headers, "key-1")
    )
    assert stolen.status_code == 409
    assert stolen.json()["error"] == "idempotency_key_reused"


async def test_a_signed_request_replays_only_when_signed_again(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    key = await create_api_key(client, org.owner.headers)
    target = await create_api_key(client, org.owner.headers, name="to rotate")
    path = f"/api/v1/developer/keys/{target.id}/rotate"
    body = b'{"grace_seconds": 60}'
    json_type = {"Content-Type": "application/json"}
    now = int(time.time())
    signed = _keyed({**key.signed("POST", path, body, timestamp=now), **json_type}, "rotate-1")
    first = await client.post(path, content=body, headers=signed)
    assert first.status_code == 200, first.text
    unsigned_headers = _keyed({**key.headers, **json_type}, "rotate-1")
    unsigned = await client.post(path, content=body, headers=unsigned_headers)
    assert unsigned.status_code == 401
    assert unsigned.json()["error"] == "invalid_signature"
    # A fresh signature (the server accepts each one once), for the same request.
    resigned = _keyed(
        {**key.signed("POST", path, body, timestamp=now + 1), **json_type}, "rotate-1"
    )
    again = await client.post(path, content=body, headers=resigned)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]


async def test_a_malformed_key_is_a_clear_400(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    answer = await client.post(
        USERS, json={"email": unique_email()}, headers=_keyed(org.owner.headers, "with space")
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_idempotency_key"
    assert "Idempotency-Key" in answer.json()["detail"]
