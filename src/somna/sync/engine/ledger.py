"""The run's counters: pages, records and what became of them per collection, and the
provider requests made. Every write of them goes through the ledger, so a count is added
once, with the transaction that did the work it counts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import SyncRun
from somna.providers.http import RequestStats
from somna.records.repository import UpsertResult
from somna.sync.planner import Window
from somna.sync.repositories import SyncRunRepository


class RunLedger:
    """One executor's view of its run's counters.

    ``counts`` and ``committed_pages`` are the row's as of the claim plus this executor's own
    page commits since: a page is added by compare-and-set on ``committed_pages``, so counts
    computed here are never written over another executor's."""

    def __init__(
        self, run_id: uuid.UUID, owner: str, counts: dict[str, Any], committed_pages: int
    ) -> None:
        self.run_id = run_id
        self.owner = owner
        self.counts = counts
        self.committed_pages = committed_pages
        self.pages = 0  # committed by this executor
        self.records = 0  # received in those pages
        self._reported = (0, 0)  # the client's requests and retries already written

    def unreported(self, stats: RequestStats) -> tuple[int, int]:
        """Requests and retries the client made since the last write, now taken as written."""
        requests = stats.requests - self._reported[0]
        retries = stats.retries - self._reported[1]
        self._reported = (stats.requests, stats.retries)
        return requests, retries

    def page_counts(
        self,
        collection: str,
        window: Window,
        *,
        pages: int,
        records: int,
        written: UpsertResult,
        deleted: int,
        skipped: int,
    ) -> dict[str, Any]:
        """The run's counts with ``pages`` more pages of ``collection``."""
        before = self.counts.get(collection) or {}
        added = {
            "pages": pages,
            "records": records,
            "inserted": written.inserted,
            "updated": written.updated,
            "unchanged": written.unchanged,
            "deleted": deleted,
            "skipped": skipped,
        }
        after: dict[str, Any] = {"window": [window.start.isoformat(), window.end.isoformat()]}
        after.update({key: int(before.get(key, 0)) + value for key, value in added.items()})
        return {**self.counts, collection: after}

    async def add_pages(
        self,
        session: AsyncSession,
        pages: int,
        counts: dict[str, Any],
        stats: RequestStats,
        leased_until: datetime,
    ) -> bool:
        """The pages on the run row, in their transaction, with the lease renewed: ``False``
        when the row refused (the run is no longer this executor's, or a page was committed
        under its name since), and the caller rolls the pages back."""
        requests, retries = self.unreported(stats)
        return await SyncRunRepository(session).add_pages(
            self.run_id,
            self.owner,
            pages_before=self.committed_pages,
            pages=pages,
            counts=counts,
            requests=requests,
            retries=retries,
            leased_until=leased_until,
        )

    def pages_committed(self, counts: dict[str, Any], pages: int) -> None:
        """The pages' transaction committed: their counts are the row's now."""
        self.counts, self.committed_pages = counts, self.committed_pages + pages

    def page_reported(self, records: int) -> None:
        """One committed page told to the progress callback (one event per page)."""
        self.pages += 1
        self.records += records

    def settle(
        self,
        runs: SyncRunRepository,
        row: SyncRun,
        stats: RequestStats,
        error: dict[str, Any] | None = None,
    ) -> None:
        """The requests made since the last page (and an error, if any) onto the loaded row."""
        requests, retries = self.unreported(stats)
        runs.add_to_counters(row, requests=requests, retries=retries, error=error)
