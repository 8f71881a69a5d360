"""Sensitive operations signed by the client, as the server verifies them."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from somna.keys.signing import compute_signature
from somna_client import AsyncSomna, AuthenticationError, Somna
from somna_client._signing import signature
from tests.sdk.support import person_with_nights
from tests.sdk.test_retries import DropFirstAnswer
from tests.support.auth import Org, TestKey, create_api_key


def test_the_signature_matches_the_servers() -> None:
    body = b'{"grace_seconds": 60}'
    ours = signature("secret", 1700000000, "post", "/api/v1/developer/keys/k/rotate?x=1", body)
    theirs = compute_signature(
        "secret", "1700000000", "POST", "/api/v1/developer/keys/k/rotate?x=1", body
    )
    assert ours == theirs


async def test_every_sensitive_operation_is_signed(
    client: Somna, db_session: AsyncSession, org: Org, http: httpx.AsyncClient
) -> None:
    person = await person_with_nights(db_session, org, 1)
    target = await create_api_key(http, org.owner.headers, name="target")
    rotated = client.keys.rotate(str(target.id))
    assert client.keys.revoke(rotated.id).is_active is False
    export = client.exports.create(formats=["json"])  # the whole organisation
    assert export.user_ids is None
    disconnected = client.connections.delete(str(person.id), "whoop", delete_data=True)
    assert disconnected.provider == "whoop"
    assert client.sleep.list(str(person.id)).data == []
    assert client.users.delete(str(person.id)).id == str(person.id)


async def test_a_wrong_secret_is_refused_by_the_server(live_url: str, key: TestKey) -> None:
    wrong = Somna(live_url, api_key=key.key, signing_secret="not-the-secret")
    with wrong, pytest.raises(AuthenticationError) as raised:
        wrong.keys.revoke(str(key.id))
    assert raised.value.code == "invalid_signature"


async def test_a_signed_retry_is_signed_afresh_and_replayed(
    live_url: str, key: TestKey, http: httpx.AsyncClient, org: Org
) -> None:
    target = await create_api_key(http, org.owner.headers, name="rotate once")
    transport = DropFirstAnswer()
    with Somna(
        live_url,
        api_key=key.key,
        signing_secret=key.signing_secret,
        http_client=httpx.Client(transport=transport),
    ) as flaky:
        rotated = flaky.keys.rotate(str(target.id), grace_seconds=0)
    assert len(transport.keys) == 2
    listed = [
        item
        for item in (await http.get("/api/v1/developer/keys", headers=org.owner.headers)).json()[
            "keys"
        ]
        if item["name"] == "rotate once"
    ]
    # The original and exactly one replacement: the retry did not rotate twice.
    assert sorted(item["id"] for item in listed) == sorted([str(target.id), rotated.id])


async def test_the_async_client_signs_too(
    live_url: str, key: TestKey, http: httpx.AsyncClient, org: Org
) -> None:
    target = await create_api_key(http, org.owner.headers, name="async target")
    async with AsyncSomna(live_url, api_key=key.key, signing_secret=key.signing_secret) as client:
        revoked = await client.keys.revoke(str(target.id))
    assert revoked.is_active is False


async def test_the_same_signed_request_twice_in_a_second_is_not_a_replay(
    client: Somna, db_session: AsyncSession, org: Org
) -> None:
    """Delete, restore, delete: the two deletions are the same request; the second is dated
    a second later, so the server does not take it for a replay of the first."""
    person = await person_with_nights(db_session, org, 1)
    first = client.users.delete(str(person.id))
    client.users.restore(str(person.id))
    again = client.users.delete(str(person.id))
    assert (first.status, again.status) == ("deletion_scheduled", "deletion_scheduled")
