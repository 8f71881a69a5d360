"""Events are written in the transaction of the change that caused them: a sync page's records
announce themselves in batches, a finished sync and a first backfill are announced, and a
rolled-back change announces nothing."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.db import create_engine, create_sessionmaker
from somna.models import JobOutbox, OutgoingEvent, WebhookDelivery, WebhookEndpoint
from somna.outgoing import emit
from somna.outgoing.catalog import ALL
from somna.outgoing.service import secret_box
from somna.outgoing.signing import new_secret
from somna.pacing import MemoryPacer, provider_budgets
from somna.sandbox import AsleepSandbox, WhoopSandbox
from somna.sync.engine import SyncServices, execute_run
from tests.connections.support import (
    asleep,
    queue_run,
    stored_ids,
    sync_settings,
    whoop,
    whoop_connection,
)
from tests.support.factories import make_organization, make_person

__all__ = ["asleep", "sync_settings", "whoop"]
PAGE = 10


async def _endpoint(
    session: AsyncSession, settings: Settings, organization_id: uuid.UUID, events: list[str]
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        organization_id=organization_id,
        url="http://127.0.0.1:9/hook",
        description="",
        events=events,
        enabled=True,
        secret_encrypted=secret_box(settings).encrypt(new_secret()),
    )
    session.add(endpoint)
    await session.commit()
    return endpoint


async def _payloads(session: AsyncSession) -> list[dict[str, Any]]:
    session.expire_all()
    statement = select(OutgoingEvent.payload).order_by(OutgoingEvent.created_at)
    return list((await session.scalars(statement)).all())


async def test_a_sync_announces_its_records_in_batches_per_page(
    sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox, asleep: AsleepSandbox
) -> None:
    settings = sync_settings.model_copy(update={"sync_page_size": PAGE, "sync_backfill_days": 30})
    member = whoop.members[0]
    connection = await whoop_connection(db_session, settings, whoop, member)
    connection_id, organization_id = connection.id, connection.organization_id
    person_id = connection.person_id
    await _endpoint(db_session, settings, organization_id, [ALL])
    engine = create_engine(settings.database_url)
    services = SyncServices(
        settings,
        create_sessionmaker(engine),
        MemoryPacer(provider_budgets(settings), max_wait=30.0),
    )
    try:
        run_id = (await queue_run(db_session, connection)).id
        assert await execute_run(services, run_id) == "succeeded"
    finally:
        await engine.dispose()
    payloads = await _payloads(db_session)
    sleeps = [item for item in payloads if item["type"] == "sleep.created"]
    stored = await stored_ids(db_session, connection_id, "sleep")
    assert len(stored) > PAGE, "the test needs more than one page of nights"
    # One event per page, never one per night, each at most a page of records.
    assert len(sleeps) == -(-len(stored) // PAGE)
    assert all(0 < item["data"]["count"] <= PAGE for item in sleeps)
    listed = [record["provider_record_id"] for item in sleeps for record in item["data"]["records"]]
    assert sorted(listed) == sorted(stored)
    first = sleeps[0]
    assert set(first) == {"id", "type", "created_at", "organization_id", "sequence", "data"}
    assert first["organization_id"] == str(organization_id)
    assert first["data"]["person_id"] == str(person_id)
    kinds = Counter(item["type"] for item in payloads)
    assert kinds["sync.succeeded"] == 1
    assert kinds["backfill.completed"] == 1  # the connection's first sync
    assert kinds["recovery.created"] >= 1
    # Each event has its delivery and its job, waiting in the outbox (no queue was given).
    deliveries = await db_session.scalar(select(func.count()).select_from(WebhookDelivery))
    jobs = await db_session.scalar(select(func.count()).select_from(JobOutbox))
    assert deliveries == len(payloads)
    assert jobs is not None
    assert jobs >= len(payloads)


async def test_subscriptions_filter_and_no_endpoint_means_no_event(
    settings: Settings, db_session: AsyncSession
) -> None:
    organization = await make_organization(db_session)
    person = await make_person(db_session, organization)
    await db_session.commit()
    organization_id = organization.id
    ids: dict[str, Any] = {
        "person_id": person.id,
        "connection_id": uuid.uuid4(),
        "provider": "whoop",
    }
    await emit.connection_changed(
        db_session, None, organization_id, "connection.connected", status="active", **ids
    )
    await db_session.commit()
    assert await _payloads(db_session) == []  # nobody listens: nothing is stored

    await _endpoint(db_session, settings, organization_id, ["connection.revoked"])
    await emit.connection_changed(
        db_session, None, organization_id, "connection.connected", status="active", **ids
    )
    await emit.connection_changed(
        db_session, None, organization_id, "connection.revoked", status="revoked", **ids
    )
    await db_session.commit()
    assert [item["type"] for item in await _payloads(db_session)] == ["connection.revoked"]
    # Only stored events take a number: the person's first is 1, whatever was filtered out.
    await emit.connection_changed(
        db_session, None, organization_id, "connection.revoked", status="revoked", **ids
    )
    await db_session.commit()
    assert [item["sequence"] for item in await _payloads(db_session)] == [1, 2]


async def test_a_rolled_back_change_sends_nothing(
    settings: Settings, db_session: AsyncSession
) -> None:
    organization = await make_organization(db_session)
    person = await make_person(db_session, organization)
    await db_session.commit()
    organization_id = organization.id
    await _endpoint(db_session, settings, organization_id, [ALL])
    ids: dict[str, Any] = {
        "person_id": person.id,
        "connection_id": uuid.uuid4(),
        "provider": "whoop",
    }
    await emit.connection_changed(
        db_session, None, organization_id, "connection.revoked", status="revoked", **ids
    )
    await db_session.rollback()
    for model in (OutgoingEvent, WebhookDelivery, JobOutbox):
        assert await db_session.scalar(select(func.count()).select_from(model)) == 0
