"""The sweeper: webhook events and exports whose job was lost are queued again, and what is
still waiting in the queue is not queued twice."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.exports.service import redrive_exports
from somna.kit.time import utc_now
from somna.models import Export, WebhookEvent
from somna.sandbox import WhoopSandbox
from somna.webhooks.service import redrive
from tests.connections.support import (
    asleep,
    run_jobs,
    stored_ids,
    sync_app,
    sync_client,
    sync_settings,
    whoop,
    whoop_connection,
)
from tests.support.factories import make_organization
from tests.support.server import app_client

__all__ = ["asleep", "sync_app", "sync_client", "sync_settings", "whoop"]


async def _jobs_of(session: AsyncSession, settings: Settings, task: str) -> int:
    """How many jobs of ``task`` the queue ever held (finished ones included)."""
    if settings.job_backend == "procrastinate":
        query = "SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task"
    else:
        query = "SELECT count(*) FROM jobs WHERE task_name = :task"
    return int((await session.execute(text(query), {"task": task})).scalar_one())


async def test_an_unprocessed_webhook_event_without_a_job_is_redriven(
    sync_app: FastAPI, sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    member = whoop.members[0]
    connection = await whoop_connection(db_session, sync_settings, whoop, member)
    connection_id = connection.id
    with whoop.world.lock:
        workout = whoop.world.workouts(member)[0]
    # Stored by a receive whose job never reached the queue, twenty minutes ago.
    event = WebhookEvent(
        provider="whoop",
        event_id="lost-1",
        event_type="workout.updated",
        provider_user_id=str(member.user_id),
        record_id=workout.id,
        collection="workouts",
        payload={},
        received_at=utc_now() - timedelta(minutes=20),
    )
    fresh = WebhookEvent(
        provider="whoop",
        event_id="fresh-1",
        event_type="workout.updated",
        provider_user_id=str(member.user_id),
        record_id=workout.id,
        collection="workouts",
        payload={},
        received_at=utc_now(),
    )
    db_session.add_all([event, fresh])
    await db_session.commit()
    event_id, fresh_id = event.id, fresh.id

    async with app_client(sync_app):
        jobs = sync_app.state.jobs
        sessions = sync_app.state.sessionmaker
        assert await redrive(sessions, jobs, sync_settings) == 1  # the fresh one is left alone
        # Asked for again while the first is still queued: the dedup key keeps one job.
        assert await redrive(sessions, jobs, sync_settings) == 1
        await run_jobs(sync_app)
        assert await _jobs_of(db_session, sync_settings, "webhooks.process") == 1
        assert await redrive(sessions, jobs, sync_settings) == 0  # handled now

    assert await stored_ids(db_session, connection_id, "workouts") == [workout.id]
    db_session.expire_all()
    handled = await db_session.get(WebhookEvent, event_id)
    waiting = await db_session.get(WebhookEvent, fresh_id)
    assert handled is not None
    assert handled.processed_at is not None
    assert waiting is not None
    assert waiting.processed_at is None


async def test_an_export_left_queued_without_a_job_is_built(
    sync_app: FastAPI, sync_settings: Settings, db_session: AsyncSession
) -> None:
    organization = await make_organization(db_session)
    export = Export(
        organization_id=organization.id,
        requested_by="test",
        status="queued",
        formats=["json"],
        files=[],
        counts={},
        created_at=utc_now() - timedelta(minutes=20),
    )
    db_session.add(export)
    await db_session.commit()
    export_id = export.id

    async with app_client(sync_app):
        jobs = sync_app.state.jobs
        sessions = sync_app.state.sessionmaker
        assert await redrive_exports(sessions, jobs, sync_settings) == 1
        assert await redrive_exports(sessions, jobs, sync_settings) == 1
        await run_jobs(sync_app)
        assert await _jobs_of(db_session, sync_settings, "exports.build") == 1  # not two
        assert await redrive_exports(sessions, jobs, sync_settings) == 0

    db_session.expire_all()
    built = await db_session.get(Export, export_id)
    assert built is not None
    assert built.status == "succeeded"
