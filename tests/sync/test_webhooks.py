"""Webhooks: the signature is checked over the raw body before anything is parsed or stored,
each event is stored once, and it is turned into a fetch (or deletion) of exactly its record."""

from __future__ import annotations

import json
import time

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.models import WebhookEvent
from somna.sandbox import AsleepSandbox, WhoopSandbox
from tests.connections.support import (
    asleep,
    asleep_connection,
    run_jobs,
    stored_ids,
    sync_app,
    sync_client,
    sync_settings,
    whoop,
    whoop_connection,
)

__all__ = ["asleep", "sync_app", "sync_client", "sync_settings", "whoop"]

WHOOP_PATH = "/api/v1/webhooks/whoop"


async def _events(session: AsyncSession) -> list[WebhookEvent]:
    session.expire_all()
    return list(await session.scalars(select(WebhookEvent).order_by(WebhookEvent.received_at)))


async def test_a_signed_event_fetches_exactly_its_record_once(
    sync_client: httpx.AsyncClient,
    sync_app: FastAPI,
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
) -> None:
    member = whoop.members[0]
    connection = await whoop_connection(db_session, sync_settings, whoop, member)
    connection_id = connection.id
    with whoop.world.lock:
        night = max((s for s in whoop.world.sleeps(member) if not s.nap), key=lambda s: s.end)
    body, headers = whoop.webhook_request(member.user_id, "sleep.updated", night.id, trace_id="t-1")
    answer = await sync_client.post(WHOOP_PATH, content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": 1, "duplicates": 0, "queued": 1}
    # WHOOP may deliver twice: the second copy is recognised by its trace id.
    duplicate = await sync_client.post(WHOOP_PATH, content=body, headers=headers)
    assert duplicate.json() == {"received": 1, "duplicates": 1, "queued": 0}
    [event] = await _events(db_session)
    assert (event.event_id, event.event_type, event.collection) == ("t-1", "sleep.updated", "sleep")
    assert event.processed_at is None

    await run_jobs(sync_app)
    assert await stored_ids(db_session, connection_id, "sleep") == [night.id]
    assert await stored_ids(db_session, connection_id, "recovery") == []
    [event] = await _events(db_session)
    assert event.processed_at is not None
    assert event.error is None

    # recovery.* names the sleep; the recovery is stored under its cycle.
    body, headers = whoop.webhook_request(member.user_id, "recovery.updated", night.id)
    await sync_client.post(WHOOP_PATH, content=body, headers=headers)
    await run_jobs(sync_app)
    assert await stored_ids(db_session, connection_id, "recovery") == [str(night.cycle_id)]

    # A deletion removes the record (and the recovery that hangs on the sleep).
    whoop.delete_sleep(member.user_id, night.id)
    body, headers = whoop.webhook_request(member.user_id, "sleep.deleted", night.id)
    await sync_client.post(WHOOP_PATH, content=body, headers=headers)
    await run_jobs(sync_app)
    assert await stored_ids(db_session, connection_id, "sleep") == []
    assert await stored_ids(db_session, connection_id, "recovery") == []


async def test_unsigned_tampered_or_stale_webhooks_are_refused_before_parsing(
    sync_client: httpx.AsyncClient,
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
) -> None:
    member = whoop.members[0]
    await whoop_connection(db_session, sync_settings, whoop, member)
    body, headers = whoop.webhook_request(member.user_id, "sleep.updated", "x")
    tampered = body.replace(b"sleep.updated", b"sleep.deleted")
    stale_ms = int((time.time() - 301) * 1000)
    stale_body, stale_headers = whoop.webhook_request(
        member.user_id, "sleep.updated", "x", timestamp_ms=stale_ms
    )
    cases = [
        (body, {}),
        (tampered, headers),
        (b"not json at all", headers),
        (stale_body, stale_headers),
    ]
    for content, sent in cases:
        answer = await sync_client.post(WHOOP_PATH, content=content, headers=sent)
        assert answer.status_code == 401, content
        assert answer.json()["error"] == "invalid_webhook_signature"
    assert await _events(db_session) == []
    fresh_ms = int((time.time() - 290) * 1000)
    ok_body, ok_headers = whoop.webhook_request(
        member.user_id, "workout.updated", "x", timestamp_ms=fresh_ms
    )
    accepted = await sync_client.post(WHOOP_PATH, content=ok_body, headers=ok_headers)
    assert accepted.status_code == 200
    huge = await sync_client.post(WHOOP_PATH, content=b"{" + b" " * 300_000 + b"}")
    assert huge.status_code == 413


async def test_an_event_for_an_unknown_user_is_kept_but_fetches_nothing(
    sync_client: httpx.AsyncClient, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    body, headers = whoop.webhook_request(424242, "sleep.updated", "abc")
    answer = await sync_client.post(WHOOP_PATH, content=body, headers=headers)
    assert answer.json() == {"received": 1, "duplicates": 0, "queued": 0}
    [event] = await _events(db_session)
    assert event.processed_at is not None
    assert event.error == "no active connection for this provider user"


async def test_whoop_sandbox_delivers_over_real_http(
    sync_app: FastAPI,
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
) -> None:
    from tests.support.server import serve_in_thread

    member = whoop.members[1]
    connection = await whoop_connection(db_session, sync_settings, whoop, member)
    connection_id = connection.id
    with whoop.world.lock:
        workout = whoop.world.workouts(member)[0]
    with serve_in_thread(sync_app) as url:
        [delivery] = await whoop.asend_webhook(
            member.user_id, "workout.updated", workout.id, url=f"{url}{WHOOP_PATH}"
        )
        assert delivery.delivered
        assert delivery.attempts == ["200"]
        await run_jobs(sync_app)
    assert await stored_ids(db_session, connection_id, "workouts") == [workout.id]


async def test_asleep_session_callbacks_need_our_api_key(
    sync_client: httpx.AsyncClient,
    sync_app: FastAPI,
    db_session: AsyncSession,
    asleep: AsleepSandbox,
) -> None:
    connection, user_id = await asleep_connection(db_session, asleep)
    connection_id = connection.id
    with asleep.world.lock:
        session_id = asleep.world.visible(asleep.world.users[user_id])[-1][0]
    body, headers = asleep.session_complete_request(user_id, session_id)
    forged = await sync_client.post(
        "/api/v1/webhooks/asleep", content=body, headers={**headers, "x-api-key": "guess"}
    )
    assert forged.status_code == 401
    answer = await sync_client.post("/api/v1/webhooks/asleep", content=body, headers=headers)
    assert answer.status_code == 200
    assert answer.json()["queued"] == 1
    again = await sync_client.post("/api/v1/webhooks/asleep", content=body, headers=headers)
    assert again.json()["duplicates"] == 1
    await run_jobs(sync_app)
    assert await stored_ids(db_session, connection_id, "sleep") == [session_id]
    count = await db_session.scalar(select(func.count()).select_from(WebhookEvent))
    assert count == 1
    assert json.loads(body)["event"] == "SESSION_COMPLETE"
