"""The events raised outside a sync page's upsert: deletions found by a sync (with the WHOOP
recoveries they take along), incoming provider webhooks, a refused refresh token, and a change
of a person's burnout level. Each is written in the change's own transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.analytics.tasks import BURNOUT_TASK
from somna.config import Settings
from somna.db import create_engine, create_sessionmaker
from somna.jobs import outbox
from somna.kit.time import utc_now
from somna.models import JobOutbox, MoodRating, OutgoingEvent, Person, WebhookEndpoint
from somna.outgoing.catalog import ALL
from somna.outgoing.service import secret_box
from somna.outgoing.signing import new_secret
from somna.pacing import MemoryPacer, provider_budgets
from somna.sandbox import WhoopSandbox
from somna.sync.engine import SyncServices, execute_run
from tests.analytics.support import NOW, TODAY, night, pin_now, recovery, store
from tests.connections.support import (
    asleep,
    queue_run,
    run_jobs,
    stored_ids,
    sync_app,
    sync_client,
    whoop,
    whoop_connection,
)
from tests.connections.support import sync_settings as provider_settings
from tests.outgoing.conftest import RETRY_SCHEDULE
from tests.outgoing.receiver import Receiver
from tests.support.auth import create_organization, create_person

__all__ = ["asleep", "provider_settings", "sync_app", "sync_client", "whoop"]

WHOOP_PATH = "/api/v1/webhooks/whoop"


@pytest.fixture
def sync_settings(provider_settings: Settings) -> Settings:
    """The sandboxes' settings, delivering to the loopback receiver on a compressed schedule
    (a refused delivery would hold the endpoint's later jobs behind its retry)."""
    return provider_settings.model_copy(
        update={"webhooks_allow_private": True, "webhook_retry_schedule": RETRY_SCHEDULE}
    )


async def _listen(
    session: AsyncSession,
    settings: Settings,
    organization_id: uuid.UUID,
    url: str = "http://127.0.0.1:9/hook",
) -> None:
    """An endpoint taking every event; tests that run the jobs pass a live receiver, so no
    delivery waits out a retry schedule."""
    endpoint = WebhookEndpoint(
        organization_id=organization_id,
        url=url,
        description="",
        events=[ALL],
        enabled=True,
        secret_encrypted=secret_box(settings).encrypt(new_secret()),
    )
    session.add(endpoint)
    await session.commit()


async def _payloads(session: AsyncSession) -> list[dict[str, Any]]:
    session.expire_all()
    statement = select(OutgoingEvent.payload).order_by(OutgoingEvent.created_at)
    return list((await session.scalars(statement)).all())


def _records(payloads: list[dict[str, Any]], event_type: str) -> list[str]:
    return [
        record["provider_record_id"]
        for item in payloads
        if item["type"] == event_type
        for record in item["data"]["records"]
    ]


def _assert_ordered(payloads: list[dict[str, Any]]) -> None:
    """A person's events carry increasing sequence numbers, in the order they committed."""
    numbers = [item["sequence"] for item in payloads]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == len(numbers)


async def test_a_sync_announces_deletions_and_the_recoveries_they_take(
    sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    engine = create_engine(sync_settings.database_url)
    pacer = MemoryPacer(provider_budgets(sync_settings), max_wait=30.0)
    services = SyncServices(sync_settings, create_sessionmaker(engine), pacer)
    member = whoop.members[0]
    connection = await whoop_connection(db_session, sync_settings, whoop, member)
    connection_id, organization_id = connection.id, connection.organization_id
    person_id = connection.person_id
    try:
        await execute_run(services, (await queue_run(db_session, connection)).id)
        with whoop.world.lock:
            last = max((s for s in whoop.world.sleeps(member) if not s.nap), key=lambda s: s.end)
        stored = await stored_ids(db_session, connection_id, "recovery")
        assert str(last.cycle_id) in stored
        await _listen(db_session, sync_settings, organization_id)  # hears the second sync only
        whoop.delete_sleep(member.user_id, last.id)
        assert await execute_run(services, (await queue_run(db_session, connection)).id) == (
            "succeeded"
        )
    finally:
        await engine.dispose()
    payloads = await _payloads(db_session)
    assert _records(payloads, "sleep.deleted") == [last.id]
    assert _records(payloads, "recovery.deleted") == [str(last.cycle_id)]
    [gone] = [item for item in payloads if item["type"] == "recovery.deleted"]
    assert gone["data"]["records"][0]["id"]  # the id the receiver knew it by
    assert gone["data"]["person_id"] == str(person_id)
    _assert_ordered(payloads)


async def test_incoming_provider_webhooks_announce_what_they_change(
    sync_client: httpx.AsyncClient,
    sync_app: FastAPI,
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
    receiver: Receiver,
) -> None:
    member = whoop.members[0]
    connection = await whoop_connection(db_session, sync_settings, whoop, member)
    connection_id = connection.id
    await _listen(db_session, sync_settings, connection.organization_id, receiver.url)
    with whoop.world.lock:
        last = max((s for s in whoop.world.sleeps(member) if not s.nap), key=lambda s: s.end)
    for event_type in ("sleep.updated", "recovery.updated"):
        body, headers = whoop.webhook_request(member.user_id, event_type, last.id)
        assert (await sync_client.post(WHOOP_PATH, content=body, headers=headers)).is_success
        await run_jobs(sync_app)
    whoop.delete_sleep(member.user_id, last.id)
    body, headers = whoop.webhook_request(member.user_id, "sleep.deleted", last.id)
    await sync_client.post(WHOOP_PATH, content=body, headers=headers)
    await run_jobs(sync_app)

    payloads = await _payloads(db_session)
    assert [item["type"] for item in payloads] == [
        "sleep.created",
        "recovery.created",
        "sleep.deleted",
        "recovery.deleted",  # the recovery hanging on the deleted sleep
    ]
    assert _records(payloads, "sleep.created") == _records(payloads, "sleep.deleted") == [last.id]
    assert _records(payloads, "recovery.deleted") == [str(last.cycle_id)]
    assert {item["data"]["connection_id"] for item in payloads} == {str(connection_id)}
    _assert_ordered(payloads)


async def test_a_refused_refresh_announces_reauthorization_once(
    sync_client: httpx.AsyncClient,
    sync_app: FastAPI,
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
    receiver: Receiver,
) -> None:
    org = await create_organization(db_session, sync_client)
    person = await create_person(db_session, org.id)
    member = whoop.members[0]
    connection = await whoop_connection(db_session, sync_settings, whoop, member, person=person)
    connection_id, person_id = connection.id, person.id
    await _listen(db_session, sync_settings, org.id, receiver.url)
    whoop.world.revoke_user(member.user_id)
    synced = await sync_client.post(f"/api/v1/users/{person_id}/sync", headers=org.owner.headers)
    assert synced.status_code == 202
    await run_jobs(sync_app)
    await sync_app.state.jobs.relay_outbox()

    payloads = await _payloads(db_session)
    [event] = [item for item in payloads if item["type"] == "connection.reauthorization_required"]
    assert event["data"]["connection_id"] == str(connection_id)
    assert event["data"]["person_id"] == str(person_id)
    assert event["data"]["status"] == "reauthorization_required"
    assert "refresh" in event["data"]["reason"]
    assert [item["type"] for item in payloads].count("sync.failed") == 1


async def _strained_last_week(
    session: AsyncSession, person: Person, today: date, now: datetime
) -> None:
    """Steady readings, then a week up to ``today`` of low HRV, high resting HR, short nights
    and low mood: a burnout level that moves from low or moderate to high."""
    readings = [
        recovery("whoop", today - timedelta(days=k), hrv=40 if k < 7 else 60 + (k % 3),
                 rhr=62 if k < 7 else 52 + (k % 2))
        for k in range(80)
    ]  # fmt: skip
    sleep = [night("whoop", today - timedelta(days=k), asleep_hours=5.5 if k < 7 else 7.8)
             for k in range(40)]  # fmt: skip
    await store(session, person, [*readings, *sleep])
    session.add_all(
        MoodRating(person_id=person.id, local_date=today - timedelta(days=k),
                   score=3 if k < 7 else 7 + k % 2, recorded_at=now, created_at=now)
        for k in range(45)
    )  # fmt: skip
    await session.commit()


async def test_a_changed_burnout_level_is_announced_with_its_main_factor(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
    await _strained_last_week(db_session, person, TODAY, NOW)
    person_id = person.id
    await _listen(db_session, settings, org.id)
    path = f"/api/v1/users/{person_id}/burnout"

    async def level(at_days_ago: int, **params: str) -> str:
        pin_now(app, NOW - timedelta(days=at_days_ago))
        answer = await client.get(
            path, params={"history_days": 0, **params}, headers=org.owner.headers
        )
        assert answer.status_code == 200, answer.text
        found: str = answer.json()["level"]
        return found

    before = await level(10)
    assert before in ("low", "moderate")
    assert await _payloads(db_session) == []  # a first result is no change
    # A one-off source choice in the query is not the person's level changing.
    assert await level(0, sources="whoop") == "high"
    assert await _payloads(db_session) == []
    assert await level(0) == "high"
    assert await level(0) == "high"  # the same level again: nothing more

    [event] = await _payloads(db_session)
    assert event["type"] == "burnout.level_changed"
    assert event["data"]["person_id"] == str(person_id)
    assert (event["data"]["old_level"], event["data"]["new_level"]) == (before, "high")
    assert event["data"]["main_factor"] in {"hrv", "resting_hr", "sleep_debt", "regularity", "mood"}
    assert event["data"]["as_of"] == TODAY.isoformat()
    assert event["data"]["risk"] >= 50
    assert event["sequence"] == 1


async def test_a_sync_that_changed_sleep_or_recovery_queues_the_burnout_refresh(
    sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    """Without a queue at hand (the CLI's in-process sync) the job waits in the outbox; a sync
    that changed nothing queues none."""
    engine = create_engine(sync_settings.database_url)
    pacer = MemoryPacer(provider_budgets(sync_settings), max_wait=30.0)
    services = SyncServices(sync_settings, create_sessionmaker(engine), pacer)
    connection = await whoop_connection(db_session, sync_settings, whoop, whoop.members[0])
    person_id = connection.person_id

    async def staged() -> list[dict[str, Any]]:
        db_session.expire_all()
        statement = select(JobOutbox.request).where(JobOutbox.task_name == BURNOUT_TASK)
        return list((await db_session.scalars(statement)).all())

    try:
        await execute_run(services, (await queue_run(db_session, connection)).id)
        [request] = await staged()
        assert request["args"] == {"person_id": str(person_id)}
        assert request["dedup_key"] == f"analytics.burnout:{person_id}"
        await execute_run(services, (await queue_run(db_session, connection)).id)
        assert len(await staged()) == 1  # nothing new: no second refresh
    finally:
        await engine.dispose()


async def test_the_burnout_refresh_announces_a_level_the_data_moved(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    """The level is announced when the data moves it, whether or not anyone reads it. The job
    reads the real clock, so the data is laid out up to the real today."""
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)  # in UTC
    now = utc_now()
    await _strained_last_week(db_session, person, now.date(), now)
    person_id = person.id
    await _listen(db_session, settings, org.id)
    pin_now(app, now - timedelta(days=10))  # read once, ten days ago: the stored level
    path = f"/api/v1/users/{person_id}/burnout"
    answer = await client.get(path, params={"history_days": 0}, headers=org.owner.headers)
    before = answer.json()["level"]
    assert before in ("low", "moderate")

    async with app.state.sessionmaker() as session, session.begin():
        args = {"person_id": str(person_id)}
        await outbox.stage_task(session, app.state.jobs, BURNOUT_TASK, args)
    await app.state.job_runtime.run_until_idle()

    # (The endpoint is not listening: its deliveries fail, which is not this test's business.)
    changed = [item for item in await _payloads(db_session) if item["type"].startswith("burnout")]
    assert [item["type"] for item in changed] == ["burnout.level_changed"]
    assert (changed[0]["data"]["old_level"], changed[0]["data"]["new_level"]) == (before, "high")
