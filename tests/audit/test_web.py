"""The dashboard is a channel of its own: a signed-in session that reads a person's page
leaves a row with channel ``web``, the account as actor and the person it showed."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import Account
from tests.audit.support import audit_rows
from tests.web.conftest import seeded
from tests.web.support import Seeded, sign_in

__all__ = ["seeded"]


def _key(row: object) -> uuid.UUID:
    identity = inspect(row).identity
    assert identity is not None
    key: uuid.UUID = identity[0]
    return key


async def test_a_dashboard_page_of_a_person_is_recorded_as_web(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession, seeded: Seeded
) -> None:
    # The seeding committed: its objects are expired, their keys are not.
    person_id, organization_id, stranger_id = (
        _key(item) for item in (seeded.person, seeded.organization, seeded.stranger)
    )
    owner = await db_session.scalar(select(Account).where(Account.email == seeded.owner_email))
    assert owner is not None
    owner_id = owner.id
    await sign_in(client, seeded.owner_email)

    page = await client.get(f"/people/{person_id}")
    assert page.status_code == 200, page.text[:500]

    (row,) = await audit_rows(app, db_session, request_id=page.headers["x-request-id"])
    assert (row.channel, row.actor_type, row.actor_id) == ("web", "account", owner_id)
    assert (row.person_id, row.organization_id) == (person_id, organization_id)
    assert (row.route, row.outcome) == ("GET /people/{person_id}", "allowed")

    # Another organisation's person is the 404 page, and a denied row in the owner's chain.
    refused = await client.get(f"/people/{stranger_id}")
    assert refused.status_code == 404
    (denied,) = await audit_rows(app, db_session, request_id=refused.headers["x-request-id"])
    assert (denied.channel, denied.outcome, denied.status_code) == ("web", "denied", 404)
    assert denied.organization_id == organization_id
