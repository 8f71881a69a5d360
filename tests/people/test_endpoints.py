from __future__ import annotations

import json
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import Connection, Person, SleepSession
from somna.records.repository import RecordRepository
from tests.support.auth import create_account, create_api_key, create_organization, login
from tests.support.factories import make_connection, sleep_record

USERS = "/api/v1/users"


async def test_create_get_update_and_list_people(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    headers = org.owner.headers
    created = await client.post(
        USERS,
        json={
            "email": "Ada@Example.com",
            "metadata": {"team": "night"},
            "timezone": "Europe/Berlin",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    person = created.json()
    assert person["email"] == "ada@example.com"
    assert person["organization_id"] == str(org.id)
    assert person["metadata"] == {"team": "night"}

    fetched = await client.get(f"{USERS}/{person['id']}", headers=headers)
    assert fetched.json() == person

    patched = await client.patch(
        f"{USERS}/{person['id']}", json={"timezone": "America/New_York"}, headers=headers
    )
    assert patched.status_code == 200
    assert patched.json()["timezone"] == "America/New_York"
    assert patched.json()["email"] == "ada@example.com"

    duplicate = await client.post(USERS, json={"email": "ada@example.com"}, headers=headers)
    assert duplicate.status_code == 409
    assert duplicate.json()["error"] == "user_email_taken"

    await client.post(USERS, json={"email": "bob@example.com"}, headers=headers)
    by_email = await client.get(USERS, params={"email": "ADA@example.com"}, headers=headers)
    assert [item["id"] for item in by_email.json()["data"]] == [person["id"]]
    nobody = await client.get(USERS, params={"email": "eve@example.com"}, headers=headers)
    assert nobody.json()["data"] == []


async def test_list_pages_with_a_cursor_and_no_overlap(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    for index in range(7):
        response = await client.post(
            USERS, json={"email": f"p{index}@example.com"}, headers=org.owner.headers
        )
        assert response.status_code == 201
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(USERS, params=params, headers=org.owner.headers)).json()
        seen.extend(item["email"] for item in page["data"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(f"p{index}@example.com" for index in range(7))
    bad = await client.get(USERS, params={"cursor": "not-a-cursor"}, headers=org.owner.headers)
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_cursor"


async def test_bad_input_names_the_field(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    response = await client.post(
        USERS,
        json={"email": "x@example.com", "timezone": "Mars/Olympus"},
        headers=org.owner.headers,
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["location"]) == ("timezone", "body")
    assert "IANA" in error["message"]
    person = await client.post(USERS, json={"email": "y@example.com"}, headers=org.owner.headers)
    goal = await client.put(
        f"{USERS}/{person.json()['id']}/preferences",
        json={"sleep_goal_hours": 30},
        headers=org.owner.headers,
    )
    assert goal.status_code == 422
    assert goal.json()["errors"][0]["field"] == "sleep_goal_hours"


async def test_preferences_default_then_replace(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    person = (
        await client.post(USERS, json={"email": "z@example.com"}, headers=org.owner.headers)
    ).json()
    path = f"{USERS}/{person['id']}/preferences"
    defaults = (await client.get(path, headers=org.owner.headers)).json()
    assert defaults["sleep_goal_hours"] == 8.0
    assert defaults["updated_at"] is None
    body = {
        "sleep_goal_hours": 7.5,
        "timezone": "Asia/Tokyo",
        "source_priority": ["asleep", "whoop"],
    }
    stored = await client.put(path, json=body, headers=org.owner.headers)
    assert stored.status_code == 200
    again = (await client.get(path, headers=org.owner.headers)).json()
    assert {key: again[key] for key in body} == body
    unknown = await client.put(
        path, json={"source_priority": ["fitbit"]}, headers=org.owner.headers
    )
    assert unknown.status_code == 422


async def test_member_reaches_only_their_own_person_through_me(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    member = await create_account(db_session, client, org.id, "member")
    other = (
        await client.post(USERS, json={"email": "o@example.com"}, headers=org.owner.headers)
    ).json()

    me = await client.get("/api/v1/me", headers=member.headers)
    assert me.status_code == 200
    assert me.json()["id"] == str(member.person_id)
    assert (
        await client.get(f"{USERS}/{member.person_id}", headers=member.headers)
    ).status_code == 200
    assert (await client.get(f"{USERS}/{other['id']}", headers=member.headers)).status_code == 404
    listed = (await client.get(USERS, headers=member.headers)).json()
    assert [item["id"] for item in listed["data"]] == [str(member.person_id)]
    create = await client.post(USERS, json={"email": "n@example.com"}, headers=member.headers)
    assert create.status_code == 403
    owner_me = await client.get("/api/v1/me", headers=org.owner.headers)
    assert owner_me.status_code == 404


async def test_delete_removes_the_person_and_all_their_data(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    # Without a grace period the deletion is carried out in the request (tests/privacy has
    # the scheduled deletion).
    app.state.settings.deletion_grace_days = 0
    org = await create_organization(db_session, client)
    person_id = (
        await client.post(USERS, json={"email": "gone@example.com"}, headers=org.owner.headers)
    ).json()["id"]
    person = await db_session.get(Person, uuid.UUID(person_id))
    assert person is not None
    connection = await make_connection(db_session, person)
    await RecordRepository(db_session).upsert(
        connection.id, person.id, [sleep_record("n1"), sleep_record("n2")]
    )
    await db_session.commit()

    key = await create_api_key(client, org.owner.headers, scopes=["users"])
    unsigned = await client.delete(f"{USERS}/{person_id}", headers=key.headers)
    assert unsigned.status_code == 401
    path = f"{USERS}/{person_id}"
    signed = await client.delete(path, headers=key.signed("DELETE", path))
    assert signed.status_code == 202, signed.text
    answer = signed.json()
    assert answer["id"] == person_id
    assert answer["status"] == "deleted"
    assert answer["deleted"] is True

    db_session.expire_all()
    for model in (Person, Connection, SleepSession):
        assert await db_session.scalar(select(func.count()).select_from(model)) == 0
    assert (await client.get(path, headers=org.owner.headers)).status_code == 404
    assert (
        json.loads((await client.delete(path, headers=org.owner.headers)).text)["error"]
        == "user_not_found"
    )


async def test_people_default_to_their_organisations_time_zone(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    operator = await create_organization(db_session, client)
    assert operator.is_operator
    bad = await client.post(
        "/api/v1/organizations",
        json={
            "name": "Tokyo Team",
            "owner_email": "tokyo-owner@example.com",
            "owner_password": "long-enough-pw",
            "settings": {"timezone": "Asia/Nowhere"},
        },
        headers=operator.owner.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "settings.timezone"
    created = await client.post(
        "/api/v1/organizations",
        json={
            "name": "Tokyo Team",
            "owner_email": "tokyo-owner@example.com",
            "owner_password": "long-enough-pw",
            "settings": {"timezone": "Asia/Tokyo", "locale": "ja"},
        },
        headers=operator.owner.headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["settings"] == {"timezone": "Asia/Tokyo", "locale": "ja"}
    tokyo_owner = await login(client, "tokyo-owner@example.com", "long-enough-pw")
    headers = {"Authorization": f"Bearer {tokyo_owner['access_token']}"}
    person = await client.post(USERS, json={"email": "kenji@example.com"}, headers=headers)
    assert person.json()["timezone"] == "Asia/Tokyo"
    explicit = await client.post(
        USERS, json={"email": "ana@example.com", "timezone": "Europe/Lisbon"}, headers=headers
    )
    assert explicit.json()["timezone"] == "Europe/Lisbon"
