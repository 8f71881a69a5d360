"""Executing one sync run: per collection a window, pages fetched through the provider budget,
and each page's records committed together with its checkpoint and the run's counters.

A run is idempotent. Killed at any point, the next attempt of the same run resumes each
collection from its checkpoint (at worst one page is fetched twice and upserted again); a
collection already finished in this run is skipped. Errors are sorted three ways:

* waits (provider 429 beyond the retry budget, the pacer's ``BudgetExhausted``): ``RetryLater``,
  the worker slot is given back and the run, ``waiting_for_budget`` with its next attempt time,
  continues later. A wait never counts as an attempt and never fails a run;
* transient faults (5xx after retries, timeouts, torn bodies, database hiccups): noted on the
  run and re-raised so the job retries with backoff; on the last attempt the run fails;
* refusals that retrying cannot fix (a missing scope, a bad request): that collection is marked
  failed and the others go on (the run ends ``partial``); a refused refresh token or a spent
  quota ends the run at once.

The run row is its connection's lock. An executor (a job, a CLI process) claims it by
compare-and-set with its owner name and a lease it renews while it works; a partial unique
index keeps one run per connection running or waiting for budget. A run whose lease expired
lost its executor and is adopted; a live one is never taken (``ConnectionBusy``). Every page
commit checks that the run is still its executor's and the connection still active, holding
the connection row so a disconnect cannot commit in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NoReturn, cast

import httpx
import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from somna.config import Settings
from somna.connections.clients import ConnectionRef, open_provider
from somna.db import write_transaction
from somna.jobs.port import JobContext, JobQueue, RetryLater
from somna.kit.time import utc_now
from somna.models import Connection, Person, SyncRun
from somna.models.sync_run import HOLDING_STATUSES
from somna.outgoing import emit
from somna.providers.base import Collection, Provider, TimeWindow
from somna.providers.exceptions import (
    ProviderBadRequest,
    ProviderError,
    ProviderForbidden,
    ProviderNotFound,
    ProviderQuotaExceeded,
    ProviderRateLimited,
    ProviderUnauthorized,
    ReauthorizationRequired,
    UnsupportedOperation,
)
from somna.providers.http import RequestStats
from somna.records.repository import RecordRepository, prepare_rows
from somna.sync.pacer import Pacer
from somna.sync.planner import Window, incremental_window, pending_horizon
from somna.sync.repository import (
    NEVER_SYNCED,
    PAUSED,
    RECONCILABLE,
    CheckpointRepository,
    StoredRecords,
    SyncConnectionRepository,
    SyncRunRepository,
)
from somna.sync.transport import PacedTransport

log = structlog.get_logger(__name__)

PENDING = ("queued", *HOLDING_STATUSES)

# A run taken up afresh this often (faults, or executors dying under it, again and again) is
# given up. Budget waits and 429 pauses are not attempts.
MAX_RUN_ATTEMPTS = 12
# Who executes a run when the caller names nobody (tests, scripts): this process.
PROCESS_OWNER = f"process:{socket.gethostname()}:{os.getpid()}"
MAX_ERRORS_KEPT = 50
# Why a run of a person awaiting deletion stops (docs/privacy.md): restoring them syncs again.
PERSON_HIDDEN = "the person is scheduled for deletion"
_COLLECTION_REFUSALS = (
    ProviderUnauthorized,
    ProviderForbidden,
    ProviderBadRequest,
    ProviderNotFound,
    UnsupportedOperation,
)


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """One step of a run, for progress bars: sent after every committed page and at the end."""

    run_id: uuid.UUID
    connection_id: uuid.UUID
    person_id: uuid.UUID
    provider: str
    collection: str | None
    pages: int  # committed in this run so far (all collections)
    records: int  # records received in this run so far
    status: str  # running, then succeeded / partial / failed / cancelled
    done: bool
    error: str | None = None


ProgressCallback = Callable[[SyncProgress], Awaitable[None] | None]


@dataclass
class SyncServices:
    """What executing a run needs: settings, the database, the pacer (and, for tests and
    benchmarks, a transport under the pacer)."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    pacer: Pacer
    transport: httpx.AsyncBaseTransport | None = None
    # Relays the outgoing-webhook jobs a page stages as soon as it commits; without it (CLI,
    # benchmarks) they wait in the outbox for the periodic relay.
    queue: JobQueue | None = None

    @property
    def engine(self) -> AsyncEngine:
        return cast(AsyncEngine, self.sessionmaker.kw["bind"])

    @classmethod
    def from_job(cls, ctx: JobContext) -> SyncServices:
        return cls(ctx.settings, ctx.sessionmaker, ctx.pacer, queue=ctx.queue)


class RunStopped(Exception):
    """The connection was disconnected or deleted while the run went on."""


class ConnectionBusy(Exception):
    """Another live executor holds the connection (its run is running or waiting)."""

    def __init__(self, run_id: uuid.UUID | None, until: datetime | None) -> None:
        super().__init__("another sync of this connection is running")
        self.run_id = run_id
        self.until = until

    def retry_in(self, *, floor: float = 1.0, cap: float = 60.0) -> float:
        """Seconds until the holder's lease ends (when it could be adopted), bounded."""
        if self.until is None:
            return floor
        return min(cap, max(floor, (self.until - utc_now()).total_seconds()))


class RunTakenOver(Exception):
    """This executor's lease lapsed and another adopted the run: stop, write nothing."""


class _CollectionFailed(Exception):
    pass


@dataclass
class _Run:
    id: uuid.UUID
    connection: ConnectionRef
    person_id: uuid.UUID
    requested: Window | None  # explicit dates; None: incremental
    attempt: int
    # The row's counts and pages as of the claim and this executor's own page commits since.
    counts: dict[str, Any]
    committed_pages: int
    organization_id: uuid.UUID | None = None
    pages: int = 0
    records: int = 0
    reported: list[int] = field(default_factory=lambda: [0, 0])  # requests, retries

    def stats_delta(self, stats: RequestStats) -> tuple[int, int]:
        requests, retries = stats.requests - self.reported[0], stats.retries - self.reported[1]
        self.reported = [stats.requests, stats.retries]
        return requests, retries


def describe(exc: BaseException) -> str:
    detail = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {detail}"[:1000]


async def _notify(progress: ProgressCallback | None, event: SyncProgress) -> None:
    if progress is None:
        return
    result = progress(event)
    if inspect.isawaitable(result):
        await result


def _error_entry(run: _Run, collection: str | None, exc: BaseException) -> dict[str, Any]:
    retryable = bool(getattr(exc, "retryable", False)) or isinstance(exc, RetryLater)
    return {
        "at": utc_now().isoformat(),
        "attempt": run.attempt,
        "collection": collection,
        "error": describe(exc),
        "retryable": retryable,
    }


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

    async def _heartbeat(self, run: _Run) -> None:
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

    async def _execute(self, run: _Run) -> str:
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

    async def _collections(self, run: _Run, provider: Provider) -> str:
        collections = provider.capabilities.collections
        failed: list[str] = []
        try:
            plans = await self._plan(run, collections)
            for collection in collections:
                try:
                    await self._collection(run, provider, collection, plans[collection])
                except _CollectionFailed:
                    failed.append(collection)
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

    # --- one collection ----------------------------------------------------------------------

    async def _plan(
        self, run: _Run, collections: Sequence[str]
    ) -> dict[str, tuple[Window, str | None] | None]:
        """Per collection the window and cursor to go on with, or None when this run already
        finished it: read once, before the first fetch.

        Reads only. The first committed page of a window records it with its cursor, in the
        page's transaction, so a run that stops before that plans afresh, having stored nothing
        of it; and while this run holds the connection no other run moves its checkpoints."""
        plans: dict[str, tuple[Window, str | None] | None] = {}
        async with self.sessionmaker() as session:
            await self._check_connection(session, run)
            checkpoints = await CheckpointRepository(session).read_all(run.connection.id)
            now = utc_now()
            for collection in collections:
                checkpoint = checkpoints.get(collection, NEVER_SYNCED)
                if checkpoint.run_id == run.id:
                    start, end = checkpoint.window_start, checkpoint.window_end
                    resumed = None if start is None or end is None else Window(start, end)
                    plans[collection] = (
                        None if resumed is None else (resumed, checkpoint.next_token)
                    )
                    continue
                if run.requested is not None:
                    plans[collection] = (run.requested, None)
                    continue
                horizon = pending_horizon(checkpoint.synced_until)
                oldest = (
                    await StoredRecords(session).oldest_pending(
                        run.connection.id, collection, horizon
                    )
                    if horizon is not None
                    else None
                )
                window = incremental_window(
                    now=now,
                    synced_until=checkpoint.synced_until,
                    backfill=timedelta(days=self.settings.sync_backfill_days),
                    overlap=timedelta(hours=self.settings.sync_overlap_hours),
                    oldest_pending=oldest,
                )
                plans[collection] = (window, None)
        return plans

    async def _collection(
        self,
        run: _Run,
        provider: Provider,
        collection: Collection,
        planned: tuple[Window, str | None] | None,
    ) -> None:
        if planned is None:
            return
        window, cursor = planned
        # Deletions can be inferred only from a window listed start to end in one go.
        whole = cursor is None
        seen: set[str] = set()
        skipped = 0
        size = min(self.settings.sync_page_size, provider.capabilities.max_page_size)
        while True:
            try:
                page = await provider.fetch_page(
                    collection, TimeWindow(window.start, window.end), cursor, limit=size
                )
            except ProviderBadRequest as exc:
                if cursor is None:
                    await self._refused(run, provider, collection, exc)
                # A saved cursor the provider no longer takes: list the window again.
                log.info("sync.cursor_refused", run_id=str(run.id), collection=collection)
                cursor, whole, skipped = None, True, 0
                seen.clear()
                continue
            except _COLLECTION_REFUSALS as exc:
                if isinstance(exc, ReauthorizationRequired):
                    raise
                await self._refused(run, provider, collection, exc)
            seen.update(record.provider_record_id for record in page.records)
            skipped += page.skipped
            finished = page.next_cursor is None
            reconcile = finished and whole and skipped == 0 and collection in RECONCILABLE
            await self._commit_page(
                run, provider, collection, window, page.records, page.next_cursor,
                page.skipped, seen if reconcile else None,
            )  # fmt: skip
            cursor = page.next_cursor
            await _notify(self.progress, self._event(run, collection, "running"))
            if finished:
                return

    async def _commit_page(
        self,
        run: _Run,
        provider: Provider,
        collection: str,
        window: Window,
        records: Any,
        next_cursor: str | None,
        skipped: int,
        seen: set[str] | None,
    ) -> None:
        """The page's records, its checkpoint and the run's counters: one transaction, in as
        few statements as the guarantees allow, each a round trip while this transaction
        may hold the only writer (SQLite) or the connection row (PostgreSQL):

        1. the checkpoint, written only if the connection is not revoked, which the same
           statement checks: on PostgreSQL holding the connection row ``FOR SHARE`` to the
           commit, first, as a disconnect takes it, so the two never wait on each other
           crosswise; on SQLite as the first write, which holds the one writer's lock from
           its start. Either way a disconnect waits for this page, or this page sees it;
        2. the records (built before the transaction), and the counted nights they touch;
        3. the run row: counters, counts and lease in one compare-and-set, which fails (and
           rolls the page back) if the run is no longer this executor's, or if a page was
           committed since this executor last did (another executor under its name).
        """
        connection_id = run.connection.id
        finished = next_cursor is None
        prepared = prepare_rows(connection_id, run.person_id, records)
        async with write_transaction(self.sessionmaker) as session:
            saved = await CheckpointRepository(session).save(
                connection_id,
                collection,
                run_id=run.id,
                window=None if finished else (window.start, window.end),
                next_token=next_cursor,
                synced_until=window.end if finished and run.requested is None else None,
            )
            if not saved:
                await self._check_connection(session, run)  # raises with the reason
                raise RunStopped("the connection was disconnected")
            result = await RecordRepository(session).write(prepared)
            deleted = 0
            removed: list[tuple[uuid.UUID, str]] = []
            # A deleted sleep takes WHOOP's recovery of it along: those are announced too.
            removed_recoveries: list[tuple[uuid.UUID, str]] = []
            if seen is not None:
                stored = StoredRecords(session)
                gone = sorted(
                    await stored.ids_within(connection_id, collection, window.start, window.end)
                    - seen
                )
                if gone:
                    removed = await RecordRepository(session).delete_rows(
                        connection_id, collection, gone
                    )
                    if collection == "sleep":
                        removed_recoveries = await stored.delete_recoveries_of_sleeps(
                            connection_id, gone
                        )
                    deleted = len(removed) + len(removed_recoveries)
                    log.info("sync.deleted", collection=collection, count=deleted)
            requests, retries = run.stats_delta(provider.stats)
            before = run.counts.get(collection) or {}
            counts = {
                **run.counts,
                collection: {
                    "window": [window.start.isoformat(), window.end.isoformat()],
                    "pages": int(before.get("pages", 0)) + 1,
                    "records": int(before.get("records", 0)) + len(records),
                    "inserted": int(before.get("inserted", 0)) + result.inserted,
                    "updated": int(before.get("updated", 0)) + result.updated,
                    "unchanged": int(before.get("unchanged", 0)) + result.unchanged,
                    "deleted": int(before.get("deleted", 0)) + deleted,
                    "skipped": int(before.get("skipped", 0)) + skipped,
                },
            }
            mine = await SyncRunRepository(session).add_page(
                run.id,
                self.owner,
                pages_before=run.committed_pages,
                counts=counts,
                requests=requests,
                retries=retries,
                leased_until=utc_now() + self.lease,
            )
            if not mine:
                await self._lost(session, run)
            if run.organization_id is not None:
                # In the page's transaction: a page that rolls back announces nothing.
                await emit.records_changed(
                    session, self.services.queue, run.organization_id,
                    person_id=run.person_id, connection_id=connection_id,
                    provider=run.connection.provider, collection=collection,
                    created=result.inserted_rows, updated=result.updated_rows, deleted=removed,
                )  # fmt: skip
                if removed_recoveries:
                    await emit.records_changed(
                        session, self.services.queue, run.organization_id,
                        person_id=run.person_id, connection_id=connection_id,
                        provider=run.connection.provider, collection="recovery",
                        deleted=removed_recoveries,
                    )  # fmt: skip
        run.counts, run.committed_pages = counts, run.committed_pages + 1
        run.pages += 1
        run.records += len(records)

    async def _refused(
        self, run: _Run, provider: Provider, collection: str, exc: ProviderError | Exception
    ) -> NoReturn:
        log.warning(
            "sync.collection_failed", run_id=str(run.id), collection=collection, error=describe(exc)
        )
        await self._note_error(run, provider, collection, exc)
        raise _CollectionFailed(collection) from exc

    # --- run bookkeeping ---------------------------------------------------------------------

    async def _lost(self, session: AsyncSession, run: _Run) -> NoReturn:
        """Why the run row refused this executor's page: raised, so the page rolls back."""
        row = await SyncRunRepository(session).get_unscoped(run.id)
        if row is None:
            raise RunStopped("the sync run was deleted")
        if row.status == "cancelled":
            raise RunStopped("the sync run was cancelled")
        raise RunTakenOver(str(run.id))

    async def _check_connection(self, session: AsyncSession, run: _Run) -> None:
        status = await SyncConnectionRepository(session).status_of(run.connection.id)
        if status is None:
            raise RunStopped("the connection was deleted")
        if status == "revoked":
            raise RunStopped("the connection was disconnected")
        if status == PAUSED:
            raise RunStopped(PERSON_HIDDEN)

    async def _start(self) -> _Run | None:
        try:
            async with write_transaction(self.sessionmaker) as session:
                return await self._claim(session)
        except IntegrityError as exc:
            # Another run of this connection was claimed at the same instant.
            raise ConnectionBusy(None, None) from exc

    async def _claim(self, session: AsyncSession) -> _Run | None:
        runs = SyncRunRepository(session)
        row = await session.get(SyncRun, self.run_id)
        if row is None or row.status not in PENDING:
            return None
        now = utc_now()
        self._refuse_if_held(row, now)
        if row.status == "queued" and row.connection_id is not None:
            holder = await runs.holder(row.connection_id)
            if holder is not None and holder.id != row.id:
                raise ConnectionBusy(holder.id, holder.leased_until)
        connection = await session.get(Connection, row.connection_id) if row.connection_id else None
        resuming = row.status == "waiting_for_budget" and row.owner == self.owner
        person = await session.get(Person, row.person_id)
        reason = None
        if connection is None:
            reason, status = "the connection was deleted", "cancelled"
        elif person is not None and person.delete_after is not None:
            reason, status = PERSON_HIDDEN, "cancelled"
        elif connection.status == "revoked":
            reason, status = "the connection was disconnected", "cancelled"
        elif connection.status != "active":
            reason, status = f"the connection is {connection.status}", "failed"
        elif not resuming and row.attempts >= MAX_RUN_ATTEMPTS:
            reason, status = f"gave up after {row.attempts} attempts", "failed"
        if reason is not None:
            row.status, row.finished_at = status, now
            row.leased_until = row.next_attempt_at = None
            row.errors = [*row.errors, {"at": now.isoformat(), "error": reason}][-MAX_ERRORS_KEPT:]
            return None
        assert connection is not None
        if not await runs.claim(row.id, self.owner, now=now, lease=self.lease):
            await session.refresh(row)
            self._refuse_if_held(row, now)
            return None
        await session.refresh(row)
        requested = (
            Window(row.window_start, row.window_end)
            if row.window_start is not None and row.window_end is not None
            else None
        )
        return _Run(
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
            counts=dict(row.counts or {}),
            committed_pages=row.pages,
            organization_id=person.organization_id if person is not None else None,
        )

    def _refuse_if_held(self, row: SyncRun, now: datetime) -> None:
        """Raise ``ConnectionBusy`` when another executor holds ``row`` on a live lease."""
        live = row.leased_until is not None and row.leased_until >= now
        if row.status in HOLDING_STATUSES and row.owner != self.owner and live:
            raise ConnectionBusy(row.id, row.leased_until)

    async def _status(self) -> str:
        async with self.sessionmaker() as session:
            row = await session.get(SyncRun, self.run_id)
            return row.status if row is not None else "cancelled"

    async def _note_error(
        self, run: _Run, provider: Provider, collection: str | None, exc: BaseException | None
    ) -> None:
        """Add an error (and the requests made since the last page) to the run."""
        try:
            async with write_transaction(self.sessionmaker) as session:
                row = await session.get(SyncRun, run.id)
                if row is None:
                    return
                requests, retries = run.stats_delta(provider.stats)
                row.requests += requests
                row.retries += retries
                if exc is not None:
                    entry = _error_entry(run, collection, exc)
                    row.errors = [*row.errors, entry][-MAX_ERRORS_KEPT:]
        except Exception as db_error:  # the database itself may be what failed
            log.warning("sync.error_not_recorded", run_id=str(run.id), error=describe(db_error))

    async def _wait(
        self, run: _Run, provider: Provider, seconds: float, exc: BaseException | None
    ) -> None:
        """Budget spent or a 429: the run waits, still holding its connection, and says until
        when. The lease reaches past the wait, so nobody adopts a run that merely waits."""
        now = utc_now()
        resume = now + timedelta(seconds=seconds)
        async with write_transaction(self.sessionmaker) as session:
            row = await session.get(SyncRun, run.id)
            if row is None or row.owner != self.owner or row.status != "running":
                return
            requests, retries = run.stats_delta(provider.stats)
            row.requests += requests
            row.retries += retries
            if exc is not None:
                row.errors = [*row.errors, _error_entry(run, None, exc)][-MAX_ERRORS_KEPT:]
            row.status, row.next_attempt_at = "waiting_for_budget", resume
            row.leased_until = resume + self.lease
        log.info("sync.waiting_for_budget", run_id=str(run.id), seconds=round(seconds, 3))

    async def _finish(self, run: _Run, provider: Provider, status: str, error: str | None) -> str:
        now = utc_now()
        async with write_transaction(self.sessionmaker) as session:
            row = await session.get(SyncRun, run.id)
            if row is not None and row.owner != self.owner and row.status in HOLDING_STATUSES:
                raise RunTakenOver(str(run.id))
            if row is not None:
                requests, retries = run.stats_delta(provider.stats)
                row.requests += requests
                row.retries += retries
                row.status, row.finished_at = status, now
                row.leased_until = row.next_attempt_at = None
            if status != "cancelled":
                first = await self._note_outcome(session, run, status, error, now)
                if first is not None and run.organization_id is not None:
                    await emit.sync_finished(
                        session, self.services.queue, run.organization_id, run_id=run.id,
                        person_id=run.person_id, connection_id=run.connection.id,
                        provider=run.connection.provider, status=status, error=error,
                        counts=row.counts if row is not None else {}, first=first,
                    )  # fmt: skip
        log.info(
            "sync.run_finished",
            run_id=str(run.id),
            provider=run.connection.provider,
            status=status,
            pages=run.pages,
            records=run.records,
        )
        await _notify(self.progress, self._event(run, None, status, done=True, error=error))
        return status

    async def _note_outcome(
        self, session: AsyncSession, run: _Run, status: str, error: str | None, now: datetime
    ) -> bool | None:
        """The run's end on its connection; whether it was the connection's first sync
        (``backfill.completed``), or None when the connection is gone."""
        interval = self.settings.sync_interval_minutes
        return await SyncConnectionRepository(session).note_outcome(
            run.connection.id,
            error=error,
            synced_at=now if status in ("succeeded", "partial") else None,
            next_sync_at=now + timedelta(minutes=interval) if interval > 0 else None,
        )

    def _event(
        self,
        run: _Run,
        collection: str | None,
        status: str,
        *,
        done: bool = False,
        error: str | None = None,
    ) -> SyncProgress:
        return SyncProgress(
            run_id=run.id,
            connection_id=run.connection.id,
            person_id=run.person_id,
            provider=run.connection.provider,
            collection=collection,
            pages=run.pages,
            records=run.records,
            status=status,
            done=done,
            error=error,
        )


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
