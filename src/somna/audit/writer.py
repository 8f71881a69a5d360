"""The buffered writer: reads are recorded off the request path, within a second.

A read appends a ``RequestNote`` (or any ``AuditDraft``) to an in-memory list (no I/O and no
derivation on the request); a background task turns the list into rows and writes them in one
transaction every ``audit_flush_seconds`` (at most 1 s), or at once when ``audit_buffer_size``
items wait: per organisation one lock of its chain head and one multi-row INSERT. ``aclose``
(the app's lifespan) writes what is left, so a clean shutdown loses nothing; a killed process
loses at most the last interval of reads.

The background task is never cancelled: ``aclose`` asks it to stop and waits for the flush it
may be in to finish. Cancelling a flush halfway through a statement left the SQLite driver's
connection waiting for an answer that never came, so the final flush hung the shutdown; and a
flush cancelled during its commit could not know whether its rows were written (re-queued,
they would have been chained twice).
Writes of data are not buffered: they share the request's transaction (``recorder``).
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.audit.chain import AuditDraft
from somna.audit.notes import Draftable
from somna.audit.repository import AuditRepository
from somna.db import write_transaction

log = structlog.get_logger(__name__)


class AuditWriter:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        interval: float,
        batch_size: int,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.interval = interval
        self.batch_size = batch_size
        self._pending: list[Draftable] = []
        # Set when a batch is full or the writer is closing: the timer flushes at once.
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        # One flush at a time: two would interleave their chain appends for no gain.
        self._flushing = asyncio.Lock()

    def record(self, item: Draftable) -> None:
        """Queue one request (or event); it is written within ``interval`` seconds."""
        self._pending.append(item)
        if len(self._pending) >= self.batch_size:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="somna.audit.writer")

    async def _run(self) -> None:
        while True:
            # Only this wait is ever interrupted (by its timeout), never a write.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            if self._closing:
                return  # aclose writes what is left
            try:
                await self.flush()
            except Exception:
                # Kept in the buffer and tried again next interval (a locked or restarting
                # database); logged, never raised into a request.
                log.exception("audit.flush_failed", pending=len(self._pending))

    async def flush(self) -> int:
        """Write everything queued so far; returns how many events were written."""
        async with self._flushing:
            items, self._pending = self._pending, []
            if not items:
                return 0
            batch = _drafts(items)
            try:
                async with write_transaction(self.sessionmaker) as session:
                    await AuditRepository(session).append(batch)
            except BaseException:
                # In front, as rows: the order of the chain stays the order seen.
                self._pending[:0] = batch
                raise
            return len(batch)

    async def aclose(self) -> None:
        """Stop the timer, once its current flush (if any) is done, and write what is left
        (the lifespan's shutdown)."""
        if self._task is not None:
            self._closing = True
            self._wake.set()
            await self._task
            self._task = None
        await self.flush()


def _drafts(items: list[Draftable]) -> list[AuditDraft]:
    """The rows of ``items``. A note that cannot become a row (a bug, not a state of the
    database) is logged and left out, instead of failing every later flush with it."""
    drafts: list[AuditDraft] = []
    for item in items:
        try:
            drafts.extend(item.drafts())
        except Exception:
            log.exception("audit.note_unrecordable", note=repr(item)[:500])
    return drafts
