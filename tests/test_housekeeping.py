"""The daily prune removes exactly what has outlived its use and keeps the rest."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.db import create_engine, create_sessionmaker
from somna.housekeeping import prune
from somna.kit.time import utc_now
from somna.models import (
    Account,
    OAuthState,
    OutgoingEvent,
    RefreshToken,
    UsageEvent,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from tests.support.factories import make_organization, make_person


def _usage(organization_id: uuid.UUID, days_ago: float) -> UsageEvent:
    now = utc_now()
    return UsageEvent(
        organization_id=organization_id,
        session_id=uuid.uuid4(),
        package_name="pkg",
        package_version="1.0",
        python_version="3.12",
        os_type="Linux",
        event_timestamp=now - timedelta(days=days_ago),
        received_at=now - timedelta(days=days_ago),
    )


def _webhook(name: str, received_days_ago: float, processed: bool) -> WebhookEvent:
    received = utc_now() - timedelta(days=received_days_ago)
    return WebhookEvent(
        provider="whoop",
        event_id=name,
        event_type="sleep.updated",
        payload={"name": name},
        received_at=received,
        processed_at=received + timedelta(minutes=1) if processed else None,
    )


def _token(account_id: uuid.UUID, family: uuid.UUID, expires_in_days: float) -> RefreshToken:
    now = utc_now()
    return RefreshToken(
        account_id=account_id,
        family_id=family,
        token_hash=uuid.uuid4().hex * 2,
        issued_at=now - timedelta(days=31),
        expires_at=now + timedelta(days=expires_in_days),
        rotated_at=now - timedelta(days=2),
    )


def _outgoing(
    organization_id: uuid.UUID, endpoint_id: uuid.UUID, name: str, days_ago: float, status: str
) -> tuple[OutgoingEvent, WebhookDelivery]:
    created = utc_now() - timedelta(days=days_ago)
    event = OutgoingEvent(
        id=uuid.uuid4(), organization_id=organization_id, event_type=name,
        payload={"type": name}, created_at=created,
    )  # fmt: skip
    delivery = WebhookDelivery(
        organization_id=organization_id, endpoint_id=endpoint_id, event_id=event.id,
        event_type=name, status=status, attempts=[], created_at=created, updated_at=created,
    )  # fmt: skip
    return event, delivery


async def _names(session: AsyncSession, column: object) -> set[object]:
    session.expire_all()
    return set(await session.scalars(select(column)))  # type: ignore[call-overload]


async def test_prune_removes_what_outlived_its_use(
    settings: Settings, db_session: AsyncSession
) -> None:
    now = utc_now()
    organization = await make_organization(db_session)
    person = await make_person(db_session, organization)
    account = Account(
        organization_id=organization.id, email=f"{uuid.uuid4().hex}@x.test",
        password_hash="x", role="owner",
    )  # fmt: skip
    db_session.add(account)
    await db_session.flush()
    dead_family, live_family = uuid.uuid4(), uuid.uuid4()
    states = {
        "expired": OAuthState(
            state_hash="a" * 64, person_id=person.id, provider="whoop",
            created_at=now - timedelta(hours=1), expires_at=now - timedelta(minutes=50),
        ),
        "used": OAuthState(
            state_hash="b" * 64, person_id=person.id, provider="whoop",
            created_at=now, expires_at=now + timedelta(minutes=10), used_at=now,
        ),
        "pending": OAuthState(
            state_hash="c" * 64, person_id=person.id, provider="whoop",
            created_at=now, expires_at=now + timedelta(minutes=10),
        ),
    }  # fmt: skip
    db_session.add_all(states.values())
    db_session.add_all(
        [
            _token(account.id, dead_family, -1),
            _token(account.id, dead_family, -1),
            _token(account.id, live_family, 5),
            _webhook("old-done", 31, processed=True),
            _webhook("recent-done", 29, processed=True),
            _webhook("old-pending", 31, processed=False),
            _usage(organization.id, 401),
            _usage(organization.id, 399),
        ]
    )
    endpoint = WebhookEndpoint(
        organization_id=organization.id, url="http://127.0.0.1:9/", description="",
        events=["*"], enabled=True, secret_encrypted="x",
    )  # fmt: skip
    db_session.add(endpoint)
    await db_session.flush()
    for name, days_ago, status in (
        ("old-sent", 31, "succeeded"),
        ("old-failed", 31, "failed"),
        ("old-retrying", 31, "pending"),  # still on its retry schedule: kept
        ("recent-sent", 29, "succeeded"),
    ):
        event, delivery = _outgoing(organization.id, endpoint.id, name, days_ago, status)
        db_session.add(event)
        await db_session.flush()
        db_session.add(delivery)
    await db_session.commit()

    engine = create_engine(settings.database_url)
    try:
        removed = await prune(create_sessionmaker(engine), settings)
        again = await prune(create_sessionmaker(engine), settings)
    finally:
        await engine.dispose()

    assert removed == {
        "oauth_states": 2,
        "refresh_tokens": 2,
        "webhook_events": 1,
        "usage_events": 1,
        "outgoing_events": 2,
    }
    assert set(again.values()) == {0}
    assert await _names(db_session, OAuthState.state_hash) == {"c" * 64}
    assert await _names(db_session, RefreshToken.family_id) == {live_family}
    assert await _names(db_session, WebhookEvent.event_id) == {"recent-done", "old-pending"}
    ages = await _names(db_session, UsageEvent.received_at)
    assert len(ages) == 1
    assert all(now - age < timedelta(days=400) for age in ages)  # type: ignore[operator]
    kept = {"old-retrying", "recent-sent"}
    assert await _names(db_session, OutgoingEvent.event_type) == kept
    assert await _names(db_session, WebhookDelivery.event_type) == kept  # cascaded
