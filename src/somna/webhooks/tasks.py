"""The job behind each inbox event: fetch or delete exactly the record it names."""

from __future__ import annotations

import uuid

from somna.jobs.port import JobContext
from somna.jobs.registry import periodic, task
from somna.sync.engine import SyncServices
from somna.webhooks import service


# The connection's lock: a fetch never interleaves with a sync page of the same connection,
# so a deletion cannot be undone by a page fetched just before it.
@task(
    service.PROCESS_TASK,
    lock="conn:{connection_id}",
    dedup="webhook:{event_id}:{connection_id}",
    max_attempts=6,
)
async def process_webhook(ctx: JobContext, *, event_id: str, connection_id: str) -> None:
    """Act on one stored webhook event for one connection."""
    await service.process(
        SyncServices.from_job(ctx),
        uuid.UUID(event_id),
        uuid.UUID(connection_id),
        last_attempt=ctx.is_last_attempt,
    )


@task(service.REDRIVE_TASK, dedup=service.REDRIVE_TASK, max_attempts=3)
async def redrive_webhooks(ctx: JobContext) -> None:
    """Queue again the inbox events whose job was lost or gave up."""
    await service.redrive(ctx.sessionmaker, ctx.queue, ctx.settings)


periodic("webhooks.redrive.often", task=service.REDRIVE_TASK, cron="*/5 * * * *")
