"""Two people of one organisation, each holding some of everything Somna keeps about a person,
made through the real paths: a WHOOP sandbox sync, the mood, analytics and preferences routes,
a member account, an outgoing-webhook endpoint, an OAuth state and an idempotent reply."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.kit.time import utc_now
from somna.models import Connection, Person, WebhookEvent
from somna.sandbox import WhoopSandbox
from tests.connections.support import run_jobs, whoop_connection
from tests.outgoing.receiver import Receiver
from tests.support.auth import Login, Org, create_account, create_organization

USERS = "/api/v1/users"


@dataclass
class Tracked:
    person_id: uuid.UUID
    email: str
    connection_id: uuid.UUID
    whoop_user_id: str
    member: Login


@dataclass
class World:
    org: Org
    alice: Tracked
    bob: Tracked


async def _person(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org, label: str
) -> Person:
    email = f"{label}-{uuid.uuid4().hex[:6]}@example.com"
    created = await client.post(USERS, json={"email": email}, headers=org.owner.headers)
    assert created.status_code == 201, created.text
    person = await db_session.get(Person, uuid.UUID(created.json()["id"]))
    assert person is not None
    return person


async def _everything(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org, person: Person
) -> None:
    """Mood, preferences, analytics results, an OAuth state and an idempotent reply."""
    base = f"{USERS}/{person.id}"
    headers = org.owner.headers
    today = date.today()
    for offset, score in ((1, 6), (2, 8)):
        rated = await client.post(
            f"{base}/mood-ratings",
            json={"score": score, "local_date": (today - timedelta(days=offset)).isoformat()},
            headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert rated.status_code == 201, rated.text
    preferences = await client.put(
        f"{base}/preferences", json={"sleep_goal_hours": 7.5}, headers=headers
    )
    assert preferences.status_code == 200, preferences.text
    for route in ("burnout", "insights"):
        answer = await client.get(f"{base}/{route}", headers=headers)
        assert answer.status_code == 200, answer.text
    started = await client.post(f"{base}/connections/whoop", headers=headers)
    assert started.status_code == 200, started.text


async def arrange(
    app: FastAPI,
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    whoop: WhoopSandbox,
    receiver: Receiver,
) -> World:
    await create_organization(db_session, client, name="Operator")
    org = await create_organization(db_session, client, name="Night Owls")
    # Every outgoing event is stored (and tied to its person) once an endpoint subscribes.
    endpoint = await client.post(
        "/api/v1/webhook-endpoints",
        json={"url": f"{receiver.url}/hooks", "description": "the organisation's app"},
        headers=org.owner.headers,
    )
    assert endpoint.status_code == 201, endpoint.text
    tracked = []
    for label, member in (("alice", whoop.members[0]), ("bob", whoop.members[1])):
        person = await _person(client, db_session, org, label)
        connection = await whoop_connection(db_session, settings, whoop, member, person=person)
        synced = await client.post(f"{USERS}/{person.id}/sync", headers=org.owner.headers)
        assert synced.status_code == 202, synced.text
        await run_jobs(app)
        await _everything(client, db_session, org, person)
        login = await create_account(db_session, client, org.id, "member", person_id=person.id)
        db_session.add(
            WebhookEvent(
                provider="whoop",
                event_id=uuid.uuid4().hex,
                event_type="sleep.updated",
                provider_user_id=str(member.user_id),
                record_id=uuid.uuid4().hex,
                collection="sleep",
                payload={"user_id": member.user_id},
                received_at=utc_now(),
                processed_at=utc_now(),
            )
        )
        await db_session.commit()
        tracked.append(Tracked(person.id, person.email, connection.id, str(member.user_id), login))
    return World(org, tracked[0], tracked[1])


async def connection_ids(db_session: AsyncSession, person_id: uuid.UUID) -> list[uuid.UUID]:
    statement = select(Connection.id).where(Connection.person_id == person_id)
    return list((await db_session.scalars(statement)).all())
