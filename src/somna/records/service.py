"""Reading a person's records for the API."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from somna.analytics.calculations.hypnogram import InvalidHypnogram, hypnogram_statistics
from somna.errors import NotFound
from somna.models import SleepSession
from somna.records.repository import RecordFilter, RecordQueries
from somna.records.schemas import HypnogramRead, SleepSessionDetail, SleepSessionRead


class RecordNotFound(NotFound):
    error_code = "record_not_found"


async def list_records(
    session: AsyncSession,
    collection: str,
    person_id: uuid.UUID,
    filters: RecordFilter,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    return await RecordQueries(session).page(
        collection, person_id, filters, limit=limit, cursor=cursor
    )


async def get_record(
    session: AsyncSession, collection: str, person_id: uuid.UUID, record_id: uuid.UUID
) -> Any:
    record = await RecordQueries(session).get(collection, person_id, record_id)
    if record is None:
        raise RecordNotFound(f"No {collection} record with id {record_id} for this user.")
    return record


def sleep_detail(record: SleepSession) -> SleepSessionDetail:
    """The session with its hypnogram and the statistics computed from it."""
    base = SleepSessionRead.model_validate(record).model_dump()
    hypnogram = None
    statistics = None
    if record.hypnogram and record.hypnogram_epoch_seconds:
        hypnogram = HypnogramRead(
            epoch_seconds=record.hypnogram_epoch_seconds, stages=record.hypnogram
        )
        try:
            statistics = hypnogram_statistics(record.hypnogram, record.hypnogram_epoch_seconds)
        except InvalidHypnogram:
            statistics = None  # a stored hypnogram is validated on the way in; never fail a read
    return SleepSessionDetail(**base, hypnogram=hypnogram, statistics=statistics, raw=record.raw)
