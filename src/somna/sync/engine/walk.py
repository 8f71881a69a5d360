"""The walk through one run's collections: a window and cursor per collection, then its pages
fetched through the provider budget, each committed together with its checkpoint, its
records and the run's counters."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from somna.db import write_transaction
from somna.kit.time import utc_now
from somna.outgoing import emit
from somna.providers.base import Collection, Provider, TimeWindow
from somna.providers.base import Page as FetchedPage
from somna.providers.exceptions import (
    ProviderBadRequest,
    ProviderForbidden,
    ProviderNotFound,
    ProviderUnauthorized,
    ReauthorizationRequired,
    UnsupportedOperation,
)
from somna.records.repository import RecordRepository, UpsertResult, prepare_rows
from somna.sync.engine.context import ActiveRun, ProgressCallback, SyncServices, notify
from somna.sync.engine.errors import PERSON_HIDDEN, CollectionRefused, RunStopped, RunTakenOver
from somna.sync.planner import Window, incremental_window, pending_horizon
from somna.sync.repositories import (
    NEVER_SYNCED,
    PAUSED,
    RECONCILABLE,
    Checkpoint,
    CheckpointRepository,
    StoredRecords,
    SyncConnectionRepository,
    SyncRunRepository,
)

log = structlog.get_logger(__name__)

_COLLECTION_REFUSALS = (
    ProviderUnauthorized,
    ProviderForbidden,
    ProviderBadRequest,
    ProviderNotFound,
    UnsupportedOperation,
)

# Per collection the window and the cursor to go on from; None: finished in this run.
Plan = tuple[Window, str | None] | None
Removed = list[tuple[uuid.UUID, str]]


@dataclass(frozen=True, slots=True)
class Pages:
    """Fetched pages of one collection on their way to the database, committed together."""

    collection: str
    window: Window
    records: list[Any]
    sizes: list[int]  # records per page, in order
    next_cursor: str | None  # after the last page; None: the window is listed to its end
    skipped: int
    # Every id listed in the window, when these pages end a window listed start to end in one
    # go: what is stored there and not listed was deleted at the provider.
    seen: set[str] | None


class _CursorRefused(Exception):
    """The provider refused a saved cursor: the window is listed again from its start."""


async def check_connection(session: AsyncSession, connection_id: uuid.UUID) -> None:
    """Raise ``RunStopped`` unless the connection is active and its person not hidden."""
    status = await SyncConnectionRepository(session).status_of(connection_id)
    if status is None:
        raise RunStopped("the connection was deleted")
    if status == "revoked":
        raise RunStopped("the connection was disconnected")
    if status == PAUSED:
        raise RunStopped(PERSON_HIDDEN)


async def explain_refused_page(session: AsyncSession, run_id: uuid.UUID) -> NoReturn:
    """Why the run row refused this executor's page: raised, so the page rolls back."""
    row = await SyncRunRepository(session).get_unscoped(run_id)
    if row is None:
        raise RunStopped("the sync run was deleted")
    if row.status == "cancelled":
        raise RunStopped("the sync run was cancelled")
    raise RunTakenOver(str(run_id))


class CollectionWalk:
    """One executor's walk through the collections of the run it holds."""

    def __init__(
        self,
        services: SyncServices,
        run: ActiveRun,
        provider: Provider,
        *,
        lease: timedelta,
        progress: ProgressCallback | None,
    ) -> None:
        self.services = services
        self.settings = services.settings
        self.run = run
        self.provider = provider
        self.lease = lease
        self.progress = progress

    async def plan(self, collections: Sequence[str]) -> dict[str, Plan]:
        """Per collection the window and cursor to go on with, or None when this run already
        finished it: read once, before the first fetch.

        Reads only. The first committed page of a window records it with its cursor, in the
        page's transaction, so a run that stops before that plans afresh, having stored nothing
        of it; and while this run holds the connection no other run moves its checkpoints."""
        connection_id = self.run.connection.id
        async with self.services.sessionmaker() as session:
            await check_connection(session, connection_id)
            checkpoints = await CheckpointRepository(session).read_all(connection_id)
            stored, now = StoredRecords(session), utc_now()
            return {
                collection: await self._plan_one(
                    stored, collection, checkpoints.get(collection, NEVER_SYNCED), now
                )
                for collection in collections
            }

    async def _plan_one(
        self, stored: StoredRecords, collection: str, at: Checkpoint, now: datetime
    ) -> Plan:
        if at.run_id == self.run.id:  # this run's own window, resumed where it stopped
            start, end = at.window_start, at.window_end
            return None if start is None or end is None else (Window(start, end), at.next_token)
        if self.run.requested is not None:
            return (self.run.requested, None)
        horizon = pending_horizon(at.synced_until)
        oldest = (
            await stored.oldest_pending(self.run.connection.id, collection, horizon)
            if horizon is not None
            else None
        )
        window = incremental_window(
            now=now,
            synced_until=at.synced_until,
            backfill=timedelta(days=self.settings.sync_backfill_days),
            overlap=timedelta(hours=self.settings.sync_overlap_hours),
            oldest_pending=oldest,
        )
        return (window, None)

    async def walk(self, collection: Collection, planned: Plan) -> None:
        """Every page of ``collection`` from its plan, committed ``sync_pages_per_commit`` at
        a time and at the end; raises ``CollectionRefused`` when the provider refuses the
        collection for good. Whatever stops the walk, the pages fetched before it are
        committed first (a killed process loses them: its next attempt fetches them again)."""
        if planned is None:
            return
        window, cursor = planned
        # Deletions can be inferred only from a window listed start to end in one go.
        whole = cursor is None
        seen: set[str] = set()
        skipped = 0
        size = min(self.settings.sync_page_size, self.provider.capabilities.max_page_size)
        pending: list[FetchedPage] = []
        while True:
            try:
                fetched = await self._fetch(collection, window, cursor, size)
            except _CursorRefused:
                # A saved cursor the provider no longer takes: list the window again.
                log.info("sync.cursor_refused", run_id=str(self.run.id), collection=collection)
                cursor, whole, skipped = None, True, 0
                seen.clear()
                pending.clear()  # fetched again with the window
                continue
            except Exception:
                await self._commit(collection, window, pending, None)
                raise
            pending.append(fetched)
            seen.update(record.provider_record_id for record in fetched.records)
            skipped += fetched.skipped
            cursor = fetched.next_cursor
            if cursor is None:
                reconcile = whole and skipped == 0 and collection in RECONCILABLE
                await self._commit(collection, window, pending, seen if reconcile else None)
                return
            if len(pending) >= self.settings.sync_pages_per_commit:
                await self._commit(collection, window, pending, None)
                pending = []

    async def _fetch(
        self, collection: Collection, window: Window, cursor: str | None, size: int
    ) -> FetchedPage:
        try:
            return await self.provider.fetch_page(
                collection, TimeWindow(window.start, window.end), cursor, limit=size
            )
        except ProviderBadRequest as exc:
            if cursor is None:
                raise CollectionRefused(collection, exc) from exc
            raise _CursorRefused() from exc
        except _COLLECTION_REFUSALS as exc:
            if isinstance(exc, ReauthorizationRequired):
                raise
            raise CollectionRefused(collection, exc) from exc

    async def _commit(
        self,
        collection: str,
        window: Window,
        fetched: Sequence[FetchedPage],
        seen: set[str] | None,
    ) -> None:
        """Commit ``fetched`` (nothing when empty), then tell progress each page."""
        if not fetched:
            return
        pages = Pages(
            collection, window,
            records=[record for page in fetched for record in page.records],
            sizes=[len(page.records) for page in fetched],
            next_cursor=fetched[-1].next_cursor,
            skipped=sum(page.skipped for page in fetched),
            seen=seen,
        )  # fmt: skip
        await self.commit_pages(pages)
        for records in pages.sizes:
            self.run.ledger.page_reported(records)
            await notify(self.progress, self.run.progress(collection, "running"))

    async def commit_pages(self, pages: Pages) -> None:
        """The pages' records, their checkpoint and the run's counters: one transaction, in
        as few statements as the guarantees allow, each a round trip while this transaction
        may hold the only writer (SQLite) or the connection row (PostgreSQL):

        1. the checkpoint, written only if the connection is not revoked, which the same
           statement checks: on PostgreSQL holding the connection row ``FOR SHARE`` to the
           commit, first, as a disconnect takes it, so the two never wait on each other
           crosswise; on SQLite as the first write, which holds the one writer's lock from
           its start. Either way a disconnect waits for these pages, or they see it;
        2. the records (built before the transaction), and the counted nights they touch;
        3. the run row: counters, counts and lease in one compare-and-set, which fails (and
           rolls the pages back) if the run is no longer this executor's, or if a page was
           committed since this executor last did (another executor under its name).
        """
        run, ledger = self.run, self.run.ledger
        prepared = prepare_rows(run.connection.id, run.person_id, pages.records)
        async with write_transaction(self.services.sessionmaker) as session:
            await self._save_checkpoint(session, pages)
            written = await RecordRepository(session).write(prepared)
            removed, removed_recoveries = await self._reconcile(session, pages)
            counts = ledger.page_counts(
                pages.collection, pages.window, pages=len(pages.sizes),
                records=len(pages.records), written=written,
                deleted=len(removed) + len(removed_recoveries), skipped=pages.skipped,
            )  # fmt: skip
            leased_until = utc_now() + self.lease
            stats = self.provider.stats
            if not await ledger.add_pages(session, len(pages.sizes), counts, stats, leased_until):
                await explain_refused_page(session, run.id)
            await self._announce(session, pages, written, removed, removed_recoveries)
        ledger.pages_committed(counts, len(pages.sizes))

    async def _save_checkpoint(self, session: AsyncSession, page: Pages) -> None:
        finished = page.next_cursor is None
        saved = await CheckpointRepository(session).save(
            self.run.connection.id,
            page.collection,
            run_id=self.run.id,
            window=None if finished else (page.window.start, page.window.end),
            next_token=page.next_cursor,
            synced_until=page.window.end if finished and self.run.requested is None else None,
        )
        if not saved:
            await check_connection(session, self.run.connection.id)  # raises with the reason
            raise RunStopped("the connection was disconnected")

    async def _reconcile(self, session: AsyncSession, page: Pages) -> tuple[Removed, Removed]:
        """Delete what the provider no longer lists in a window listed whole: the records,
        and (a deleted sleep takes WHOOP's recovery of it along) their recoveries."""
        if page.seen is None:
            return [], []
        connection_id, collection = self.run.connection.id, page.collection
        stored = StoredRecords(session)
        listed = await stored.ids_within(
            connection_id, collection, page.window.start, page.window.end
        )
        gone = sorted(listed - page.seen)
        if not gone:
            return [], []
        removed = await RecordRepository(session).delete_rows(connection_id, collection, gone)
        recoveries: Removed = []
        if collection == "sleep":
            recoveries = await stored.delete_recoveries_of_sleeps(connection_id, gone)
        log.info("sync.deleted", collection=collection, count=len(removed) + len(recoveries))
        return removed, recoveries

    async def _announce(
        self,
        session: AsyncSession,
        pages: Pages,
        written: UpsertResult,
        removed: Removed,
        removed_recoveries: Removed,
    ) -> None:
        """The changes for outgoing webhooks, staged in the pages' transaction (pages that
        roll back announce nothing): one set of events per page, as receivers are told
        (docs/webhooks.md), however many pages a commit holds; deletions with the last."""
        run = self.run
        if run.organization_id is None:
            return
        page_of: dict[str, int] = {}
        for index, record in zip(_page_indexes(pages.sizes), pages.records, strict=True):
            page_of[record.provider_record_id] = index
        last = len(pages.sizes) - 1
        for index in range(len(pages.sizes)):
            await emit.records_changed(
                session, self.services.queue, run.organization_id,
                person_id=run.person_id, connection_id=run.connection.id,
                provider=run.connection.provider, collection=pages.collection,
                created=[row for row in written.inserted_rows if page_of[row[1]] == index],
                updated=[row for row in written.updated_rows if page_of[row[1]] == index],
                deleted=removed if index == last else [],
            )  # fmt: skip
        if removed_recoveries:
            await emit.records_changed(
                session, self.services.queue, run.organization_id,
                person_id=run.person_id, connection_id=run.connection.id,
                provider=run.connection.provider, collection="recovery",
                deleted=removed_recoveries,
            )  # fmt: skip


def _page_indexes(sizes: Sequence[int]) -> list[int]:
    """The page each record of the flattened pages came in: [2, 1] gives [0, 0, 1]."""
    return [index for index, size in enumerate(sizes) for _ in range(size)]
