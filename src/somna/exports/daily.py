"""The per-person daily summary in exports: ``daily_<stamp>.csv`` and ``.parquet``, one row
per person and local date, the same values as ``GET /users/{id}/days`` (docs/analytics.md).

The window is the export's (``start_date``..``end_date``); an open end runs from the person's
first to their last record date. Values are computed with the analytics services, person by
person, inside the export's snapshot.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession

from somna.analytics import daily_service, person_context
from somna.analytics.repository import AnalyticsRepository
from somna.exports.files import CSV_DIR, PARQUET_DIR
from somna.people.repository import PersonRepository

DAILY_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("user_id", pa.string()),
    ("user_email", pa.string()),
    ("date", pa.date32()),
    ("sleep_session_id", pa.string()),
    ("sleep_source", pa.string()),
    ("sleep_seconds", pa.int64()),
    ("nap_sleep_seconds", pa.int64()),
    ("sleep_debt_seconds", pa.int64()),
    ("nights_to_repay", pa.int64()),
    ("readiness", pa.float64()),
    ("readiness_reason", pa.string()),
    ("hrv_rmssd_ms", pa.float64()),
    ("hrv_z", pa.float64()),
    ("hrv_within_normal_range", pa.bool_()),
    ("hrv_source", pa.string()),
    ("resting_hr_bpm", pa.float64()),
    ("resting_hr_z", pa.float64()),
    ("resting_hr_within_normal_range", pa.bool_()),
    ("resting_hr_source", pa.string()),
    ("mood", pa.float64()),
)
DAILY_COLUMNS = tuple(name for name, _ in DAILY_FIELDS)
DAILY_SCHEMA = pa.schema([pa.field(name, kind) for name, kind in DAILY_FIELDS])


def daily_csv_name(stamp: str) -> str:
    return f"{CSV_DIR}/daily_{stamp}.csv"


def daily_parquet_name(stamp: str) -> str:
    return f"{PARQUET_DIR}/daily_{stamp}.parquet"


async def daily_rows(
    session: AsyncSession,
    person: Mapping[str, Any],
    start: date | None,
    end: date | None,
    exported_at: datetime,
) -> list[dict[str, Any]]:
    """The person's daily rows for the export window (none without records)."""
    loaded = await PersonRepository(session).get_unscoped(uuid.UUID(str(person["id"])))
    if loaded is None:
        return []
    ctx = await person_context.person_context(session, loaded, exported_at)
    first_record, last_record = await AnalyticsRepository(session).record_dates(loaded.id)
    first, last = start or first_record, end or last_record
    if first is None or last is None or last < first:
        return []
    answer = await daily_service.day_rows(session, ctx, first, last)
    rows = []
    for day in answer.data:
        values = day.model_dump()
        sources = values.pop("sources")
        rows.append(
            {
                "user_id": str(person["id"]),
                "user_email": person["email"],
                **values,
                "hrv_source": sources.get("hrv"),
                "resting_hr_source": sources.get("resting_hr"),
            }
        )
    return rows
