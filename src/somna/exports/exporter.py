"""Build an export: stream an organisation's (or some people's) records into files.

Reads go in keyset batches of ``batch_size`` rows, and each batch is written before the next
is read, so memory stays flat however large the organisation is. The combined CSV needs its
header before its first row, so a first pass reads only the sleep payloads to learn their
dotted columns. On PostgreSQL both passes share one REPEATABLE READ snapshot, so the files
agree with each other even while syncs write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.exports.columns import COLLECTIONS, FORMATS, expanded, expanded_header
from somna.exports.daily import daily_rows
from somna.exports.files import stamp_of
from somna.exports.repository import ExportScope, RecordReader
from somna.exports.writers import ExportedFile, ExportWriter
from somna.kit.time import utc_now


class ExportProgress(Protocol):
    """What a caller (the CLI's progress bars) hears while an export runs."""

    def person_started(self, email: str, total_rows: int) -> None: ...

    def rows_written(self, email: str, rows: int) -> None: ...

    def person_finished(self, email: str) -> None: ...


@dataclass
class ExportResult:
    stamp: str
    people: int = 0
    rows: dict[str, int] = field(default_factory=lambda: {c.name: 0 for c in COLLECTIONS})
    files: list[ExportedFile] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(item.bytes for item in self.files)

    def counts(self) -> dict[str, int]:
        return {"people": self.people, **self.rows}


def normalise_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """Known formats in canonical order, each once; ``ValueError`` names an unknown one."""
    wanted = {item.strip().lower() for item in formats if item.strip()}
    unknown = sorted(wanted - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown format {', '.join(unknown)}; use {', '.join(FORMATS)}")
    if not wanted:
        raise ValueError(f"name at least one format: {', '.join(FORMATS)}")
    return tuple(item for item in FORMATS if item in wanted)


async def _snapshot(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )


async def _expanded_columns(reader: RecordReader) -> list[str]:
    seen: set[str] = set()
    async for batch in reader.sleep_payloads():
        for row in batch:
            seen.update(expanded(row["raw"] or {}))
    return expanded_header(seen)


async def run_export(
    sessionmaker: async_sessionmaker[AsyncSession],
    scope: ExportScope,
    out_dir: Path,
    formats: Iterable[str],
    *,
    batch_size: int = 500,
    exported_at: datetime | None = None,
    progress: ExportProgress | None = None,
) -> ExportResult:
    """Write the export into ``out_dir``; on any failure no file is left half-written."""
    chosen = normalise_formats(formats)
    exported_at = exported_at or utc_now()
    result = ExportResult(stamp=stamp_of(exported_at))
    async with sessionmaker() as session:
        await _snapshot(session)
        reader = RecordReader(session, scope, batch_size)
        columns = await _expanded_columns(reader) if "csv" in chosen else []
        writer = ExportWriter(
            out_dir,
            stamp=result.stamp,
            exported_at=exported_at,
            window=(scope.start, scope.end),
            formats=chosen,
            expanded_columns=columns,
        )
        try:
            await asyncio.to_thread(writer.open)
            async for person in reader.people():
                await _export_person(reader, writer, person, result, progress)
                if "csv" in chosen or "parquet" in chosen:
                    rows = await daily_rows(session, person, scope.start, scope.end, exported_at)
                    await asyncio.to_thread(writer.write_daily, rows)
            result.files = await asyncio.to_thread(writer.close)
        except BaseException:
            await asyncio.to_thread(writer.abort)
            raise
    return result


async def _export_person(
    reader: RecordReader,
    writer: ExportWriter,
    person: Mapping[str, Any],
    result: ExportResult,
    progress: ExportProgress | None,
) -> None:
    email: str = person["email"]
    if progress is not None:
        total = sum([await reader.count(c, person["id"]) for c in COLLECTIONS])
        progress.person_started(email, total)
    await asyncio.to_thread(writer.start_person, person)
    counts: dict[str, int] = {}
    for collection in COLLECTIONS:
        writer.begin_collection(collection)
        counts[collection.name] = 0
        async for batch in reader.records(collection, person["id"]):
            await asyncio.to_thread(writer.write_records, collection, person, batch)
            counts[collection.name] += len(batch)
            if progress is not None:
                progress.rows_written(email, len(batch))
        writer.end_collection()
        result.rows[collection.name] += counts[collection.name]
    await asyncio.to_thread(writer.finish_person, counts)
    result.people += 1
    if progress is not None:
        progress.person_finished(email)
