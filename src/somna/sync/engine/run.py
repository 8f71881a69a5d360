"""One attempt at one run: claim it (the run row is its connection's lock), keep its lease
while working, walk its collections, and write how it ended."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from somna.analytics.tasks import BURNOUT_INPUTS, BURNOUT_TASK
from somna.connections.clients import ConnectionRef, open_provider
from somna.db import write_transaction
from somna.errors import describe
from somna.jobs import outbox
from somna.jobs.port import RetryLater
from somna.kit.time import utc_now
from somna.models import Connection, Person, SyncRun
from somna.models.sync_run import HOLDING_STATUSES
from somna.outgoing import emit
from somna.pacing import PacedTransport
from somna.providers.base import Collection, Provider
from somna.providers.exceptions import (
    ProviderQuotaExceeded,
    ProviderRateLimited,
    ReauthorizationRequired,
)
from somna.sync.engine.context import ActiveRun, ProgressCallback, SyncServices, notify
from somna.sync.engine.errors import (
    PERSON_HIDDEN,
    CollectionRefused,
    ConnectionBusy,
    RunStopped,
    RunTakenOver,
    error_entry,
)
from somna.sync.engine.ledger import RunLedger
from somna.sync.engine.walk import CollectionWalk
from somna.sync.planner import Window
from somna.sync.repositories import (
    PENDING_STATUSES,
    SyncConnectionRepository,
    SyncRunRepository,
)

log = structlog.get_logger(__name__)

# A run taken up afresh this often (faults, or executors dying under it, again and again) is
# given up. Budget waits and 429 pauses are not attempts.
MAX_RUN_ATTEMPTS = 12
# Who executes a run when the caller names nobody (tests, scripts): this process.
PROCESS_OWNER = f"process:{socket.gethostname()}:{os.getpid()}"


class RunExecutor:
    """One attempt at one run."""

    def __init__(
        self,
        services: SyncServices,
        run_id: uuid.UUID,
        *,
        last_attempt: bool,
        owner: str = PROCESS_OWNER,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.services = services
        self.settings = services.settings
        self.sessionmaker = services.sessionmaker
        self.run_id = run_id
        self.last_attempt = last_attempt
        self.owner = owner
        self.progress = progress
        self.lease = timedelta(seconds=services.settings.job_lease_seconds)

    async def execute(self) -> str:
        """Run to a final status (returned), or raise ``RetryLater``/the fault to retry;
        ``ConnectionBusy`` when another live executor holds the connection."""
        run = await self._start()
        if run is None:
            return await self._status()
        heartbeat = asyncio.create_task(self._heartbeat(run))
        try:
            return await self._execute(run)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    # --- the lease ---------------------------------------------------------------------------

    async def _heartbeat(self, run: ActiveRun) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                async with write_transaction(self.sessionmaker) as session:
                    mine = await SyncRunRepository(session).renew(
                        run.id, self.owner, utc_now() + self.lease
                    )
            except Exception as exc:  # a hiccup: the next beat tries again
                log.warning("sync.heartbeat_failed", run_id=str(run.id), error=describe(exc))
                continue
            if not mine:
                # Waiting (the row says so) or adopted after a stall: the page commits check.
                return

    # --- the work and how it ends ------------------------------------------------------------

    async def _execute(self, run: ActiveRun) -> str:
        transport = PacedTransport(
            self.services.pacer,
            run.connection.provider,
            str(run.connection.id),
            inner=self.services.transport,
        )
        provider = open_provider(
            self.settings, self.sessionmaker, self.services.engine, run.connection,
            transport=transport,
        )  # fmt: skip
        try:
            return await self._collections(run, provider)
        except RunTakenOver:
            log.warning("sync.run_taken_over", run_id=str(run.id), owner=self.owner)
            return await self._status()
        finally:
            await provider.aclose()

    async def _collections(self, run: ActiveRun, provider: Provider) -> str:
        """Walk every collection; sort what goes wrong into a wait, a retry or an end."""
        collections = provider.capabilities.collections
        try:
            failed = await self._walk(run, provider, collections)
        except RunStopped as stop:
            return await self._finish(run, provider, "cancelled", str(stop))
        except (ReauthorizationRequired, ProviderQuotaExceeded) as exc:
            await self._note_error(run, provider, None, exc)
            return await self._finish(run, provider, "failed", describe(exc))
        except ProviderRateLimited as exc:
            await self._wait(run, provider, exc.retry_after, exc)
            raise RetryLater(exc.retry_after, "provider rate limit") from exc
        except RetryLater as later:
            await self._wait(run, provider, later.seconds, None)
            raise
        except Exception as exc:
            await self._note_error(run, provider, None, exc)
            if self.last_attempt or run.attempt >= MAX_RUN_ATTEMPTS:
                return await self._finish(run, provider, "failed", describe(exc))
            log.warning("sync.run_retrying", run_id=str(run.id), error=describe(exc))
            raise
        if not failed:
            return await self._finish(run, provider, "succeeded", None)
        status = "failed" if len(failed) == len(collections) else "partial"
        return await self._finish(run, provider, status, f"failed collections: {failed}")

    async def _walk(
        self, run: ActiveRun, provider: Provider, collections: Sequence[Collection]
    ) -> list[str]:
        """The collections in order; returns those the provider refused for good."""
        walk = CollectionWalk(
            self.services, run, provider, lease=self.lease, progress=self.progress
        )
        plans = await walk.plan(collections)
        failed: list[str] = []
        for collection in collections:
            try:
                await walk.walk(collection, plans[collection])
            except CollectionRefused as refused:
                log.warning(
                    "sync.collection_failed", run_id=str(run.id), collection=collection,
                    error=describe(refused.error),
                )  # fmt: skip
                await self._note_error(run, provider, collection, refused.error)
                failed.append(collection)
        return failed

    async def _note_error(
        self, run: ActiveRun, provider: Provider, collection: str | None, exc: BaseException
    ) -> None:
        """Add an error (and the requests made since the last page) to the run."""
        try:
            async with write_transaction(self.sessionmaker) as session:
                runs = SyncRunRepository(session)
                row = await runs.get_unscoped(run.id)
                if row is None:
                    return
                entry = error_entry(run.attempt, collection, exc)
                run.ledger.settle(runs, row, provider.stats, entry)
        except Exception as db_error:  # the database itself may be what failed
            log.warning("sync.error_not_recorded", run_id=str(run.id), error=describe(db_error))

    async def _wait(
        self, run: ActiveRun, provider: Provider, seconds: float, exc: BaseException | None
    ) -> None:
        """Budget spent or a 429: the run waits, still holding its connection, and says until
        when. The lease reaches past the wait, so nobody adopts a run that merely waits."""
        resume = utc_now() + timedelta(seconds=seconds)
        async with write_transaction(self.sessionmaker) as session:
            runs = SyncRunRepository(session)
            row = await runs.get_unscoped(run.id)
            if row is None or row.owner != self.owner or row.status != "running":
                return
            entry = error_entry(run.attempt, None, exc) if exc is not None else None
            run.ledger.settle(runs, row, provider.stats, entry)
            runs.hold_for_budget(row, resume, resume + self.lease)
        log.info("sync.waiting_for_budget", run_id=str(run.id), seconds=round(seconds, 3))

    async def _finish(
        self, run: ActiveRun, provider: Provider, status: str, error: str | None
    ) -> str:
        now = utc_now()
        async with write_transaction(self.sessionmaker) as session:
            runs = SyncRunRepository(session)
            row = await runs.get_unscoped(run.id)
            if row is not None and row.owner != self.owner and row.status in HOLDING_STATUSES:
                raise RunTakenOver(str(run.id))
            if row is not None:
                run.ledger.settle(runs, row, provider.stats)
                runs.end(row, status, now)
            if status != "cancelled":
                await self._note_outcome(session, run, row, status, error, now)
        log.info(
            "sync.run_finished",
            run_id=str(run.id),
            provider=run.connection.provider,
            status=status,
            pages=run.ledger.pages,
            records=run.ledger.records,
        )
        await notify(self.progress, run.progress(None, status, done=True, error=error))
        return status

    async def _note_outcome(
        self,
        session: AsyncSession,
        run: ActiveRun,
        row: SyncRun | None,
        status: str,
        error: str | None,
        now: datetime,
    ) -> None:
        """The run's end on its connection, ``sync.finished`` for outgoing webhooks (with
        ``first`` when it was the connection's first sync: ``backfill.completed``), and the
        burnout refresh when the run changed what burnout reads."""
        interval = self.settings.sync_interval_minutes
        first = await SyncConnectionRepository(session).note_outcome(
            run.connection.id,
            error=error,
            synced_at=now if status in ("succeeded", "partial") else None,
            next_sync_at=now + timedelta(minutes=interval) if interval > 0 else None,
        )
        if first is None or run.organization_id is None:
            return  # the connection is gone
        await emit.sync_finished(
            session, self.services.queue, run.organization_id, run_id=run.id,
            person_id=run.person_id, connection_id=run.connection.id,
            provider=run.connection.provider, status=status, error=error,
            counts=row.counts if row is not None else {}, first=first,
        )  # fmt: skip
        if row is not None and run.person_id is not None and _changed(row.counts, BURNOUT_INPUTS):
            args = {"person_id": str(run.person_id)}
            await outbox.stage_task(session, self.services.queue, BURNOUT_TASK, args)

    # --- the claim ---------------------------------------------------------------------------

    async def _start(self) -> ActiveRun | None:
        try:
            async with write_transaction(self.sessionmaker) as session:
                return await self._claim(session)
        except IntegrityError as exc:
            # Another run of this connection was claimed at the same instant.
            raise ConnectionBusy(None, None) from exc

    async def _claim(self, session: AsyncSession) -> ActiveRun | None:
        """Take the run, or end it when it can no longer go on; ``None``: nothing to do."""
        runs = SyncRunRepository(session)
        row = await runs.get_unscoped(self.run_id)
        if row is None or row.status not in PENDING_STATUSES:
            return None
        now = utc_now()
        self._refuse_if_held(row, now)
        if row.status == "queued" and row.connection_id is not None:
            holder = await runs.holder(row.connection_id)
            if holder is not None and holder.id != row.id:
                raise ConnectionBusy(holder.id, holder.leased_until)
        connection, person = await SyncConnectionRepository(session).with_person(
            row.connection_id, row.person_id
        )
        ended = self._cannot_go_on(row, connection, person)
        if ended is not None:
            reason, status = ended
            runs.end(row, status, now, error={"at": now.isoformat(), "error": reason})
            return None
        assert connection is not None
        if not await runs.claim(row.id, self.owner, now=now, lease=self.lease):
            await runs.reload(row)
            self._refuse_if_held(row, now)
            return None
        await runs.reload(row)
        return self._active(row, connection, person)

    def _cannot_go_on(
        self, row: SyncRun, connection: Connection | None, person: Person | None
    ) -> tuple[str, str] | None:
        """Why the run ends before it starts, and as what; ``None``: it may go on."""
        resuming = row.status == "waiting_for_budget" and row.owner == self.owner
        if connection is None:
            return "the connection was deleted", "cancelled"
        if person is not None and person.delete_after is not None:
            return PERSON_HIDDEN, "cancelled"
        if connection.status == "revoked":
            return "the connection was disconnected", "cancelled"
        if connection.status != "active":
            return f"the connection is {connection.status}", "failed"
        if not resuming and row.attempts >= MAX_RUN_ATTEMPTS:
            return f"gave up after {row.attempts} attempts", "failed"
        return None

    def _active(self, row: SyncRun, connection: Connection, person: Person | None) -> ActiveRun:
        requested = (
            Window(row.window_start, row.window_end)
            if row.window_start is not None and row.window_end is not None
            else None
        )
        return ActiveRun(
            id=row.id,
            connection=ConnectionRef(
                connection.id,
                connection.provider,
                connection.provider_user_id,
                person.timezone if person is not None else None,
            ),
            person_id=row.person_id,
            requested=requested,
            attempt=row.attempts,
            ledger=RunLedger(row.id, self.owner, dict(row.counts or {}), row.pages),
            organization_id=person.organization_id if person is not None else None,
        )

    def _refuse_if_held(self, row: SyncRun, now: datetime) -> None:
        """Raise ``ConnectionBusy`` when another executor holds ``row`` on a live lease."""
        live = row.leased_until is not None and row.leased_until >= now
        if row.status in HOLDING_STATUSES and row.owner != self.owner and live:
            raise ConnectionBusy(row.id, row.leased_until)

    async def _status(self) -> str:
        async with self.sessionmaker() as session:
            row = await SyncRunRepository(session).get_unscoped(self.run_id)
            return row.status if row is not None else "cancelled"


async def execute_run(
    services: SyncServices,
    run_id: uuid.UUID,
    *,
    last_attempt: bool = False,
    owner: str = PROCESS_OWNER,
    progress: ProgressCallback | None = None,
) -> str:
    """Claim the run for ``owner`` and work on it until it ends (its final status) or must be
    retried (raises ``RetryLater`` or the fault); ``ConnectionBusy`` when another live
    executor holds its connection."""
    executor = RunExecutor(
        services, run_id, last_attempt=last_attempt, owner=owner, progress=progress
    )
    return await executor.execute()


def _changed(counts: dict[str, Any], collections: frozenset[str]) -> bool:
    """Whether the run inserted, updated or deleted records of any of ``collections``."""
    return any(
        int(counts.get(name, {}).get(kind, 0)) > 0
        for name in collections
        for kind in ("inserted", "updated", "deleted")
    )
