"""Helpers for tests that need organisations, accounts, API keys and signed requests.

They work over the in-process ``client`` fixture and over real HTTP (``live_url``) alike: rows
are arranged through ``db_session`` (committed, so the app sees them), and logins and keys go
through the API itself.

    org = await create_organization(db_session, client)           # owner logged in
    analyst = await create_account(db_session, client, org.id, "analyst")
    member = await create_account(db_session, client, org.id, "member")  # with a new person
    key = await create_api_key(client, org.owner.headers, scopes=["sleep"], permissions=["read"])
    await client.get("/api/v1/...", headers=key.headers)
    body = b'{"x": 1}'
    await client.post(path, content=body, headers=key.signed("POST", path, body))
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth.passwords import hash_password
from somna.auth.scopes import RESOURCE_SCOPES
from somna.keys.signing import compute_signature
from somna.models import Account, Person
from somna.orgs.service import create_organization as _create_organization

DEFAULT_PASSWORD = "correct horse battery staple"
TOKEN_PATH = "/api/v1/auth/token"
KEYS_PATH = "/api/v1/developer/keys"


def unique_email(label: str = "user") -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Login:
    """An account and the tokens of one login."""

    account_id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    password: str
    role: str
    person_id: uuid.UUID | None
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)


@dataclass(frozen=True)
class Org:
    id: uuid.UUID
    slug: str
    name: str
    is_operator: bool
    owner: Login


@dataclass(frozen=True)
class TestKey:
    """An API key as its holder sees it: plaintext, signing secret and the created JSON."""

    __test__ = False  # not a pytest test class

    id: uuid.UUID
    key: str
    signing_secret: str
    body: dict[str, Any] = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.key)

    def signed(
        self, method: str, path: str, body: bytes | str = b"", *, timestamp: int | None = None
    ) -> dict[str, str]:
        """Authorization plus ``X-Timestamp`` and ``X-Signature`` for this exact request
        (``path`` with its ``?query``, ``body`` the exact bytes sent, as JSON)."""
        signature = sign(self.signing_secret, method, path, body, timestamp)
        json_type = {"Content-Type": "application/json"} if body else {}
        return {**self.headers, **signature, **json_type}


def sign(
    secret: str,
    method: str,
    path: str,
    body: bytes | str = b"",
    timestamp: int | None = None,
) -> dict[str, str]:
    """The signature headers of one request."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.encode() if isinstance(body, str) else body
    return {
        "X-Timestamp": stamp,
        "X-Signature": compute_signature(secret, stamp, method, path, raw),
    }


async def login(client: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD) -> Any:
    """POST /auth/token; the JSON body (asserts success)."""
    response = await client.post(TOKEN_PATH, json={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


async def _login_account(client: httpx.AsyncClient, account: Account, password: str) -> Login:
    tokens = await login(client, account.email, password)
    return Login(
        account_id=account.id,
        organization_id=account.organization_id,
        email=account.email,
        password=password,
        role=account.role,
        person_id=account.person_id,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )


async def create_organization(
    db_session: AsyncSession,
    client: httpx.AsyncClient,
    *,
    name: str | None = None,
    owner_email: str | None = None,
    password: str = DEFAULT_PASSWORD,
) -> Org:
    """An organisation with its owner, logged in. The first one made is the operator."""
    label = name or f"Org {uuid.uuid4().hex[:8]}"
    created = await _create_organization(
        db_session,
        name=label,
        owner_email=owner_email or unique_email("owner"),
        owner_password=password,
    )
    await db_session.commit()
    owner = await _login_account(client, created.owner, password)
    organization = created.organization
    return Org(
        organization.id, organization.slug, organization.name, organization.is_operator, owner
    )


async def create_person(
    db_session: AsyncSession, organization_id: uuid.UUID, *, email: str | None = None
) -> Person:
    """A tracked person, written directly (the people API belongs to another package)."""
    person = Person(organization_id=organization_id, email=email or unique_email("person"))
    db_session.add(person)
    await db_session.commit()
    return person


async def create_account(
    db_session: AsyncSession,
    client: httpx.AsyncClient,
    organization_id: uuid.UUID,
    role: str,
    *,
    person_id: uuid.UUID | None = None,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
) -> Login:
    """An account of ``role``, logged in. A member without ``person_id`` gets a new person."""
    if role == "member" and person_id is None:
        person_id = (await create_person(db_session, organization_id)).id
    account = Account(
        organization_id=organization_id,
        email=email or unique_email(role),
        password_hash=await hash_password(password),
        role=role,
        person_id=person_id,
    )
    db_session.add(account)
    await db_session.commit()
    return await _login_account(client, account, password)


async def create_api_key(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    scopes: list[str] | None = None,
    permissions: list[str] | None = None,
    name: str = "test key",
    **fields: Any,
) -> TestKey:
    """A key made through POST /developer/keys with ``headers`` (an owner's, say). Defaults to
    read and write on every scope; ``fields`` pass through (``expires_at``, ``allowed_ips``,
    ``rate_limit_per_minute``, ``package_name``, ``events_per_hour``)."""
    payload = {
        "name": name,
        "permissions": permissions if permissions is not None else ["read", "write"],
        "scopes": scopes if scopes is not None else list(RESOURCE_SCOPES),
        **fields,
    }
    response = await client.post(KEYS_PATH, json=payload, headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    return TestKey(uuid.UUID(body["id"]), body["key"], body["signing_secret"], body)
