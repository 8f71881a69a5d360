"""Reading a person's records for the API."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from somna.calculations.hypnogram import HypnogramStats, hypnogram_statistics
from somna.calculations.transitions import transitions
from somna.models import SleepSession
from somna.records.canonical import is_canonical_hypnogram
from somna.records.exceptions import RecordNotFound
from somna.records.repository import RecordFilter, RecordQueries
from somna.records.schemas import HypnogramRead, SleepSessionDetail, SleepSessionRead


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


def sleep_read(record: SleepSession) -> SleepSessionRead:
    """One session as the list shows it: the same totals as its detail."""
    return SleepSessionRead.model_validate(_sleep_values(record, _statistics(record)))


def sleep_detail(record: SleepSession) -> SleepSessionDetail:
    """The session with its hypnogram, the statistics computed from it and its stage
    transitions; the totals are those of the list."""
    statistics = _statistics(record)
    hypnogram = None
    if statistics is not None and record.hypnogram and record.hypnogram_epoch_seconds:
        hypnogram = HypnogramRead(
            epoch_seconds=record.hypnogram_epoch_seconds, stages=record.hypnogram
        )
    return SleepSessionDetail(
        **_sleep_values(record, statistics),
        hypnogram=hypnogram,
        statistics=statistics,
        transitions=transitions(hypnogram.stages) if hypnogram is not None else None,
        raw=record.raw,
    )


def _statistics(record: SleepSession) -> HypnogramStats | None:
    hypnogram, epoch = record.hypnogram, record.hypnogram_epoch_seconds
    # A stored hypnogram is validated on the way in; should one still not be in the canonical
    # alphabet (written by hand, or by an older version), the read leaves statistics out
    # rather than fail.
    if not (hypnogram and epoch and is_canonical_hypnogram(hypnogram, epoch)):
        return None
    return hypnogram_statistics(hypnogram, epoch)


def _sleep_values(record: SleepSession, statistics: HypnogramStats | None) -> dict[str, Any]:
    """The session's fields; totals the provider has not sent yet (a score still pending)
    are taken from the hypnogram, and ``derived_from_hypnogram`` names them."""
    values = SleepSessionRead.model_validate(record).model_dump()
    derived: list[str] = []
    if statistics is not None:
        for name, value in _hypnogram_totals(statistics).items():
            if values.get(name) is None and value is not None:
                values[name] = value
                derived.append(name)
    values["derived_from_hypnogram"] = derived
    return values


def _hypnogram_totals(s: HypnogramStats) -> dict[str, int | float | None]:
    return {
        "in_bed_seconds": s.tib_seconds,
        "asleep_seconds": s.tst_seconds,
        "awake_seconds": s.tib_seconds - s.tst_seconds - s.stage_seconds["UNS"],
        "light_seconds": s.stage_seconds["LIGHT"],
        "deep_seconds": s.stage_seconds["DEEP"],
        "rem_seconds": s.stage_seconds["REM"],
        "latency_seconds": s.sol_seconds,
        "waso_seconds": s.waso_seconds,
        "waso_count": s.waso_count,
        "efficiency_pct": s.se_pct,
    }
