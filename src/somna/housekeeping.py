"""Daily pruning of what would otherwise grow without bound: spent OAuth states, refresh tokens
past their family's life, processed incoming provider webhook events past
``SOMNA_WEBHOOK_RETENTION_DAYS``, usage events past ``SOMNA_USAGE_EVENT_RETENTION_DAYS``, and
outgoing webhook events with their delivery log past ``SOMNA_OUTGOING_WEBHOOK_RETENTION_DAYS``.

Each table is pruned in batches, each batch its own short transaction, so the job never holds
a long lock (SQLite has one writer) and can stop and resume anywhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.auth.repository import RefreshTokenRepository
from somna.config import Settings
from somna.connections.repository import OAuthStateRepository
from somna.events.repository import UsageEventRepository
from somna.jobs.port import JobContext
from somna.jobs.registry import periodic, task
from somna.kit.time import utc_now
from somna.outgoing.repository import EventRepository
from somna.webhooks.repository import WebhookEventRepository

log = structlog.get_logger(__name__)

TASK = "housekeeping.prune"
BATCH = 5_000

# One batch of deletions in a session, older than a moment; returns how many rows went.
Pruner = Callable[[AsyncSession, datetime], Awaitable[int]]


async def _oauth_states(session: AsyncSession, before: datetime) -> int:
    # Few rows (a state lives ten minutes): one statement is one batch.
    return await OAuthStateRepository(session).delete_expired(before)


async def _refresh_tokens(session: AsyncSession, before: datetime) -> int:
    return await RefreshTokenRepository(session).delete_expired(before, limit=BATCH)


async def _webhook_events(session: AsyncSession, before: datetime) -> int:
    return await WebhookEventRepository(session).delete_processed(before, limit=BATCH)


async def _usage_events(session: AsyncSession, before: datetime) -> int:
    return await UsageEventRepository(session).delete_received_before(before, limit=BATCH)


async def _outgoing_events(session: AsyncSession, before: datetime) -> int:
    # Deliveries go with their event (the foreign key cascades); an event with a delivery
    # still pending stays, so a long retry schedule is never cut short.
    return await EventRepository(session).delete_settled_before(before, limit=BATCH)


def _plan(settings: Settings, now: datetime) -> list[tuple[str, Pruner, datetime]]:
    return [
        ("oauth_states", _oauth_states, now),
        ("refresh_tokens", _refresh_tokens, now),
        ("webhook_events", _webhook_events, now - timedelta(days=settings.webhook_retention_days)),
        (
            "usage_events",
            _usage_events,
            now - timedelta(days=settings.usage_event_retention_days),
        ),
        (
            "outgoing_events",
            _outgoing_events,
            now - timedelta(days=settings.outgoing_webhook_retention_days),
        ),
    ]


async def prune(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> dict[str, int]:
    """Prune every table; returns the rows deleted per table."""
    removed: dict[str, int] = {}
    for name, pruner, before in _plan(settings, utc_now()):
        removed[name] = 0
        while True:
            async with sessionmaker() as session, session.begin():
                count = await pruner(session, before)
            removed[name] += count
            if count < BATCH:
                break
    return removed


@task(TASK, dedup=TASK, max_attempts=3)
async def prune_task(ctx: JobContext) -> None:
    """Delete spent OAuth states, dead refresh tokens, old webhook, usage and outgoing events."""
    removed = await prune(ctx.sessionmaker, ctx.settings)
    log.info("housekeeping.pruned", **removed)


periodic("housekeeping.prune.daily", task=TASK, cron="29 3 * * *")
