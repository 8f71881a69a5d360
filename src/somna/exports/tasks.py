"""Background tasks of exports: build one, and prune old ones daily."""

from __future__ import annotations

import uuid

import structlog

from somna.exports import service
from somna.jobs.port import JobContext
from somna.jobs.registry import periodic, task

log = structlog.get_logger(__name__)


@task(service.BUILD_TASK, lock="export:{export_id}", dedup="export:{export_id}", max_attempts=3)
async def build_export(ctx: JobContext, *, export_id: str) -> None:
    """Write an export's files; the export row says how it went."""
    await service.build_export(
        ctx.sessionmaker,
        ctx.settings,
        uuid.UUID(export_id),
        last_attempt=ctx.is_last_attempt,
        queue=ctx.queue,
    )


@task("exports.prune", dedup="exports.prune", max_attempts=3)
async def prune_exports(ctx: JobContext) -> None:
    """Delete the files of exports older than ``SOMNA_EXPORT_RETENTION_DAYS``."""
    pruned = await service.prune_exports(ctx.sessionmaker, ctx.settings)
    log.info("exports.pruned", exports=pruned)


periodic("exports.prune.daily", task="exports.prune", cron="41 3 * * *")


@task(service.REDRIVE_TASK, dedup=service.REDRIVE_TASK, max_attempts=3)
async def redrive_exports(ctx: JobContext) -> None:
    """Queue again the builds of exports whose job was lost."""
    await service.redrive_exports(ctx.sessionmaker, ctx.queue, ctx.settings)


periodic("exports.redrive.often", task=service.REDRIVE_TASK, cron="*/5 * * * *")
