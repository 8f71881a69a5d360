"""The daily summary in exports: daily_<stamp>.csv and .parquet, one row per person and local
date, the same values as GET /users/{id}/days."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.analytics import daily_service, person_context
from somna.exports.daily import DAILY_COLUMNS
from somna.exports.exporter import run_export
from somna.exports.repository import ExportScope
from somna.models import SleepSession
from tests.exports.support import arrange
from tests.exports.test_exporter import EXPORTED_AT, STAMP


async def test_daily_files_hold_one_row_per_person_and_date(
    db_session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    arranged = await arrange(db_session, nights=3)
    await run_export(
        sessionmaker, ExportScope(arranged.organization_id), tmp_path, ["csv", "parquet"],
        exported_at=EXPORTED_AT,
    )  # fmt: skip
    with (tmp_path / f"combined_csv/daily_{STAMP}.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    parquet = pq.read_table(tmp_path / f"parquet/daily_{STAMP}.parquet")
    table = parquet.to_pylist()
    assert len(table) == len(rows)
    assert list(rows[0]) == list(DAILY_COLUMNS) == parquet.schema.names
    wanda = [r for r in rows if r["user_email"] == "wanda.whoop@example.com"]
    person = arranged.whoop_person
    sleeps = (
        await db_session.scalars(select(SleepSession).where(SleepSession.person_id == person.id))
    ).all()
    first = min(s.local_date for s in sleeps)
    last = max(s.local_date for s in sleeps)
    # From the person's first to their last record date, every date present.
    dates = [r["date"] for r in wanda]
    assert dates[0] == first.isoformat()
    assert dates == [(first + timedelta(days=k)).isoformat() for k in range(len(dates))]
    # The same values as the daily-summary route computes.
    ctx = await person_context.person_context(db_session, person, EXPORTED_AT)
    answer = await daily_service.day_rows(db_session, ctx, first, date.fromisoformat(dates[-1]))
    for row, day in zip(wanda, answer.data, strict=True):
        assert row["sleep_session_id"] == (day.sleep_session_id or "")
        assert row["sleep_source"] == (day.sleep_source or "")
        assert row["sleep_seconds"] == ("" if day.sleep_seconds is None else str(day.sleep_seconds))
        assert row["hrv_rmssd_ms"] == ("" if day.hrv_rmssd_ms is None else str(day.hrv_rmssd_ms))
        assert row["sleep_debt_seconds"] == (
            "" if day.sleep_debt_seconds is None else str(day.sleep_debt_seconds)
        )
        assert row["nights_to_repay"] == (
            "" if day.nights_to_repay is None else str(day.nights_to_repay)
        )
    by_id = {s.local_date.isoformat(): str(s.id) for s in sleeps if not s.is_nap}
    assert wanda[0]["sleep_session_id"] == by_id[wanda[0]["date"]]
    assert {r["sleep_source"] for r in wanda if r["sleep_session_id"]} == {"whoop"}
    parquet_wanda = [r for r in table if r["user_email"] == "wanda.whoop@example.com"]
    assert [r["date"].isoformat() for r in parquet_wanda] == dates
    assert last.isoformat() in dates


async def test_daily_rows_follow_the_export_window(
    db_session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    arranged = await arrange(db_session, nights=3)
    window = ExportScope(arranged.organization_id, start=date(2026, 3, 2), end=date(2026, 3, 5))
    await run_export(sessionmaker, window, tmp_path, ["csv"], exported_at=EXPORTED_AT)
    with (tmp_path / f"combined_csv/daily_{STAMP}.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for email in ("wanda.whoop@example.com", "asleep/user@example.com"):
        assert [r["date"] for r in rows if r["user_email"] == email] == [
            "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05",
        ]  # fmt: skip
