"""The sync API: on-demand runs (per person and organisation), the run record with its filters
and pages, and the periodic schedule."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.kit.time import utc_now
from somna.models import Connection, Person, SyncRun
from somna.sandbox import AsleepSandbox, WhoopSandbox
from somna.sync.service import schedule_due
from tests.connections.support import (
    asleep,
    asleep_connection,
    assert_whoop_complete,
    run_jobs,
    sync_app,
    sync_client,
    sync_settings,
    whoop,
    whoop_connection,
)
from tests.support.auth import create_account, create_organization, create_person

__all__ = ["asleep", "sync_app", "sync_client", "sync_settings", "whoop"]


async def _person(db_session: AsyncSession, organization_id: uuid.UUID, zone: str) -> Person:
    person = await create_person(db_session, organization_id)
    person.timezone = zone
    await db_session.commit()
    return person


async def test_sync_a_person_now_then_read_the_run(
    sync_client: httpx.AsyncClient,
    sync_app: FastAPI,
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
) -> None:
    org = await create_organization(db_session, sync_client)
    person = await _person(db_session, org.id, "Europe/Berlin")
    member = whoop.members[0]
    connection = await whoop_connection(db_session, sync_settings, whoop, member, person=person)
    connection_id = connection.id
    path = f"/api/v1/users/{person.id}/sync"

    accepted = await sync_client.post(path, headers=org.owner.headers)
    assert accepted.status_code == 202, accepted.text
    [run] = accepted.json()["data"]
    assert (run["status"], run["provider"], run["trigger"]) == ("queued", "whoop", "manual")
    assert run["window_start"] is None  # incremental
    # Asking again while it waits returns the same run rather than piling up another.
    again = await sync_client.post(path, json={"provider": "whoop"}, headers=org.owner.headers)
    assert again.json()["data"][0]["id"] == run["id"]

    dated = await sync_client.post(
        path, json={"start_date": "2026-01-10", "end_date": "2026-01-12"}, headers=org.owner.headers
    )
    [explicit] = dated.json()["data"]
    assert explicit["id"] != run["id"]
    # Local days in the person's zone (Berlin is UTC+1 in January).
    assert explicit["window_start"] == "2026-01-09T23:00:00Z"
    assert explicit["window_end"] == "2026-01-12T23:00:00Z"

    await run_jobs(sync_app)
    detail = await sync_client.get(f"/api/v1/sync-runs/{run['id']}", headers=org.owner.headers)
    assert detail.status_code == 200
    body = detail.json()
    assert body["status"] == "succeeded"
    assert set(body["counts"]) == {"sleep", "recovery", "cycles", "workouts", "body_measurements"}
    assert body["records"] == sum(item["records"] for item in body["counts"].values()) > 0
    assert body["pages"] >= len(body["counts"])
    assert body["requests"] >= body["pages"]
    assert body["attempts"] == 1
    assert body["errors"] == []
    assert body["duration_seconds"] is not None
    await assert_whoop_complete(db_session, whoop, member, connection_id)
    other = await sync_client.get(f"/api/v1/sync-runs/{explicit['id']}", headers=org.owner.headers)
    assert other.json()["status"] == "succeeded"


async def test_sync_runs_are_filtered_paged_and_private(
    sync_client: httpx.AsyncClient,
    sync_app: FastAPI,
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
    asleep: AsleepSandbox,
) -> None:
    org = await create_organization(db_session, sync_client)
    member_login = await create_account(db_session, sync_client, org.id, "member")
    assert member_login.person_id is not None
    own = await db_session.get(Person, member_login.person_id)
    assert own is not None
    other = await _person(db_session, org.id, "UTC")
    await whoop_connection(db_session, sync_settings, whoop, whoop.members[0], person=own)
    await asleep_connection(db_session, asleep, person=other)

    everyone = await sync_client.post("/api/v1/sync", headers=org.owner.headers)
    assert everyone.status_code == 202
    assert sorted(r["provider"] for r in everyone.json()["data"]) == ["asleep", "whoop"]
    assert {r["trigger"] for r in everyone.json()["data"]} == {"organization"}
    await run_jobs(sync_app)
    mine = await sync_client.post("/api/v1/sync", headers=member_login.headers)
    assert [r["user_id"] for r in mine.json()["data"]] == [str(own.id)]

    listed = await sync_client.get("/api/v1/sync-runs", headers=org.owner.headers)
    assert len(listed.json()["data"]) == 3
    only = await sync_client.get(
        "/api/v1/sync-runs",
        params={"provider": "asleep", "status": "succeeded"},
        headers=org.owner.headers,
    )
    assert [r["user_id"] for r in only.json()["data"]] == [str(other.id)]
    queued = await sync_client.get(
        "/api/v1/sync-runs", params={"status": "queued"}, headers=org.owner.headers
    )
    assert [r["id"] for r in queued.json()["data"]] == [mine.json()["data"][0]["id"]]
    by_user = await sync_client.get(
        "/api/v1/sync-runs", params={"user_id": str(other.id)}, headers=org.owner.headers
    )
    assert {r["user_id"] for r in by_user.json()["data"]} == {str(other.id)}

    first = await sync_client.get("/api/v1/sync-runs?limit=2", headers=org.owner.headers)
    assert len(first.json()["data"]) == 2
    cursor = first.json()["next_cursor"]
    assert cursor
    rest = await sync_client.get(
        "/api/v1/sync-runs", params={"limit": 2, "cursor": cursor}, headers=org.owner.headers
    )
    assert rest.json()["next_cursor"] is None
    seen = [r["id"] for r in first.json()["data"] + rest.json()["data"]]
    assert len(set(seen)) == 3

    # A member sees their own runs only, and another person's run is not there at all.
    member_view = await sync_client.get("/api/v1/sync-runs", headers=member_login.headers)
    assert {r["user_id"] for r in member_view.json()["data"]} == {str(own.id)}
    hidden = by_user.json()["data"][0]["id"]
    answer = await sync_client.get(f"/api/v1/sync-runs/{hidden}", headers=member_login.headers)
    assert answer.status_code == 404
    assert answer.json()["error"] == "sync_run_not_found"
    refused = await sync_client.get(
        "/api/v1/sync-runs", params={"user_id": str(other.id)}, headers=member_login.headers
    )
    assert refused.status_code == 404


async def test_sync_requests_are_validated(
    sync_client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, sync_client)
    person = await create_person(db_session, org.id)
    path = f"/api/v1/users/{person.id}/sync"
    backwards = await sync_client.post(
        path, json={"start_date": "2026-02-02", "end_date": "2026-02-01"}, headers=org.owner.headers
    )
    assert backwards.status_code == 422
    [error] = backwards.json()["errors"]
    assert (error["field"], error["type"]) == ("end_date", "reversed_period")
    too_long = await sync_client.post(
        path, json={"start_date": "2010-01-01", "end_date": "2026-02-01"}, headers=org.owner.headers
    )
    [error] = too_long.json()["errors"]
    assert (error["field"], error["type"]) == ("end_date", "period_too_long")
    assert "at most 3650" in too_long.json()["detail"]
    unknown = await sync_client.post(path, json={"provider": "oura"}, headers=org.owner.headers)
    assert unknown.status_code == 422
    nothing = await sync_client.post(path, headers=org.owner.headers)
    assert nothing.status_code == 409
    assert nothing.json()["error"] == "no_active_connection"


async def test_the_schedule_syncs_due_connections_once_per_interval(
    sync_app: FastAPI,
    sync_client: httpx.AsyncClient,
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
) -> None:
    due = await whoop_connection(db_session, sync_settings, whoop, whoop.members[0])
    later = await whoop_connection(db_session, sync_settings, whoop, whoop.members[1])
    due_id, later_id = due.id, later.id
    now = utc_now()
    due.next_sync_at = now - timedelta(minutes=1)
    later.next_sync_at = now + timedelta(minutes=30)
    await db_session.commit()

    queue = sync_app.state.job_runtime.queue
    async with sync_app.state.sessionmaker() as session, session.begin():
        assert await schedule_due(session, queue, sync_settings) == 1
    async with sync_app.state.sessionmaker() as session, session.begin():
        assert await schedule_due(session, queue, sync_settings) == 0  # not twice
    await run_jobs(sync_app)

    db_session.expire_all()
    runs = list(await db_session.scalars(select(SyncRun)))
    assert [(r.connection_id, r.trigger, r.status) for r in runs] == [
        (due_id, "schedule", "succeeded")
    ]
    row = await db_session.get(Connection, due_id)
    assert row is not None
    assert row.next_sync_at is not None
    assert row.next_sync_at - utc_now() > timedelta(minutes=55)
    untouched = await db_session.get(Connection, later_id)
    assert untouched is not None
    assert untouched.last_sync_at is None

    off = sync_settings.model_copy(update={"sync_interval_minutes": 0})
    row.next_sync_at = now - timedelta(hours=1)
    await db_session.commit()
    async with sync_app.state.sessionmaker() as session, session.begin():
        assert await schedule_due(session, queue, off) == 0
