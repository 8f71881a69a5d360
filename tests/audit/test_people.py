"""An organisation-wide answer that holds several people's data is recorded once per person
in it, so that a person's trail shows every read of their data, lists included."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.audit.support import audit_rows
from tests.support.auth import create_organization, create_person


async def test_a_list_of_people_leaves_a_row_per_person_listed(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    people = [(await create_person(db_session, org.id)).id for _ in range(3)]
    headers = org.owner.headers

    everyone = await client.get("/api/v1/users", headers=headers)
    assert everyone.status_code == 200, everyone.text
    assert {item["id"] for item in everyone.json()["data"]} == {str(p) for p in people}
    rows = await audit_rows(app, db_session, request_id=everyone.headers["x-request-id"])
    assert sorted(str(row.person_id) for row in rows) == sorted(str(p) for p in people)
    assert {(row.action, row.route, row.outcome) for row in rows} == {
        ("person.read", "GET /api/v1/users", "allowed")
    }

    page = await client.get("/api/v1/users", params={"limit": 1}, headers=headers)
    (listed,) = page.json()["data"]
    rows = await audit_rows(app, db_session, request_id=page.headers["x-request-id"])
    assert [str(row.person_id) for row in rows] == [listed["id"]]  # only who was answered


async def test_an_empty_list_is_still_one_row(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    answer = await client.get("/api/v1/users", headers=org.owner.headers)
    assert answer.json()["data"] == []
    (row,) = await audit_rows(app, db_session, request_id=answer.headers["x-request-id"])
    assert (row.action, row.person_id) == ("person.read", None)


async def test_organisation_statistics_leave_a_row_per_person_in_them(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    people = [(await create_person(db_session, org.id)).id for _ in range(2)]

    answer = await client.get(
        f"/api/v1/organizations/{org.id}/statistics", headers=org.owner.headers
    )
    assert answer.status_code == 200, answer.text
    answered = {row["user_id"] for row in answer.json()["rows"]}
    assert answered == {str(p) for p in people}
    rows = await audit_rows(app, db_session, request_id=answer.headers["x-request-id"])
    assert {str(row.person_id) for row in rows} == answered
    assert len(rows) == len(answered)
    # Each row is a link of the chain: seq numbers follow one another without gaps.
    every = await audit_rows(app, db_session, organization_id=org.id)
    assert [row.seq for row in every] == list(range(1, len(every) + 1))
