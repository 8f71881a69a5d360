"""Sync jobs: a connection's queued runs, and the schedule that queues due connections."""

from __future__ import annotations

import uuid

import structlog

from somna.jobs.port import JobContext, RetryLater
from somna.jobs.registry import periodic, task
from somna.sync import service
from somna.sync.engine import ConnectionBusy, SyncServices, execute_run

log = structlog.get_logger(__name__)

# One job works through the runs queued for its connection; a bound keeps it from running
# forever if runs keep arriving.
MAX_RUNS_PER_JOB = 20


# No dedup key: the run rows de-duplicate (one queued incremental run per connection). The
# queue's lock spares workers from waiting on each other; the run row is the real lock, which
# the CLI takes too: a job finding the connection held by a live executor comes back later.
@task(service.SYNC_TASK, lock="conn:{connection_id}", max_attempts=8)
async def sync_connection(ctx: JobContext, *, connection_id: str) -> None:
    """Execute the connection's queued runs (first one whose executor died, or its own)."""
    services = SyncServices.from_job(ctx)
    key = uuid.UUID(connection_id)
    owner = f"job:{ctx.job_id}"
    for _ in range(MAX_RUNS_PER_JOB):
        run_id = await service.next_run_id(services, key)
        if run_id is None:
            return
        try:
            status = await execute_run(
                services, run_id, owner=owner, last_attempt=ctx.is_last_attempt
            )
        except ConnectionBusy as busy:
            if not await service.has_queued(services, key):
                return  # the holder does what there is to do
            raise RetryLater(busy.retry_in(), "another sync of this connection runs") from busy
        if ctx.is_last_attempt and status == "failed":
            break  # later runs deserve attempts of their own, in a fresh job
    if await service.next_run_id(services, key) is not None:
        await ctx.queue.defer(service.SYNC_TASK, {"connection_id": connection_id})


@task("sync.schedule", max_attempts=3)
async def schedule_due_syncs(ctx: JobContext) -> None:
    """Queue a sync of every connection whose next scheduled sync has come."""
    async with ctx.sessionmaker() as session, session.begin():
        await service.schedule_due(session, ctx.queue, ctx.settings)


periodic("sync.schedule.minutely", task="sync.schedule", cron="* * * * *")
