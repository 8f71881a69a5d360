"""Every route of the OpenAPI document that touches a person leaves an audit row about that
person, allowed or denied; refusals are recorded as denied in the caller's organisation."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.audit.support import audit_rows
from tests.support.auth import create_account, create_organization, create_person
from tests.test_tenant_isolation import (
    Caller,
    RequestFactory,
    TenantA,
    _call,
    _operations,
    _seed_every_table,
)

DENIED = (403, 404)


def _touches_person(template: str) -> bool:
    return "{user_id}" in template or template == "/api/v1/me" or template.startswith("/api/v1/me/")


async def test_every_person_route_leaves_a_row_about_the_person(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    await create_organization(db_session, client, name="Operator")
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
    person_id = person.id  # the seeding commits, which expires ``person``
    member = await create_account(db_session, client, org.id, "member", person_id=person_id)
    tenant = TenantA(org.id, person_id)
    tenant.ids_by_table = {
        "organizations": [org.id],
        "people": [person_id],
        "accounts": [member.account_id, org.owner.account_id],
    }
    tenant.person_ids_by_table = {"people": [person_id], "accounts": [member.account_id]}
    await _seed_every_table(db_session, tenant)
    owner = Caller("owner", org.owner.headers, None, frozenset())
    as_member = Caller("member", member.headers, None, frozenset())
    openapi = app.openapi()
    operations = [item for item in _operations(app) if _touches_person(item[1])]
    # Deleting the person hides them from every later call: deletions go last.
    operations.sort(key=lambda item: item[0] == "delete")
    assert len(operations) >= 40, "the walk must cover the person routes"

    calls: list[tuple[str, httpx.Response]] = []
    for method, template, operation in operations:
        caller = as_member if template.startswith("/api/v1/me") else owner
        path, query, body = RequestFactory(openapi, tenant, real=True).build(template, operation)
        response = await _call(client, caller, method, path, query, body)
        calls.append((f"{method.upper()} {template}", response))

    rows = {row.request_id: row for row in await audit_rows(app, db_session)}
    problems: list[str] = []
    recorded = 0
    for label, response in calls:
        row = rows.get(response.headers["x-request-id"])
        status = response.status_code
        if status < 400 or status in DENIED:
            recorded += 1
            expected = "allowed" if status < 400 else "denied"
            if row is None:
                problems.append(f"{label} ({status}): no audit row")
            elif row.person_id != person_id or row.outcome != expected:
                problems.append(f"{label}: row {row.person_id} {row.outcome}, wanted {expected}")
            elif row.route != label or row.organization_id != org.id:
                problems.append(f"{label}: row names {row.route} in {row.organization_id}")
        elif row is not None:  # a 422 or 409 touched nothing, so nothing is recorded
            problems.append(f"{label} ({status}): recorded though it touched nothing")
    assert not problems, "\n".join(problems)
    # Most routes answer the generic walker; the rest are refused inputs (422), not holes.
    assert recorded >= len(calls) * 3 // 4, [(label, r.status_code) for label, r in calls]


async def test_refusals_are_recorded_as_denied_in_the_callers_organisation(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    await create_organization(db_session, client, name="Operator")
    alpha = await create_organization(db_session, client)
    bravo = await create_organization(db_session, client)
    person_id = (await create_person(db_session, alpha.id)).id
    other = await create_account(db_session, client, alpha.id, "member")

    crossing = await client.get(f"/api/v1/users/{person_id}/sleep", headers=bravo.owner.headers)
    assert crossing.status_code == 404
    peeking = await client.get(f"/api/v1/users/{person_id}", headers=other.headers)
    assert peeking.status_code in DENIED

    (row,) = await audit_rows(app, db_session, request_id=crossing.headers["x-request-id"])
    assert (row.organization_id, row.outcome, row.status_code) == (bravo.id, "denied", 404)
    assert (row.actor_type, row.actor_id) == ("account", bravo.owner.account_id)
    assert (row.person_id, row.action) == (person_id, "sleep.read")
    (row,) = await audit_rows(app, db_session, request_id=peeking.headers["x-request-id"])
    assert (row.organization_id, row.outcome) == (alpha.id, "denied")
    assert row.actor_id == other.account_id


async def test_a_write_and_its_audit_row_commit_together(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    created = await client.post(
        "/api/v1/users", json={"email": "audited@example.com"}, headers=org.owner.headers
    )
    assert created.status_code == 201, created.text
    # Not flushed: a write's row is in the request's own transaction, not the buffer.
    db_session.expire_all()
    assert app.state.audit_writer.pending == 0
    (row,) = await audit_rows(app, db_session, request_id=created.headers["x-request-id"])
    assert (row.action, row.outcome, row.channel) == ("person.create", "allowed", "api")
    assert row.client_address
    assert row.seq >= 1
