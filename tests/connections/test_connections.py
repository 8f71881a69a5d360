"""The connections API against the sandboxes: WHOOP consent through the real OAuth flow, Asleep
create-or-link, the list, disconnect (keeping or deleting data), and a refused refresh."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.app import create_app
from somna.config import Settings
from somna.connections.clients import token_box
from somna.models import Connection, Person, SyncRun
from somna.sandbox import AsleepSandbox, WhoopSandbox
from somna.sandbox.whoop.state import Member
from tests.connections.support import (
    CALLBACK,
    count_rows,
    run_jobs,
    whoop_connection,
    whoop_expected,
)
from tests.support.auth import (
    Org,
    create_account,
    create_api_key,
    create_organization,
    create_person,
)
from tests.support.server import app_client


async def _consent(authorization_url: str, member_id: int) -> dict[str, str]:
    """The browser at WHOOP: the sandbox auto-approves and redirects to the callback."""
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(f"{authorization_url}&login_hint={member_id}")
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(CALLBACK)
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


async def _owner_and_person(
    db_session: AsyncSession, client: httpx.AsyncClient
) -> tuple[Org, uuid.UUID]:
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
    return org, person.id


@pytest.fixture
async def owner_and_person(
    db_session: AsyncSession, sync_client: httpx.AsyncClient
) -> tuple[Org, uuid.UUID]:
    """An organisation (its owner signed in) with one person, on the sandbox-backed app."""
    return await _owner_and_person(db_session, sync_client)


@pytest.fixture
async def person_with_whoop(
    db_session: AsyncSession,
    owner_and_person: tuple[Org, uuid.UUID],
    sync_settings: Settings,
    whoop: WhoopSandbox,
) -> tuple[Org, uuid.UUID, Member, Connection]:
    """That person with an active WHOOP connection to the first sandbox member."""
    org, person_id = owner_and_person
    person = await db_session.get(Person, person_id)
    member = whoop.members[0]
    connection = await whoop_connection(db_session, sync_settings, whoop, member, person=person)
    return org, person_id, member, connection


async def test_whoop_consent_stores_an_encrypted_connection_and_syncs_it(
    owner_and_person: tuple[Org, uuid.UUID],
    sync_client: httpx.AsyncClient,
    sync_app: FastAPI,
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
) -> None:
    org, person_id = owner_and_person
    member = whoop.members[1]
    started = await sync_client.post(
        f"/api/v1/users/{person_id}/connections/whoop", headers=org.owner.headers
    )
    assert started.status_code == 200, started.text
    body = started.json()
    query = parse_qs(urlsplit(body["authorization_url"]).query)
    assert query["state"] == [body["state"]]
    assert query["redirect_uri"] == [CALLBACK]
    assert "offline" in query["scope"][0].split()

    answer = await _consent(body["authorization_url"], member.user_id)
    callback = await sync_client.get(
        "/api/v1/oauth/whoop/callback", params={"code": answer["code"], "state": answer["state"]}
    )
    assert callback.status_code == 200
    assert "text/html" in callback.headers["content-type"]
    assert "connected" in callback.text

    connection = await db_session.scalar(
        select(Connection).where(Connection.person_id == person_id)
    )
    assert connection is not None
    assert connection.status == "active"
    assert connection.provider_user_id == str(member.user_id)
    assert "read:sleep" in connection.scopes
    # Tokens rest encrypted, and decrypt to the token the sandbox issued for this member.
    assert connection.access_token_encrypted is not None
    access = token_box(sync_settings).decrypt(connection.access_token_encrypted)
    assert access not in connection.access_token_encrypted
    assert whoop.world.access_tokens[access].user_id == member.user_id
    runs = list(await db_session.scalars(select(SyncRun).where(SyncRun.person_id == person_id)))
    assert [(run.trigger, run.status) for run in runs] == [("connect", "queued")]

    await run_jobs(sync_app)
    listed = await sync_client.get(
        f"/api/v1/users/{person_id}/connections", headers=org.owner.headers
    )
    assert listed.status_code == 200
    [item] = listed.json()["data"]
    assert item["status"] == "active"
    assert item["last_sync"]["status"] == "succeeded"
    assert item["last_sync_at"] is not None
    assert item["next_sync_at"] is not None
    assert item["last_error"] is None
    expected = whoop_expected(whoop, member)
    assert await count_rows(db_session, "sleep") == len(expected["sleep"]) > 0

    # The state was used once: the same callback again is refused, and changes nothing.
    again = await sync_client.get(
        "/api/v1/oauth/whoop/callback", params={"code": answer["code"], "state": answer["state"]}
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_state"


async def test_return_to_must_be_allowed_and_is_where_the_browser_goes(
    sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    app = create_app(
        sync_settings.model_copy(
            update={"connect_return_to_origins": "https://app.example.com, https://other.example"}
        )
    )
    async with app_client(app) as client:
        org, person_id = await _owner_and_person(db_session, client)
        path = f"/api/v1/users/{person_id}/connections/whoop"
        for refused in ("https://evil.example/x", "//evil.example/x", "javascript:alert(1)"):
            answer = await client.post(path, json={"return_to": refused}, headers=org.owner.headers)
            assert answer.status_code == 422, refused
            assert answer.json()["error"] == "validation_error"
            [error] = answer.json()["errors"]
            assert (error["field"], error["type"]) == ("return_to", "return_to_not_allowed")
        started = await client.post(
            path, json={"return_to": "https://app.example.com/done?x=1"}, headers=org.owner.headers
        )
        assert started.status_code == 200
        consent = await _consent(started.json()["authorization_url"], whoop.members[0].user_id)
        callback = await client.get("/api/v1/oauth/whoop/callback", params=consent)
        assert callback.status_code == 303
        target = urlsplit(callback.headers["location"])
        assert (target.scheme, target.netloc, target.path) == ("https", "app.example.com", "/done")
        assert parse_qs(target.query) == {
            "x": ["1"], "connection": ["whoop"], "status": ["connected"]
        }  # fmt: skip

        # A person who declines comes back to return_to with the reason, and nothing is stored.
        person_b = await create_person(db_session, org.id)
        started = await client.post(
            f"/api/v1/users/{person_b.id}/connections/whoop",
            json={"return_to": "/welcome"},
            headers=org.owner.headers,
        )
        denied = await client.get(
            "/api/v1/oauth/whoop/callback",
            params={"state": started.json()["state"], "error": "access_denied"},
        )
        assert denied.status_code == 303
        assert denied.headers["location"] == (
            "/welcome?connection=whoop&status=error&error=access_denied"
        )
        assert (
            await db_session.scalar(select(Connection).where(Connection.person_id == person_b.id))
            is None
        )


async def test_callback_refuses_unknown_state_and_a_whoop_account_linked_to_someone_else(
    sync_client: httpx.AsyncClient,
    db_session: AsyncSession,
    person_with_whoop: tuple[Org, uuid.UUID, Member, Connection],
) -> None:
    unknown = await sync_client.get(
        "/api/v1/oauth/whoop/callback", params={"code": "x", "state": "not-a-state-we-issued"}
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid_state"

    org, _, member, _ = person_with_whoop
    second = await create_person(db_session, org.id)
    started = await sync_client.post(
        f"/api/v1/users/{second.id}/connections/whoop", headers=org.owner.headers
    )
    consent = await _consent(started.json()["authorization_url"], member.user_id)
    taken = await sync_client.get("/api/v1/oauth/whoop/callback", params=consent)
    assert taken.status_code == 409
    assert taken.json()["error"] == "provider_account_in_use"
    assert (
        await db_session.scalar(select(Connection).where(Connection.person_id == second.id)) is None
    )


async def test_asleep_create_link_and_refusals(
    sync_client: httpx.AsyncClient,
    db_session: AsyncSession,
    asleep: AsleepSandbox,
    owner_and_person: tuple[Org, uuid.UUID],
) -> None:
    org, person_id = owner_and_person
    path = f"/api/v1/users/{person_id}/connections/asleep"
    created = await sync_client.post(
        path, json={"metadata": {"birth_year": 1990, "gender": "female"}}, headers=org.owner.headers
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["provider_user_id"]
    assert asleep.world.users[user_id].metadata == {"birth_year": 1990, "gender": "female"}
    assert created.json()["status"] == "active"
    assert created.json()["last_sync"]["status"] == "queued"

    same = await sync_client.post(path, json={"asleep_user_id": user_id}, headers=org.owner.headers)
    assert same.status_code == 200
    assert same.json()["id"] == created.json()["id"]
    plain = await sync_client.post(path, json={}, headers=org.owner.headers)
    assert plain.status_code == 200
    assert plain.json()["id"] == created.json()["id"]
    another = await sync_client.post(
        path, json={"metadata": {"gender": "male"}}, headers=org.owner.headers
    )
    assert another.status_code == 409
    assert another.json()["error"] == "already_connected"

    someone = await create_person(db_session, org.id)
    existing = asleep.add_person()
    linked = await sync_client.post(
        f"/api/v1/users/{someone.id}/connections/asleep",
        json={"asleep_user_id": existing.user_id},
        headers=org.owner.headers,
    )
    assert linked.status_code == 201
    assert linked.json()["provider_user_id"] == existing.user_id
    third = await create_person(db_session, org.id)
    missing = await sync_client.post(
        f"/api/v1/users/{third.id}/connections/asleep",
        json={"asleep_user_id": "G-nobody"},
        headers=org.owner.headers,
    )
    assert missing.status_code == 404
    in_use = await sync_client.post(
        f"/api/v1/users/{third.id}/connections/asleep",
        json={"asleep_user_id": existing.user_id},
        headers=org.owner.headers,
    )
    assert in_use.status_code == 409
    assert in_use.json()["error"] == "provider_account_in_use"


async def test_disconnect_revokes_and_keeps_or_deletes_the_data(
    sync_client: httpx.AsyncClient,
    sync_app: FastAPI,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
    person_with_whoop: tuple[Org, uuid.UUID, Member, Connection],
) -> None:
    org, person_id, member, connection = person_with_whoop
    connection_id = connection.id
    await sync_client.post(f"/api/v1/users/{person_id}/sync", headers=org.owner.headers)
    await run_jobs(sync_app)
    kept = await count_rows(db_session, "sleep")
    assert kept == len(whoop_expected(whoop, member)["sleep"]) > 0

    path = f"/api/v1/users/{person_id}/connections/whoop"
    answer = await sync_client.delete(path, headers=org.owner.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "provider": "whoop", "status": "revoked", "revoked_at_provider": True,
        "provider_error": None, "data_deleted": False, "records_deleted": 0,
    }  # fmt: skip
    assert member.user_id in whoop.world.revoked_users
    db_session.expire_all()
    row = await db_session.get(Connection, connection_id)
    assert row is not None
    assert row.status == "revoked"
    assert row.access_token_encrypted is None
    assert row.refresh_token_encrypted is None
    assert row.next_sync_at is None
    assert await count_rows(db_session, "sleep") == kept

    # Deleting the data is sensitive: an API key must sign the request.
    key = await create_api_key(sync_client, org.owner.headers)
    unsigned = await sync_client.delete(f"{path}?delete_data=true", headers=key.headers)
    assert unsigned.status_code == 401
    target = f"{path}?delete_data=true"
    deleted = await sync_client.delete(target, headers=key.signed("DELETE", target))
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["data_deleted"] is True
    assert deleted.json()["records_deleted"] >= kept
    db_session.expire_all()
    assert await db_session.get(Connection, connection_id) is None
    assert await count_rows(db_session, "sleep") == 0
    # The run history stays, detached from the deleted connection.
    runs = list(await db_session.scalars(select(SyncRun).where(SyncRun.person_id == person_id)))
    assert runs
    assert all(run.connection_id is None for run in runs)
    gone = await sync_client.delete(path, headers=org.owner.headers)
    assert gone.status_code == 404
    assert gone.json()["error"] == "connection_not_found"


async def test_a_member_deletes_their_own_connection_data(
    sync_client: httpx.AsyncClient,
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
) -> None:
    org = await create_organization(db_session, sync_client)
    member_login = await create_account(db_session, sync_client, org.id, "member")
    assert member_login.person_id is not None
    person = await db_session.get(Person, member_login.person_id)
    await whoop_connection(db_session, sync_settings, whoop, whoop.members[0], person=person)
    answer = await sync_client.delete(
        "/api/v1/me/connections/whoop?delete_data=true", headers=member_login.headers
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "deleted"


async def test_a_refused_refresh_marks_the_connection_for_reauthorization(
    sync_client: httpx.AsyncClient,
    sync_app: FastAPI,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
    person_with_whoop: tuple[Org, uuid.UUID, Member, Connection],
) -> None:
    org, person_id, member, connection = person_with_whoop
    # The member revoked us at WHOOP: the access token dies and the refresh token is refused.
    whoop.world.revoke_user(member.user_id)
    synced = await sync_client.post(f"/api/v1/users/{person_id}/sync", headers=org.owner.headers)
    assert synced.status_code == 202
    await run_jobs(sync_app)

    listed = await sync_client.get(
        f"/api/v1/users/{person_id}/connections", headers=org.owner.headers
    )
    [item] = listed.json()["data"]
    assert item["id"] == str(connection.id)
    assert item["status"] == "reauthorization_required"
    assert "refresh" in item["last_error"]
    assert item["next_sync_at"] is None
    assert item["last_sync"]["status"] == "failed"
    assert "ReauthorizationRequired" in item["last_sync"]["error"]
    # No further syncs are queued for it; connecting again is the way back.
    again = await sync_client.post(f"/api/v1/users/{person_id}/sync", headers=org.owner.headers)
    assert again.status_code == 409
    assert again.json()["error"] == "no_active_connection"


async def test_unconfigured_provider_is_reported_not_crashed(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org, person_id = await _owner_and_person(db_session, client)
    answer = await client.post(
        f"/api/v1/users/{person_id}/connections/whoop", headers=org.owner.headers
    )
    assert answer.status_code == 409
    assert answer.json()["error"] == "provider_not_configured"


@pytest.mark.parametrize("role", ["analyst"])
async def test_connecting_needs_write_access(
    sync_client: httpx.AsyncClient,
    db_session: AsyncSession,
    owner_and_person: tuple[Org, uuid.UUID],
    role: str,
) -> None:
    org, person_id = owner_and_person
    analyst = await create_account(db_session, sync_client, org.id, role)
    answer = await sync_client.post(
        f"/api/v1/users/{person_id}/connections/whoop", headers=analyst.headers
    )
    assert answer.status_code == 403
    listed = await sync_client.get(
        f"/api/v1/users/{person_id}/connections", headers=analyst.headers
    )
    assert listed.status_code == 200
