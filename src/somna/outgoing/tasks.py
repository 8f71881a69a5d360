"""Background tasks of outgoing webhooks: one delivery attempt per job."""

from __future__ import annotations

import uuid

from somna.jobs.port import JobContext
from somna.jobs.registry import task
from somna.outgoing.delivery import deliver
from somna.outgoing.recording import DELIVER_MAX_ATTEMPTS, DELIVER_TASK


@task(DELIVER_TASK, max_attempts=DELIVER_MAX_ATTEMPTS)
async def deliver_webhook(ctx: JobContext, *, delivery_id: str, token: str) -> None:
    """Attempt one delivery; the next attempt, if any, is queued with its outcome."""
    await deliver(ctx.sessionmaker, ctx.settings, ctx.queue, uuid.UUID(delivery_id), token)
