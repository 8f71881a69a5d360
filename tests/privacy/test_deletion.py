"""Deleting a person: scheduled, hidden and paused during the grace period, restorable, and
after it nothing of them left in any table but the ``person.deleted`` event (id only)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.kit.models import Base
from somna.kit.time import utc_now
from somna.models import (
    Connection,
    OutgoingEvent,
    Person,
    SleepSession,
    SyncRun,
    WebhookEvent,
)
from somna.privacy import service
from somna.sandbox import WhoopSandbox
from somna.sync.batch import sync_connections
from somna.sync.engine import PERSON_HIDDEN, SyncProgress, SyncServices
from somna.sync.service import schedule_due
from tests.connections.support import run_jobs
from tests.outgoing.receiver import Receiver
from tests.privacy.support import USERS, World, connection_ids
from tests.support.auth import create_api_key


def _services(app: FastAPI) -> SyncServices:
    return SyncServices(
        app.state.settings, app.state.sessionmaker, app.state.pacer, queue=app.state.jobs
    )


def _references(table: Table, referred: str) -> list[str]:
    """Columns of ``table`` holding an id of ``referred`` (a foreign key, or by name)."""
    named = {"people": "person_id", "connections": "connection_id"}[referred]
    return [
        column.name
        for column in table.c
        if column.name == named
        or any(fk.column.table.name == referred for fk in column.foreign_keys)
    ]


async def _rows_naming(
    db_session: AsyncSession, person_id: uuid.UUID, connections: list[uuid.UUID], email: str
) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table that refers to the person: by a person or connection column,
    or anywhere in its values (JSON payloads, stored replies, job arguments)."""
    needles = [str(person_id), person_id.hex, email]
    for connection_id in connections:
        needles += [str(connection_id), connection_id.hex]
    found: dict[str, list[dict[str, Any]]] = {}
    for table in Base.metadata.sorted_tables:
        for column_name in _references(table, "people"):
            column = table.c[column_name]
            rows = (await db_session.execute(select(table).where(column == person_id))).all()
            found.setdefault(table.name, []).extend(dict(row._mapping) for row in rows)
        for column_name in _references(table, "connections"):
            if connections:
                column = table.c[column_name]
                statement = select(table).where(column.in_(connections))
                rows = (await db_session.execute(statement)).all()
                found.setdefault(table.name, []).extend(dict(row._mapping) for row in rows)
        for row in (await db_session.execute(select(table))).all():
            values = dict(row._mapping)
            text = json.dumps(values, default=str)
            text += " ".join(v.hex for v in values.values() if isinstance(v, uuid.UUID))
            if any(needle in text for needle in needles):
                found.setdefault(table.name, []).append(values)
    return {name: rows for name, rows in found.items() if rows}


async def _count(db_session: AsyncSession, model: Any, *criteria: Any) -> int:
    statement = select(func.count()).select_from(model).where(*criteria)
    return int(await db_session.scalar(statement) or 0)


async def test_after_the_grace_period_nothing_of_the_person_remains(
    sync_app: FastAPI,
    sync_client: httpx.AsyncClient,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
    receiver: Receiver,
    world: World,
) -> None:
    alice, bob = world.alice, world.bob
    archive = await sync_client.post(
        f"{USERS}/{alice.person_id}/data-export", headers=world.org.owner.headers
    )
    assert archive.status_code == 202, archive.text
    # An export of both people: its export.completed event lists them both.
    both = await sync_client.post(
        "/api/v1/exports",
        json={"user_ids": [str(alice.person_id), str(bob.person_id)]},
        headers=world.org.owner.headers,
    )
    assert both.status_code == 202, both.text
    await run_jobs(sync_app)
    alice_connections = await connection_ids(db_session, alice.person_id)
    before = await _rows_naming(db_session, alice.person_id, alice_connections, alice.email)
    # The walk finds what it is meant to find: the arrangement left rows in many tables.
    assert {
        "people", "connections", "sleep_sessions", "recoveries", "cycles", "mood_ratings",
        "burnout_scores", "insights", "user_preferences", "accounts", "oauth_states",
        "sync_runs", "exports", "outgoing_events", "idempotency_keys",
    } <= set(before)  # fmt: skip
    if db_session.get_bind().dialect.name == "sqlite":
        assert "jobs" in before  # the embedded queue's; Procrastinate keeps its own tables
    # The provider's webhooks name the vendor account, not the person.
    alice_inbox = WebhookEvent.provider_user_id == alice.whoop_user_id
    assert await _count(db_session, WebhookEvent, alice_inbox) == 1
    bob_nights = await _count(db_session, SleepSession, SleepSession.person_id == bob.person_id)
    assert bob_nights > 0

    # Deleting by API key is signed; the answer says when it will happen.
    key = await create_api_key(sync_client, world.org.owner.headers, scopes=["users"])
    path = f"{USERS}/{alice.person_id}"
    unsigned = await sync_client.delete(path, headers=key.headers)
    assert unsigned.status_code == 401
    answer = await sync_client.delete(path, headers=key.signed("DELETE", path))
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["id"] == str(alice.person_id)
    assert body["status"] == "deletion_scheduled"
    assert body["deleted"] is False
    db_session.expire_all()
    person = await db_session.get(Person, alice.person_id)
    assert person is not None
    assert person.delete_after is not None
    assert person.delete_after.isoformat() == body["delete_after"].replace("Z", "+00:00")
    assert timedelta(days=6.9) < person.delete_after - utc_now() <= timedelta(days=7)

    # Not before its date, then once the grace period is over.
    services = _services(sync_app)
    assert await service.carry_out_due(services) == 0
    assert await db_session.get(Person, alice.person_id) is not None
    later = person.delete_after + timedelta(seconds=1)
    assert await service.carry_out_due(services, now=later) == 1

    assert alice.whoop_user_id in {str(user) for user in whoop.world.revoked_users}
    db_session.expire_all()
    left = await _rows_naming(db_session, alice.person_id, alice_connections, alice.email)
    # The only traces: the person.deleted event, which names the id and nothing else, and the
    # audit trail, which stays (append-only) and names the person by id only.
    assert set(left) == {"outgoing_events", "audit_events"}, {
        name: len(rows) for name, rows in left.items()
    }
    assert all(
        str(alice.person_id) in {str(row["person_id"]), str(row["resource_id"])}
        or row["person_id"] is None
        for row in left["audit_events"]
    )
    [event] = left["outgoing_events"]
    assert event["event_type"] == "person.deleted"
    assert event["person_id"] is None
    assert set(event["payload"]["data"]) == {"person_id", "requested_at", "deleted_at"}
    assert event["payload"]["data"]["person_id"] == str(alice.person_id)
    # Sent through the outbox like every event, signed, to the organisation's endpoint.
    await run_jobs(sync_app)
    sent = [json.loads(item.body) for item in receiver.to("/hooks")]
    assert [item["data"] for item in sent if item["type"] == "person.deleted"] == [
        event["payload"]["data"]
    ]
    assert await _count(db_session, WebhookEvent, alice_inbox) == 0
    # Someone else's data is untouched.
    assert await _count(db_session, SleepSession, SleepSession.person_id == bob.person_id) == (
        bob_nights
    )
    bob_read = await sync_client.get(f"{USERS}/{bob.person_id}", headers=world.org.owner.headers)
    assert bob_read.status_code == 200
    assert await _count(db_session, OutgoingEvent, OutgoingEvent.person_id == bob.person_id) > 0
    # The shared export's event still names Bob, and only him.
    completed = (
        await db_session.scalars(
            select(OutgoingEvent).where(OutgoingEvent.event_type == "export.completed")
        )
    ).all()
    shared = [e for e in completed if str(bob.person_id) in e.payload["data"]["user_ids"]]
    assert [e.payload["data"]["user_ids"] for e in shared] == [[str(bob.person_id)]]
    # Asked again, the person is simply unknown.
    gone = await sync_client.delete(path, headers=world.org.owner.headers)
    assert gone.status_code == 404
    assert gone.json()["error"] == "user_not_found"


async def test_hidden_during_the_grace_period_and_restored(
    sync_app: FastAPI,
    sync_client: httpx.AsyncClient,
    sync_settings: Settings,
    db_session: AsyncSession,
    world: World,
) -> None:
    alice, bob, headers = world.alice, world.bob, world.org.owner.headers
    base = f"{USERS}/{alice.person_id}"
    statistics = f"/api/v1/organizations/{world.org.id}/statistics"
    people_before = (await sync_client.get(statistics, headers=headers)).json()
    scheduled = await sync_client.delete(base, headers=headers)
    assert scheduled.status_code == 202, scheduled.text

    for route in ("", "/sleep", "/mood-ratings", "/connections", "/burnout", "/preferences"):
        hidden = await sync_client.get(f"{base}{route}", headers=headers)
        assert hidden.status_code == 404, (route, hidden.text)
        assert hidden.json()["error"] == "user_not_found"
    own = await sync_client.get("/api/v1/me", headers=alice.member.headers)
    assert own.status_code == 404
    listed = (await sync_client.get(USERS, headers=headers)).json()["data"]
    assert [item["id"] for item in listed] == [str(bob.person_id)]
    runs = (await sync_client.get("/api/v1/sync-runs", headers=headers)).json()["data"]
    assert {item["user_id"] for item in runs} == {str(bob.person_id)}
    people_during = (await sync_client.get(statistics, headers=headers)).json()
    assert _people_counted(people_during) == _people_counted(people_before) - 1
    cohort = await sync_client.post(
        "/api/v1/cohorts/analysis",
        json={"user_ids": [str(alice.person_id), str(bob.person_id)]},
        headers=headers,
    )
    assert cohort.status_code == 200, cohort.text
    assert cohort.json()["not_found"] == [str(alice.person_id)]
    export = await sync_client.post(
        "/api/v1/exports", json={"user_ids": [str(alice.person_id)]}, headers=headers
    )
    assert export.status_code == 404
    again = await sync_client.delete(base, headers=headers)
    assert again.status_code == 404  # hidden from the delete route too: nothing is postponed
    # The email stays taken until the deletion is carried out; the answer says why, to the
    # organisation's own admins, who may restore the person instead.
    same_email = await sync_client.post(USERS, json={"email": alice.email}, headers=headers)
    assert same_email.status_code == 409
    taken = same_email.json()
    assert taken["error"] == "user_email_taken"
    assert taken["delete_after"] is not None
    assert f"{base}/restore" in taken["detail"]

    # Paused: the schedule skips the person's connection and queues the other's.
    async with sync_app.state.sessionmaker() as session, session.begin():
        for connection in (await session.scalars(select(Connection))).all():
            connection.next_sync_at = utc_now() - timedelta(minutes=1)
    async with sync_app.state.sessionmaker() as session, session.begin():
        queued = await schedule_due(session, sync_app.state.jobs, sync_settings)
    assert queued == 1
    assert await _queued_runs(db_session, alice.connection_id) == 0
    assert await _queued_runs(db_session, bob.connection_id) == 1

    restored = await sync_client.post(f"{base}/restore", headers=headers)
    assert restored.status_code == 200, restored.text
    assert restored.json()["id"] == str(alice.person_id)
    assert (await sync_client.get(base, headers=headers)).status_code == 200
    listed = (await sync_client.get(USERS, headers=headers)).json()["data"]
    assert {item["id"] for item in listed} == {str(alice.person_id), str(bob.person_id)}
    # Syncs resume at once: a run catches up on what the pause skipped.
    assert await _queued_runs(db_session, alice.connection_id, trigger="restore") == 1
    await run_jobs(sync_app)
    assert await _queued_runs(db_session, alice.connection_id) == 0
    db_session.expire_all()
    latest = await db_session.scalar(
        select(SyncRun)
        .where(SyncRun.connection_id == alice.connection_id, SyncRun.trigger == "restore")
        .order_by(SyncRun.created_at.desc())
    )
    assert latest is not None
    assert latest.status == "succeeded"
    not_scheduled = await sync_client.post(f"{base}/restore", headers=headers)
    assert not_scheduled.status_code == 409
    assert not_scheduled.json()["error"] == "deletion_not_scheduled"
    stranger = await sync_client.post(f"{USERS}/{uuid.uuid4()}/restore", headers=headers)
    assert stranger.status_code == 404


async def test_a_running_sync_stops_at_its_next_page(
    sync_app: FastAPI,
    db_session: AsyncSession,
    world: World,
) -> None:
    alice = world.alice
    services = _services(sync_app)
    # One page a commit: the page after the deletion is scheduled is the one refused.
    services.settings = services.settings.model_copy(update={"sync_pages_per_commit": 1})
    pages: list[SyncProgress] = []

    async def hide_after_first_page(progress: SyncProgress) -> None:
        pages.append(progress)
        if len(pages) == 1:
            async with services.sessionmaker() as session, session.begin():
                person = await session.get(Person, alice.person_id)
                assert person is not None
                await service.schedule_deletion(session, services, person, grace=timedelta(days=1))

    # A backfill window, so that the run has many pages to go.
    start = utc_now().date() - timedelta(days=15)
    [outcome] = await sync_connections(
        services, [alice.connection_id], start_date=start, progress=hide_after_first_page
    )
    assert outcome.status == "cancelled"
    db_session.expire_all()
    run = await db_session.get(SyncRun, outcome.run_id)
    assert run is not None
    assert run.errors[-1]["error"] == PERSON_HIDDEN
    assert run.pages == 1


def _people_counted(statistics: dict[str, Any]) -> int:
    value = statistics.get("people", statistics.get("summary", {}).get("people"))
    if isinstance(value, dict):
        value = value.get("total", value.get("count"))
    assert isinstance(value, int), statistics
    return value


async def _queued_runs(
    db_session: AsyncSession, connection_id: uuid.UUID, *, trigger: str | None = None
) -> int:
    db_session.expire_all()
    criteria = [SyncRun.connection_id == connection_id, SyncRun.status == "queued"]
    if trigger is not None:
        criteria.append(SyncRun.trigger == trigger)
    return await _count(db_session, SyncRun, *criteria)


async def test_no_grace_period_deletes_at_once(
    sync_app: FastAPI,
    sync_client: httpx.AsyncClient,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
    world: World,
) -> None:
    sync_app.state.settings.deletion_grace_days = 0
    path = f"{USERS}/{world.alice.person_id}"
    answer = await sync_client.delete(path, headers=world.org.owner.headers)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "deleted"
    assert answer.json()["deleted"] is True
    db_session.expire_all()
    assert await db_session.get(Person, world.alice.person_id) is None
    assert world.alice.whoop_user_id in {str(user) for user in whoop.world.revoked_users}
    alice_nights = SleepSession.person_id == world.alice.person_id
    assert await _count(db_session, SleepSession, alice_nights) == 0
    events = await _count(db_session, OutgoingEvent, OutgoingEvent.event_type == "person.deleted")
    assert events == 1
