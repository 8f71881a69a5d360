"""Person archives: an export kind whose files a higher layer writes.

What a person's archive holds (their records, preferences, audit trail...) is for
``somna.privacy`` to say, and privacy sits above exports (it creates and erases exports), so
exports cannot import it. Privacy registers its builder here when its tasks load
(``jobs.registry.TASK_MODULES``, imported by every process that runs jobs).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class ArchivedFile(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def format(self) -> str: ...

    @property
    def rows(self) -> int: ...

    @property
    def bytes(self) -> int: ...


PersonArchiveBuilder = Callable[
    [async_sessionmaker[AsyncSession], uuid.UUID, Path], Awaitable[Sequence[ArchivedFile]]
]


class ArchiveBuilderMissing(RuntimeError):
    """No builder was registered: the process never loaded the task modules."""


class PersonArchives:
    def __init__(self) -> None:
        self._builder: PersonArchiveBuilder | None = None

    def register(self, builder: PersonArchiveBuilder) -> None:
        self._builder = builder

    async def build(
        self, sessionmaker: async_sessionmaker[AsyncSession], person_id: uuid.UUID, root: Path
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The files and row counts of the person's archive, written under ``root``."""
        if self._builder is None:
            raise ArchiveBuilderMissing("no person-archive builder (somna.privacy.tasks)")
        written = await self._builder(sessionmaker, person_id, root)
        counts = {"people": 1, **{Path(item.name).stem: item.rows for item in written}}
        files = [
            {"name": item.name, "format": item.format, "rows": item.rows, "bytes": item.bytes}
            for item in written
        ]
        return files, counts


person_archives = PersonArchives()
