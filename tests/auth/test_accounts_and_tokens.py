"""Accounts, roles, refresh-token overlap, failed-login limits and token decoding."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth.exceptions import InvalidToken, TokenExpired
from somna.auth.tokens import AUDIENCE, AccessClaims, decode_access_token, issue_access_token
from somna.config import Settings
from somna.kit.crypto import sha256_hex
from somna.models import RefreshToken
from tests.conftest import make_settings
from tests.support.auth import (
    create_account,
    create_organization,
    create_person,
    login,
    unique_email,
)

ACCOUNTS = "/api/v1/accounts"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url, tmp_path, login_failures_per_email=3, refresh_reuse_grace_seconds=60
    )


async def test_owner_creates_accounts_and_members_need_a_person_of_their_org(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    other = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
    foreign_person = await create_person(db_session, other.id)
    payload = {"email": unique_email(), "password": "long-enough-1", "role": "member"}

    missing = await client.post(ACCOUNTS, json=payload, headers=org.owner.headers)
    assert missing.status_code == 422
    foreign = await client.post(
        ACCOUNTS, json={**payload, "person_id": str(foreign_person.id)}, headers=org.owner.headers
    )
    assert foreign.status_code == 404
    created = await client.post(
        ACCOUNTS, json={**payload, "person_id": str(person.id)}, headers=org.owner.headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["person_id"] == str(person.id)
    assert "password" not in created.text
    duplicate = await client.post(
        ACCOUNTS, json={**payload, "person_id": str(person.id)}, headers=org.owner.headers
    )
    assert duplicate.status_code == 409

    tokens = await login(client, payload["email"], payload["password"])
    member = {"Authorization": f"Bearer {tokens['access_token']}"}
    profile = (await client.get("/api/v1/user/profile", headers=member)).json()
    assert (profile["role"], profile["person_id"]) == ("member", str(person.id))
    listed = await client.get(ACCOUNTS, headers=org.owner.headers)
    assert {item["email"] for item in listed.json()["data"]} == {org.owner.email, payload["email"]}
    one = await client.get(f"{ACCOUNTS}/{created.json()['id']}", headers=org.owner.headers)
    assert one.json()["email"] == payload["email"]
    hidden = await client.get(f"{ACCOUNTS}/{created.json()['id']}", headers=other.owner.headers)
    assert hidden.status_code == 404


async def test_role_grants(client: httpx.AsyncClient, db_session: AsyncSession) -> None:
    org = await create_organization(db_session, client)
    admin = await create_account(db_session, client, org.id, "admin")
    analyst = await create_account(db_session, client, org.id, "analyst")
    member = await create_account(db_session, client, org.id, "member")
    owner_payload = {"email": unique_email(), "password": "long-enough-1", "role": "owner"}
    assert (
        await client.post(ACCOUNTS, json=owner_payload, headers=admin.headers)
    ).status_code == 403
    admin_payload = {**owner_payload, "role": "analyst"}
    assert (
        await client.post(ACCOUNTS, json=admin_payload, headers=admin.headers)
    ).status_code == 201
    for login_ in (analyst, member):
        denied = await client.post(ACCOUNTS, json=admin_payload, headers=login_.headers)
        assert denied.status_code == 403
        assert denied.json()["required_scopes"] == ["organizations:write"]
        keys = await client.get("/api/v1/developer/keys", headers=login_.headers)
        assert keys.status_code == 403
    assert (await client.get(ACCOUNTS, headers=analyst.headers)).status_code == 200
    assert (await client.get(ACCOUNTS, headers=member.headers)).status_code == 403


async def test_operator_creates_organisations_and_acts_in_them(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    operator = await create_organization(db_session, client)
    tenant = await create_organization(db_session, client)
    assert operator.is_operator
    assert not tenant.is_operator
    body = {"name": "New Co", "owner_email": unique_email(), "owner_password": "long-enough-1"}
    made = await client.post("/api/v1/organizations", json=body, headers=operator.owner.headers)
    assert made.status_code == 201, made.text
    refused = await client.post(
        "/api/v1/organizations", json={**body, "owner_email": unique_email(), "name": "X"},
        headers=tenant.owner.headers,
    )  # fmt: skip
    assert refused.status_code == 403
    listed = await client.get("/api/v1/organizations", headers=operator.owner.headers)
    assert len(listed.json()["data"]) == 3
    own = await client.get("/api/v1/organizations", headers=tenant.owner.headers)
    assert [item["id"] for item in own.json()["data"]] == [str(tenant.id)]

    acting = {**operator.owner.headers, "X-Organization-ID": str(tenant.id)}
    accounts = await client.get(ACCOUNTS, headers=acting)
    assert [item["email"] for item in accounts.json()["data"]] == [tenant.owner.email]
    sneaky = {**tenant.owner.headers, "X-Organization-ID": str(operator.id)}
    assert (await client.get(ACCOUNTS, headers=sneaky)).status_code == 404


async def test_refresh_overlap_forgives_only_the_previous_token(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    first = org.owner.refresh_token
    a = await client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    # A client that refreshed twice at once: the previous token is honoured in the overlap.
    b = await client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert (a.status_code, b.status_code) == (200, 200)
    second = a.json()["refresh_token"]
    c = await client.post("/api/v1/auth/refresh", json={"refresh_token": second})
    assert c.status_code == 200
    # ``first`` is now two generations old: reuse, and the family goes.
    reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert reused.status_code == 401
    family = (
        await db_session.scalars(
            select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(first))
        )
    ).one()
    rows = (
        await db_session.scalars(
            select(RefreshToken).where(RefreshToken.family_id == family.family_id)
        )
    ).all()
    assert len(rows) == 4
    assert all(row.revoked_at is not None for row in rows)
    # Only hashes rest in the table.
    assert all(row.token_hash != first for row in rows)


async def test_failed_logins_are_limited_per_email(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    wrong = {"username": org.owner.email, "password": "wrong-password"}
    codes = [(await client.post("/api/v1/auth/token", json=wrong)).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    blocked = await client.post(
        "/api/v1/auth/token", json={"username": org.owner.email, "password": org.owner.password}
    )
    assert blocked.status_code == 429
    assert blocked.json()["error"] == "rate_limited"
    assert int(blocked.headers["Retry-After"]) > 0
    # Another email from the same address is not locked out by these failures.
    other = await create_account(db_session, client, org.id, "admin")
    assert other.access_token


def test_token_decoding_requires_claims_audience_type_and_algorithm(settings: Settings) -> None:
    claims = AccessClaims(uuid.uuid4(), uuid.uuid4(), "analyst", None, False)
    token = issue_access_token(settings, claims)
    assert decode_access_token(settings, token) == claims
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    assert header["typ"] == "at+jwt"

    secret = settings.secret_key_value()
    unsigned = jwt.encode({"sub": "x"}, key="", algorithm="none")
    other_key = jwt.encode(
        {"sub": str(uuid.uuid4()), "aud": AUDIENCE, "iss": "x", "iat": 1, "exp": 2**40},
        secret + "-different",
        algorithm="HS256",
        headers={"typ": "at+jwt"},
    )
    for bad in (unsigned, other_key, "not-a-jwt", token + "x"):
        with pytest.raises(InvalidToken):
            decode_access_token(settings, bad)
    short = make_settings(settings.database_url, settings.data_dir, access_token_ttl_seconds=60)
    from datetime import UTC, datetime, timedelta

    stale = issue_access_token(short, claims, now=datetime.now(UTC) - timedelta(minutes=2))
    with pytest.raises(TokenExpired):
        decode_access_token(short, stale)
