"""Periodic jobs of the privacy lifecycle: carry out deletions whose grace period is over, and
apply organisations' record retention daily."""

from __future__ import annotations

import structlog

from somna.exports.archives import person_archives
from somna.jobs.port import JobContext
from somna.jobs.registry import periodic, task
from somna.privacy import service
from somna.privacy.archive import build_archive
from somna.sync.engine import SyncServices

log = structlog.get_logger(__name__)

# Exports build a person's archive with privacy's sections (exports sits below privacy).
person_archives.register(build_archive)

DELETIONS_TASK = "privacy.deletions"
RETENTION_TASK = "privacy.retention"


@task(DELETIONS_TASK, dedup=DELETIONS_TASK, max_attempts=3)
async def carry_out_deletions(ctx: JobContext) -> None:
    """Delete every person whose grace period has ended."""
    deleted = await service.carry_out_due(SyncServices.from_job(ctx))
    if deleted:
        log.info("privacy.deletions_carried_out", people=deleted)


# Every quarter of an hour: a deletion happens at most that long after its date.
periodic("privacy.deletions.often", task=DELETIONS_TASK, cron="*/15 * * * *")


@task(RETENTION_TASK, dedup=RETENTION_TASK, max_attempts=3)
async def apply_retention(ctx: JobContext) -> None:
    """Delete records older than each organisation's ``settings.retention_days``."""
    removed = await service.apply_retention(SyncServices.from_job(ctx))
    log.info("privacy.retention_applied", **removed)


periodic("privacy.retention.daily", task=RETENTION_TASK, cron="53 3 * * *")
