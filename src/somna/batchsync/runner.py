"""Run a batch sync in this process, with bars on a console or quietly."""

from __future__ import annotations

import time
from datetime import date

from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.batchsync.progress import SyncBars, sync_progress
from somna.batchsync.summary import BatchSummary, collect_summary
from somna.batchsync.targets import Target
from somna.config import Settings
from somna.pacing import Pacer, create_pacer
from somna.sync.batch import sync_connections
from somna.sync.engine import SyncServices


async def run_batch(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    targets: list[Target],
    *,
    start_date: date | None,
    end_date: date | None,
    concurrency: int,
    trigger: str,
    out: Console | None,
    pacer: Pacer | None = None,
    wait_busy: float = 0.0,
) -> BatchSummary:
    """Sync ``targets`` with bars on ``out`` (none: quietly); ``pacer`` defaults to a new one."""
    own_pacer = pacer is None
    services = SyncServices(settings, sessionmaker, pacer or create_pacer(settings))
    active = [target.connection_id for target in targets if target.status == "active"]
    started = time.monotonic()
    try:
        if out is None:
            outcomes = await sync_connections(
                services, active, start_date=start_date, end_date=end_date, trigger=trigger,
                concurrency=concurrency, wait_busy=wait_busy,
            )  # fmt: skip
        else:
            with sync_progress(out) as progress:
                bars = SyncBars(progress, targets)
                for target in targets:
                    if target.status != "active":
                        bars.skipped(target)
                outcomes = await sync_connections(
                    services, active, start_date=start_date, end_date=end_date, trigger=trigger,
                    concurrency=concurrency, progress=bars, wait_busy=wait_busy,
                )  # fmt: skip
                for outcome in outcomes:
                    if outcome.run_id is None:
                        bars.busy(outcome.connection_id)
    finally:
        if own_pacer:
            await services.pacer.aclose()
    return await collect_summary(sessionmaker, targets, outcomes, time.monotonic() - started)
