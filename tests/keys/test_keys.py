"""Key format, storage at rest, grants, addresses, expiry and the usage-analytics fields."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.keys import format as key_format
from somna.keys.service import create_api_key, signing_box
from somna.kit.crypto import sha256_hex
from somna.models import ApiKey
from tests.support.auth import create_api_key as create_key_over_http
from tests.support.auth import create_organization

KEYS = "/api/v1/developer/keys"


def test_key_format_has_prefix_randomness_and_checksum() -> None:
    keys = {key_format.generate_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert key.startswith("somna_live_")
        assert len(key) == key_format.KEY_LENGTH
        assert key_format.is_well_formed(key)
    key = keys.pop()
    flipped = key[:-7] + ("A" if key[-7] != "A" else "B") + key[-6:]
    assert not key_format.is_well_formed(flipped)  # the checksum catches a typo
    assert not key_format.is_well_formed(key + "x")
    assert not key_format.is_well_formed(key.replace("somna_live_", "somna_test_"))


async def test_keys_rest_as_hashes_and_secrets_rest_encrypted(
    client: httpx.AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    org = await create_organization(db_session, client)
    key = await create_key_over_http(client, org.owner.headers, scopes=["sleep"])
    row = (await db_session.scalars(select(ApiKey).where(ApiKey.id == key.id))).one()
    assert row.key_hash == sha256_hex(key.key)
    stored = " ".join(str(value) for value in row.__dict__.values())
    assert key.key not in stored
    assert key.signing_secret not in stored
    assert signing_box(settings).decrypt(row.signing_secret_encrypted) == key.signing_secret


async def test_unknown_malformed_and_expired_keys_are_invalid(
    client: httpx.AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    org = await create_organization(db_session, client)
    created = await create_api_key(
        db_session,
        settings,
        organization_id=org.id,
        name="short-lived",
        permissions=["read"],
        scopes=["keys"],
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    created.api_key.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    await db_session.commit()
    for token in (
        created.key,
        key_format.generate_key(),
        "somna_live_short",
        "somna_live_" + "a" * 38,
    ):
        response = await client.get(KEYS, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_api_key"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_allowed_ips_block_other_addresses(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    elsewhere = await create_key_over_http(
        client, org.owner.headers, scopes=["keys"], allowed_ips=["10.0.0.0/8"]
    )
    blocked = await client.get(KEYS, headers=elsewhere.headers)
    assert blocked.status_code == 403
    assert blocked.json()["error"] == "ip_blocked"
    here = await create_key_over_http(
        client, org.owner.headers, scopes=["keys"], allowed_ips=["127.0.0.1", "::1"]
    )
    assert (await client.get(KEYS, headers=here.headers)).status_code == 200
    bad = await client.post(
        KEYS,
        headers=org.owner.headers,
        json={"name": "x", "scopes": ["keys"], "allowed_ips": ["not-an-ip"]},
    )
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"scopes": ["nonsense"]}, 422),
        ({"scopes": []}, 422),
        ({"scopes": ["sleep"], "permissions": ["admin"]}, 422),
        ({"scopes": ["sleep"], "expires_at": "2001-01-01T00:00:00Z"}, 422),
        ({"scopes": ["sleep"], "expires_at": "2999-01-01T00:00:00"}, 422),  # no offset
        ({"scopes": ["sleep"], "rate_limit_per_minute": 0}, 422),
        ({"scopes": ["sleep:read", "events"], "package_name": "pkg", "events_per_hour": 5}, 201),
    ],
)
async def test_create_validates_input(
    client: httpx.AsyncClient, db_session: AsyncSession, payload: dict[str, object], status: int
) -> None:
    org = await create_organization(db_session, client)
    response = await client.post(KEYS, headers=org.owner.headers, json={"name": "k", **payload})
    assert response.status_code == status, response.text
    if status == 201:
        assert response.json()["package_name"] == "pkg"
        assert response.json()["events_per_hour"] == 5


async def test_a_key_cannot_mint_grants_it_lacks(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    manager = await create_key_over_http(
        client, org.owner.headers, scopes=["keys", "sleep:read"], permissions=["write"]
    )
    ok = await client.post(
        KEYS,
        headers=manager.headers,
        json={"name": "sub", "scopes": ["sleep"], "permissions": ["read"]},
    )
    assert ok.status_code == 201
    wider = await client.post(
        KEYS,
        headers=manager.headers,
        json={"name": "x", "scopes": ["sleep"], "permissions": ["write"]},
    )
    assert wider.status_code == 403
    assert wider.json()["required_scopes"] == ["sleep:write"]


async def test_last_used_at_is_written_at_most_once_a_minute(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    key = await create_key_over_http(client, org.owner.headers, scopes=["keys"])
    await client.get(KEYS, headers=key.headers)
    first = (await client.get(f"{KEYS}/{key.id}", headers=key.headers)).json()["last_used_at"]
    for _ in range(3):
        await client.get(KEYS, headers=key.headers)
    again = (await client.get(f"{KEYS}/{key.id}", headers=key.headers)).json()["last_used_at"]
    assert first is not None
    assert again == first
    missing = await client.get(f"{KEYS}/{uuid.uuid4()}", headers=key.headers)
    assert missing.status_code == 404
