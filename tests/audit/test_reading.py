"""Reading the trail: scopes (owners and admins only), filters, cursor pages and the export."""

from __future__ import annotations

import csv
import io
import json

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.audit.support import audit_rows
from tests.support.auth import create_account, create_api_key, create_organization, create_person

EVENTS = "/api/v1/audit-events"


async def test_only_owners_admins_and_audit_keys_read_the_trail(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    analyst = await create_account(db_session, client, org.id, "analyst")
    member = await create_account(db_session, client, org.id, "member")
    admin = await create_account(db_session, client, org.id, "admin")
    for login in (analyst, member):
        refused = await client.get(EVENTS, headers=login.headers)
        assert refused.status_code == 403, refused.text
        assert refused.json()["required_scopes"] == ["audit:read"]
        (row,) = await audit_rows(app, db_session, request_id=refused.headers["x-request-id"])
        assert row.outcome == "denied"
    assert (await client.get(EVENTS, headers=admin.headers)).status_code == 200
    key = await create_api_key(client, org.owner.headers, scopes=["audit"], permissions=["read"])
    assert (await client.get(EVENTS, headers=key.headers)).status_code == 200


async def test_filters_pages_and_export(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    person_id = (await create_person(db_session, org.id)).id
    headers = org.owner.headers
    for _ in range(3):
        assert (await client.get(f"/api/v1/users/{person_id}/sleep", headers=headers)).is_success
    await app.state.audit_writer.flush()

    seen: list[dict[str, object]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"person_id": str(person_id), "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(EVENTS, params=params, headers=headers)).json()
        seen += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [item["action"] for item in seen] == ["sleep.read"] * 3
    assert {item["actor_id"] for item in seen} == {str(org.owner.account_id)}

    by_action = await client.get(EVENTS, params={"action": "sleep.read"}, headers=headers)
    assert by_action.status_code == 200
    assert len(by_action.json()["data"]) == 3
    reversed_period = await client.get(
        EVENTS,
        params={"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        headers=headers,
    )
    assert reversed_period.status_code == 422
    assert reversed_period.json()["errors"][0]["type"] == "reversed_period"

    # Reading the trail is recorded too (flushed whenever the timer fires): filtered out here.
    wanted = {"person_id": str(person_id), "action": "sleep.read"}
    ndjson = await client.get(f"{EVENTS}/export", params=wanted, headers=headers)
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    assert [line["id"] for line in lines] == [item["id"] for item in reversed(seen)]
    exported = await client.get(
        f"{EVENTS}/export", params={**wanted, "format": "csv"}, headers=headers
    )
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["hash"] for row in table] == [line["hash"] for line in lines]
