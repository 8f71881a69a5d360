"""The exporter on both backends: layout, CSV columns and values, JSON, Parquet, atomicity and
batched reads."""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from somna.exports import writers
from somna.exports.columns import SEED_COLUMNS, SLEEP_COLUMNS, flatten
from somna.exports.exporter import run_export
from somna.exports.repository import ExportScope
from somna.models import SleepSession
from tests.exports.support import Arranged, arrange

EXPORTED_AT = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
STAMP = "20261124T013000Z"
WHOOP_JSON = f"json/sleep_data_batch_wanda.whoop@example.com_{STAMP}.json"
CSV_NAME = f"combined_csv/combined_sleep_data_expanded_{STAMP}.csv"


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "export"


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _csv_rows(root: Path) -> tuple[list[str], list[dict[str, str]]]:
    with (root / CSV_NAME).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


async def _export(
    sessionmaker: async_sessionmaker[AsyncSession], arranged: Arranged, root: Path, **kw: Any
) -> Any:
    scope = kw.pop("scope", ExportScope(arranged.organization_id))
    return await run_export(
        sessionmaker, scope, root, kw.pop("formats", ["json", "csv", "parquet"]),
        exported_at=EXPORTED_AT, **kw,
    )  # fmt: skip


async def test_layout_names_and_counts(
    db_session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], out: Path
) -> None:
    arranged = await arrange(db_session)
    result = await _export(sessionmaker, arranged, out)
    asleep_json = next(n for n in _files(out) if "asleep_user@example.com-" in n)
    expected = {
        WHOOP_JSON,
        asleep_json,
        CSV_NAME,
        f"combined_csv/daily_{STAMP}.csv",
        *(
            f"parquet/{name}_{STAMP}.parquet"
            for name in ("people", "sleep_sessions", "recovery", "cycles", "workouts",
                         "body_measurements", "daily")
        ),
    }  # fmt: skip
    assert _files(out) == expected  # no stray temporary files either
    assert asleep_json.startswith("json/sleep_data_batch_")
    assert asleep_json.endswith(STAMP + ".json")
    assert result.people == 2  # the other organisation's person is not exported
    assert result.rows == {
        "sleep_sessions": 5, "recovery": 3, "cycles": 3, "workouts": 1, "body_measurements": 1,
    }  # fmt: skip
    sizes = {item.name: item.bytes for item in result.files}
    assert sizes == {name: (out / name).stat().st_size for name in expected}
    assert result.bytes == sum(sizes.values())


async def test_csv_header_and_whoop_values_equal_the_payload(
    db_session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], out: Path
) -> None:
    arranged = await arrange(db_session)
    await _export(sessionmaker, arranged, out, formats=["csv"])
    assert _files(out) == {CSV_NAME, f"combined_csv/daily_{STAMP}.csv"}
    header, rows = _csv_rows(out)
    canonical = len(SLEEP_COLUMNS)
    assert header[:canonical] == list(SLEEP_COLUMNS)
    assert header[:2] == ["user_id", "user_email"]
    assert header[canonical : canonical + len(SEED_COLUMNS)] == list(SEED_COLUMNS)
    rest = header[canonical + len(SEED_COLUMNS) :]
    assert rest == sorted(rest)
    assert {"stat.time_in_deep", "session.state", "raw.id", "cycle_id"} <= set(rest)
    assert len(rows) == 5

    stored = {
        row.provider_record_id: row
        for row in await db_session.scalars(
            select(SleepSession).where(SleepSession.person_id == arranged.whoop_person.id)
        )
    }
    whoop_rows = [row for row in rows if row["provider"] == "whoop"]
    assert len(whoop_rows) == 3
    for row in whoop_rows:
        record = stored[row["provider_record_id"]]
        assert row["user_id"] == str(arranged.whoop_person.id)
        assert row["user_email"] == arranged.whoop_person.email
        assert row["id"] == str(record.id)
        assert int(row["in_bed_seconds"]) == record.in_bed_seconds
        flat = flatten(record.raw)
        for column in SEED_COLUMNS:
            assert row[column] != ""
            assert float(row[column]) == flat[column], column
        assert row["raw.id"] == record.raw["id"]
        assert row["stat.time_in_deep"] == ""  # an Asleep-only column stays empty

    asleep_row = next(row for row in rows if row["provider"] == "asleep")
    assert all(asleep_row[column] == "" for column in SEED_COLUMNS)
    assert asleep_row["stat.time_in_deep"] == "900"
    assert json.loads(asleep_row["session.sleep_stages"])[:3] == [0, 0, 0]
    assert set(asleep_row["hypnogram"]) <= set("WLDRU")


async def test_person_json_round_trips(
    db_session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], out: Path
) -> None:
    arranged = await arrange(db_session)
    await _export(sessionmaker, arranged, out, formats=["json"])
    document = json.loads((out / WHOOP_JSON).read_text(encoding="utf-8"))
    person = arranged.whoop_person
    assert document["format"] == "somna.export.person"
    assert document["exported_at"] == EXPORTED_AT.isoformat()
    assert document["user"]["id"] == str(person.id)
    assert document["user"]["email"] == person.email
    assert document["counts"] == {
        "sleep_sessions": 3, "recovery": 3, "cycles": 3, "workouts": 1, "body_measurements": 1,
    }  # fmt: skip
    sessions = document["sleep_sessions"]
    assert [s["start_at"] for s in sessions] == sorted(s["start_at"] for s in sessions)
    stored = {
        str(row.id): row
        for row in await db_session.scalars(
            select(SleepSession).where(SleepSession.person_id == person.id)
        )
    }
    for item in sessions:
        record = stored[item["id"]]
        assert item["raw"] == record.raw
        assert datetime.fromisoformat(item["start_at"]) == record.start_at
        assert date.fromisoformat(item["local_date"]) == record.local_date
        assert item["efficiency_pct"] == record.efficiency_pct
        assert item["hypnogram"] is None  # WHOOP gives totals, not epochs
    assert document["workouts"][0]["zone_durations_seconds"]["zone_2"] == 900

    asleep = next(p for p in (out / "json").iterdir() if "asleep" in p.name)
    asleep_doc = json.loads(asleep.read_text(encoding="utf-8"))
    hypnogram = asleep_doc["sleep_sessions"][0]["hypnogram"]
    assert hypnogram["epoch_seconds"] == 30
    assert hypnogram["stages"].startswith("W" * 20 + "L" * 40)
    assert asleep_doc["recovery"] == []
    assert asleep_doc["counts"]["recovery"] == 0


async def test_parquet_is_typed_and_complete(
    db_session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], out: Path
) -> None:
    arranged = await arrange(db_session)
    await _export(sessionmaker, arranged, out, formats=["parquet"])
    folder = out / "parquet"
    counts = {p.name.split(f"_{STAMP}")[0]: pq.read_table(p).num_rows for p in folder.iterdir()}
    assert counts == {
        "people": 2, "sleep_sessions": 5, "recovery": 3, "cycles": 3, "workouts": 1,
        "body_measurements": 1, "daily": len(pq.read_table(folder / f"daily_{STAMP}.parquet")),
    }  # fmt: skip
    assert counts["daily"] > 0
    sleep = pq.read_table(folder / f"sleep_sessions_{STAMP}.parquet")
    schema = sleep.schema
    assert schema.field("start_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("local_date").type == pa.date32()
    assert schema.field("in_bed_seconds").type == pa.int64()
    assert schema.field("efficiency_pct").type == pa.float64()
    assert schema.field("is_nap").type == pa.bool_()
    assert schema.field("raw").type == pa.string()
    rows = sleep.to_pylist()
    whoop = [row for row in rows if row["provider"] == "whoop"]
    assert {row["user_id"] for row in whoop} == {str(arranged.whoop_person.id)}
    first = min(whoop, key=lambda row: row["start_at"])
    assert first["start_at"] == datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
    raw = json.loads(first["raw"])
    assert raw["score"]["stage_summary"]["total_in_bed_time_milli"] == 28_800_000
    assert math.isclose(first["respiratory_rate"], 16.11328125)


async def test_window_and_people_narrow_the_export(
    db_session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], out: Path
) -> None:
    arranged = await arrange(db_session)
    scope = ExportScope(
        arranged.organization_id,
        person_ids=(arranged.whoop_person.id,),
        start=date(2026, 3, 2),
        end=date(2026, 3, 2),
    )
    result = await _export(sessionmaker, arranged, out, scope=scope)
    assert result.people == 1
    assert result.rows["sleep_sessions"] == 1
    assert result.rows["body_measurements"] == 0  # measured on 1 March
    document = json.loads((out / WHOOP_JSON).read_text(encoding="utf-8"))
    assert document["window"] == {"start": "2026-03-02", "end": "2026-03-02"}
    assert [s["local_date"] for s in document["sleep_sessions"]] == ["2026-03-02"]
    assert not list((out / "json").glob("*asleep*"))


async def test_a_failure_midway_leaves_no_file_under_a_final_name(
    db_session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    out: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arranged = await arrange(db_session)
    real = writers.json_record
    written = 0

    def failing(collection: Any, row: Any) -> dict[str, Any]:
        nonlocal written
        if row["provider"] == "whoop" and collection.name == "sleep_sessions":
            written += 1
            if written == 2:
                raise OSError(28, "No space left on device")
        return real(collection, row)

    monkeypatch.setattr(writers, "json_record", failing)
    with pytest.raises(OSError, match="No space left"):
        await _export(sessionmaker, arranged, out, batch_size=1)
    left = _files(out)
    assert not any(".tmp" in name for name in left), left
    assert WHOOP_JSON not in left
    assert CSV_NAME not in left
    assert not any(name.startswith("parquet/") for name in left)
    # A person finished before the failure (order depends on the collation) is whole.
    for name in left:
        json.loads((out / name).read_text(encoding="utf-8"))


def _reads_payloads(statement: str) -> bool:
    """A read of stored records with their payloads: the export's own batched reads. (The
    daily summary's reads, one person's columns at a time, never read the payload.)"""
    return "FROM sleep_sessions" in statement and "raw" in statement


async def test_records_are_read_in_batches(
    db_session: AsyncSession,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    out: Path,
) -> None:
    arranged = await arrange(db_session)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await _export(sessionmaker, arranged, out / "small", batch_size=2)
        small = [s for s in statements if _reads_payloads(s)]
        statements.clear()
        await _export(sessionmaker, arranged, out / "large", batch_size=1000)
        large = [s for s in statements if _reads_payloads(s)]
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert all("LIMIT" in s for s in small + large)
    # 5 payloads in the column pass (2+2+1); people with 3 (2+1) and 2 (2+0) sessions.
    assert len(small) == 3 + 2 + 2
    assert len(large) == 1 + 1 + 1
    assert _files(out / "small") == {name.replace("large/", "") for name in _files(out / "large")}
