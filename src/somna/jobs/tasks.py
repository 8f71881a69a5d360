"""Somna's own housekeeping tasks."""

from __future__ import annotations

from datetime import timedelta

import structlog

from somna.jobs.port import JobContext
from somna.jobs.registry import periodic, task

log = structlog.get_logger(__name__)


@task("jobs.prune", dedup="jobs.prune", max_attempts=3)
async def prune_jobs(ctx: JobContext) -> None:
    """Delete finished jobs past the retention period (sync runs keep the history users see)."""
    removed = await ctx.queue.prune(timedelta(days=ctx.settings.job_retention_days))
    log.info("jobs.pruned", removed=removed)


periodic("jobs.prune.daily", task="jobs.prune", cron="17 3 * * *")


@task("jobs.outbox.relay", dedup="jobs.outbox.relay", max_attempts=3)
async def relay_outbox(ctx: JobContext) -> None:
    """Hand to the queue the jobs whose hand-off after their commit failed."""
    delivered = await ctx.queue.relay_outbox()
    if delivered:
        log.warning("jobs.outbox_relayed_late", jobs=delivered)


periodic("jobs.outbox.relay.minutely", task="jobs.outbox.relay", cron="* * * * *")
