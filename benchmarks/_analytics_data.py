"""Synthetic data for ``benchmarks/analytics.py``: people in four time zones, WHOOP-like
nights (one person in ten with an overlapping Asleep record and its hypnogram) and morning
recoveries, deterministic per person; bulk loaded by ``executemany`` (SQLite) or ``COPY``
(PostgreSQL), with the per-night columns and counted flags the store's own functions give."""

from __future__ import annotations

import json
import math
import random
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from somna.calculations import SleepPeriod
from somna.nights.repository import counted_record_ids, night_columns

CHUNK_PEOPLE = 250
ZONES = (("UTC", 0), ("Asia/Tokyo", 540), ("America/Sao_Paulo", -180), ("Asia/Kolkata", 330))
DUPLICATE_EVERY, DUPLICATE_NIGHTS = 10, 30
# A night of 30-s epochs: wake, then light/deep/REM cycles (sliced to the night's length).
_CYCLE = "L" * 40 + "D" * 30 + "L" * 20 + "R" * 30 + "W" * 2
HYPNOGRAM_SOURCE = "W" * 30 + _CYCLE * 20


@dataclass(frozen=True)
class Dataset:
    organization_id: uuid.UUID
    people: list[uuid.UUID]
    sessions: int
    duplicates: int
    recoveries: int


# Synthetic data ----------------------------------------------------------------------------


def _person_and_connections(
    rng: random.Random, index: int, organization_id: uuid.UUID, zone: str, now: datetime
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The person's row and their connections by provider (the first draws of ``rng``)."""
    person = {
        "id": uuid.UUID(int=rng.getrandbits(128)),
        "organization_id": organization_id,
        "email": f"person{index:05d}@bench.example",
        "timezone": zone,
        "metadata": {},
        "created_at": now,
        "updated_at": now,
    }
    providers = ["whoop"] + (["asleep"] if index % DUPLICATE_EVERY == 0 else [])
    connections = {
        provider: {
            "id": uuid.UUID(int=rng.getrandbits(128)),
            "organization_id": organization_id,
            "person_id": person["id"],
            "provider": provider,
            "provider_user_id": f"{provider}-{index}",
            "status": "active",
            "scopes": [],
            "created_at": now,
            "updated_at": now,
        }
        for provider in providers
    }
    return person, connections


def _person_rows(
    index: int, organization_id: uuid.UUID, today: date, nights: int, now: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """One person, their connections, sleep and recovery rows; deterministic per index."""
    rng = random.Random(index)
    zone, offset = ZONES[index % len(ZONES)]
    tz = timezone(timedelta(minutes=offset))
    person, connections = _person_and_connections(rng, index, organization_id, zone, now)
    bed_mean = rng.uniform(21.5, 24.5) * 60  # minutes after local midnight of the evening
    spread = rng.uniform(10, 90)
    free_delay = rng.uniform(0, 120)  # later on free-day nights: social jetlag
    hrv_mean, rhr_mean = rng.uniform(3.3, 4.5), rng.uniform(48, 72)  # ln ms, bpm
    sleeps, recoveries = [], []
    for k in range(nights):
        wake_date = today - timedelta(days=nights - 1 - k)
        bed = bed_mean + rng.gauss(0, spread) + (free_delay if wake_date.weekday() >= 5 else 0)
        evening = datetime.combine(wake_date - timedelta(days=1), datetime.min.time(), tzinfo=tz)
        start = evening + timedelta(minutes=bed)
        in_bed = int(max(4.0, min(11.0, rng.gauss(7.8, 0.8))) * 3600)
        end = start + timedelta(seconds=in_bed)
        efficiency = max(60.0, min(99.0, rng.gauss(88, 5)))
        asleep = int(in_bed * efficiency / 100)
        latency = rng.randint(0, min(2400, in_bed - asleep))
        record_id = f"whoop-{index}-{k}"
        sleeps.append(
            _sleep_row(
                connections["whoop"], person, record_id, start, end, offset, now,
                in_bed=in_bed, asleep=asleep, latency=latency, efficiency=efficiency,
            )
        )  # fmt: skip
        if "asleep" in connections and k >= nights - DUPLICATE_NIGHTS:
            a_start = start + timedelta(minutes=rng.randint(-10, 10))
            epochs = max(1, (in_bed + rng.randint(-900, 900)) // 30)
            hypnogram = HYPNOGRAM_SOURCE[:epochs].ljust(epochs, "W")
            sleeps.append(
                _sleep_row(
                    connections["asleep"], person, f"asleep-{index}-{k}", a_start,
                    a_start + timedelta(seconds=30 * epochs), offset, now, in_bed=30 * epochs,
                    asleep=sum(1 for c in hypnogram if c in "LDR") * 30,
                    latency=30 * hypnogram.index("L"), efficiency=None, hypnogram=hypnogram,
                )
            )  # fmt: skip
        if rng.random() < 0.95:  # a morning recovery on most days
            recoveries.append(
                _recovery_row(
                    connections["whoop"], person, f"whoop-rec-{index}-{k}", end, now,
                    hrv=math.exp(rng.gauss(hrv_mean, 0.15)), rhr=rng.gauss(rhr_mean, 3),
                )
            )  # fmt: skip
    _derive(sleeps)
    return person, list(connections.values()), sleeps, recoveries


def _recovery_row(
    connection: dict[str, Any],
    person: dict[str, Any],
    record_id: str,
    at: datetime,
    now: datetime,
    *,
    hrv: float,
    rhr: float,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "connection_id": connection["id"],
        "person_id": person["id"],
        "provider": connection["provider"],
        "provider_record_id": record_id,
        "score_state": "SCORED",
        "provider_updated_at": now,
        "raw": {"id": record_id, "score": {"hrv_rmssd_milli": hrv, "resting_heart_rate": rhr}},
        "created_at": now,
        "updated_at": now,
        "recorded_at": at.astimezone(UTC),
        "local_date": at.date(),
        "cycle_record_id": None,
        "sleep_record_id": None,
        "recovery_score": 60.0,
        "hrv_rmssd_ms": hrv,
        "resting_hr_bpm": rhr,
        "spo2_pct": 96.0,
        "skin_temp_celsius": 33.5,
        "user_calibrating": False,
    }


def _derive(sleeps: list[dict[str, Any]]) -> None:
    """What the store writes with each record (``RecordRepository.upsert``): the per-night
    derived columns and the counted flags, by the same functions, so bulk-loaded rows are
    the rows a sync would have stored. Nobody here has a source priority."""
    periods = [SleepPeriod.from_row(SimpleNamespace(**row)) for row in sleeps]
    counted = counted_record_ids(periods, ())
    for row, period in zip(sleeps, periods, strict=True):
        row |= night_columns(period)
        row["counted"] = period.record_id in counted


def _whoop_raw(
    record_id: str,
    person: dict[str, Any],
    start: datetime,
    end: datetime,
    now: datetime,
    in_bed: int,
    asleep: int,
    stages: tuple[int, int, int],
    efficiency: float | None,
) -> dict[str, Any]:
    """A WHOOP-like ``raw`` payload, realistic in size (the store keeps it with each row)."""
    light, deep, rem = stages
    return {
        "id": record_id,
        "user_id": person["email"],
        "created_at": now.isoformat(),
        "updated_at": now.isoformat(),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "timezone_offset": start.strftime("%z"),
        "nap": False,
        "score_state": "SCORED",
        "score": {
            "stage_summary": {
                "total_in_bed_time_milli": in_bed * 1000,
                "total_awake_time_milli": (in_bed - asleep) * 1000,
                "total_light_sleep_time_milli": light * 1000,
                "total_slow_wave_sleep_time_milli": deep * 1000,
                "total_rem_sleep_time_milli": rem * 1000,
                "sleep_cycle_count": 4,
                "disturbance_count": 7,
            },
            "respiratory_rate": 15.4,
            "sleep_efficiency_percentage": efficiency,
        },
    }


def _sleep_row(
    connection: dict[str, Any],
    person: dict[str, Any],
    record_id: str,
    start: datetime,
    end: datetime,
    offset: int,
    now: datetime,
    *,
    in_bed: int,
    asleep: int,
    latency: int,
    efficiency: float | None,
    hypnogram: str | None = None,
) -> dict[str, Any]:
    light, deep = int(asleep * 0.55), int(asleep * 0.2)
    rem = asleep - light - deep
    waso = max(0, in_bed - asleep - latency)
    stages = (light, deep, rem)
    raw = _whoop_raw(record_id, person, start, end, now, in_bed, asleep, stages, efficiency)
    return {
        "id": uuid.uuid4(),
        "connection_id": connection["id"],
        "person_id": person["id"],
        "provider": connection["provider"],
        "provider_record_id": record_id,
        "score_state": "SCORED",
        "provider_updated_at": now,
        "raw": raw,
        "created_at": now,
        "updated_at": now,
        "start_at": start.astimezone(UTC),
        "end_at": end.astimezone(UTC),
        "timezone_offset_minutes": offset,
        "local_date": end.date(),
        "is_nap": False,
        "in_bed_seconds": in_bed,
        "asleep_seconds": asleep,
        "awake_seconds": in_bed - asleep,
        "light_seconds": light,
        "deep_seconds": deep,
        "rem_seconds": rem,
        "latency_seconds": latency,
        "waso_count": 3,
        "waso_seconds": waso,
        "disturbance_count": 7,
        "cycle_count": 4,
        "efficiency_pct": efficiency,
        "performance_pct": None,
        "consistency_pct": None,
        "respiratory_rate": 15.4,
        "hypnogram": hypnogram,
        "hypnogram_epoch_seconds": 30 if hypnogram else None,
        "source_label": connection["provider"],
    }


def _chunks(
    organization_id: uuid.UUID, people: int, nights: int, today: date
) -> Iterator[tuple[list[dict[str, Any]], ...]]:
    now = datetime.now(UTC)
    for first in range(0, people, CHUNK_PEOPLE):
        persons, connections, sleeps, recoveries = [], [], [], []
        for index in range(first, min(people, first + CHUNK_PEOPLE)):
            person, conns, rows, recs = _person_rows(index, organization_id, today, nights, now)
            persons.append(person)
            connections += conns
            sleeps += rows
            recoveries += recs
        yield persons, connections, sleeps, recoveries


# Loading -------------------------------------------------------------------------------------


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _pg_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


class _Tables:
    """The synthetic rows, chunk by chunk and table by table (people first); counts what it
    has handed out, for the :class:`Dataset` that was loaded."""

    def __init__(self, organization_id: uuid.UUID, people: int, nights: int) -> None:
        self.organization_id, self.people, self.nights = organization_id, people, nights
        self.ids: list[uuid.UUID] = []
        self.sessions = self.duplicates = self.recoveries = 0

    def __iter__(self) -> Iterator[tuple[str, list[str], list[dict[str, Any]]]]:
        for persons, conns, sleeps, recoveries in _chunks(
            self.organization_id, self.people, self.nights, bench_today()
        ):
            for table, rows in (
                ("people", persons),
                ("connections", conns),
                ("sleep_sessions", sleeps),
                ("recoveries", recoveries),
            ):
                yield table, list(rows[0]), rows
            self.ids += [p["id"] for p in persons]
            self.sessions += len(sleeps)
            self.duplicates += sum(1 for s in sleeps if s["provider"] == "asleep")
            self.recoveries += len(recoveries)

    def dataset(self) -> Dataset:
        return Dataset(
            self.organization_id, self.ids, self.sessions, self.duplicates, self.recoveries
        )


def load_sqlite(path: Path, organization_id: uuid.UUID, people: int, nights: int) -> Dataset:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    tables = _Tables(organization_id, people, nights)
    for table, columns, rows in tables:
        statement = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        )
        connection.executemany(
            statement, ([_sqlite_value(row[c]) for c in columns] for row in rows)
        )
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()
    return tables.dataset()


async def load_postgres(url: str, organization_id: uuid.UUID, people: int, nights: int) -> Dataset:
    import asyncpg

    connection = await asyncpg.connect(url)
    tables = _Tables(organization_id, people, nights)
    try:
        for table, columns, rows in tables:
            await connection.copy_records_to_table(
                table,
                records=[tuple(_pg_value(row[c]) for c in columns) for row in rows],
                columns=columns,
            )
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    return tables.dataset()


def bench_today() -> date:
    return datetime.now(UTC).date()
