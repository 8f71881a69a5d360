"""Organisation statistics over 10,000 people x 90 nights, on SQLite and on PostgreSQL: with the
circadian, debt and readiness distributions (issue 16) next to the statistics before them, in
the same run; the 000 seed's approach (one average-stats request per person) against the same
server; and a person's weekly report latency.

    .venv/bin/python -m benchmarks.analytics [--people 10000] [--nights 90]
        [--backends sqlite,postgresql] [--seed-sample 300] [--seed-seconds 60] [--explain]

Per backend: a fresh database is migrated and filled with synthetic nights by bulk insert
(``executemany`` on SQLite, ``COPY`` on PostgreSQL), with the per-night derived columns and
counted flags computed by the store's own functions; one person in ten also has an Asleep
record (with a hypnogram) overlapping each of their last 30 WHOOP nights, so one night counts
once is exercised. Every person also has a WHOOP recovery (HRV, resting heart rate) on most
mornings, so the readiness baselines have data. One uvicorn process serves the real app on
loopback (pinned to CPU 0 where possible); this process is the client (CPU 1).

"Before issue 16" is timed in this process against the same database, alternating with the
current statistics: the organisation, its people (id and e-mail), the grouped statement
without the weekday column, and the same ``build_cohort_response`` the service still calls,
i.e. the pre-16 ``organization_statistics`` with today's helpers; "now" is
``cohort_service.organization_statistics`` itself. Both are serialised with ``model_dump_json``.

The seed's loop is run sequentially, as the seed
does, for a sample of people (at most ``--seed-sample`` people or ``--seed-seconds``) and
extrapolated to everyone; the output says so. Everything is removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from benchmarks._load import SECRET, make_key, pin, serve
from somna import __version__, migrations
from somna.analytics.calculations import SleepPeriod
from somna.analytics.cohort_repository import cohort_statement
from somna.records.counted_nights import counted_record_ids, night_columns

PG_ADMIN = os.environ.get("SOMNA_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
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


def _person_rows(
    index: int, organization_id: uuid.UUID, today: date, nights: int, now: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """One person, their connections, sleep and recovery rows; deterministic per index."""
    rng = random.Random(index)
    zone, offset = ZONES[index % len(ZONES)]
    tz = timezone(timedelta(minutes=offset))
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
    raw = {
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
            self.organization_id, self.people, self.nights, _today()
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


def _today() -> date:
    return datetime.now(UTC).date()


def _organization_and_key(database_url: str) -> tuple[uuid.UUID, str]:
    created = asyncio.run(
        make_key(
            database_url,
            permissions=["read"],
            scopes=["analytics", "sleep"],
            rate_limit_per_minute=100_000_000,
        )
    )
    return created.organization_id, created.key


# The server and the measurements ---------------------------------------------------------------


@contextmanager
def _server(database_url: str, data_dir: Path) -> Iterator[str]:
    env = {
        **os.environ,
        "SOMNA_DATABASE_URL": database_url,
        "SOMNA_DATA_DIR": str(data_dir),
        "SOMNA_SECRET_KEY": SECRET,
        "SOMNA_LOG_LEVEL": "WARNING",
        "SOMNA_JOB_QUEUE": "embedded",
        "SOMNA_WORKER_IN_APP": "false",
        "SOMNA_RATE_LIMIT_ORG_PER_MINUTE": "100000000",
    }
    env.pop("SOMNA_REDIS_URL", None)
    with serve("somna.app:create_app", env, ready_path="/health", cpu=0) as port:
        yield f"http://127.0.0.1:{port}"


@dataclass(frozen=True)
class Result:
    backend: str
    dataset: Dataset
    load_seconds: float
    org_seconds: list[float]
    org_people_with_data: int
    org_total_nights: int
    seed_people: int
    seed_seconds: float
    weekly_seconds: list[float]
    query_seconds: list[float]  # the grouped statement alone, straight on the database
    comparison: Comparison | None = None  # before issue 16 and now, in this process
    plan: str | None = None  # EXPLAIN ANALYZE on PostgreSQL, with --explain

    @property
    def org_median(self) -> float:
        return statistics.median(self.org_seconds)

    @property
    def seed_full_estimate(self) -> float:
        return self.seed_seconds / self.seed_people * len(self.dataset.people)


def measure(
    backend: str, base: str, key: str, dataset: Dataset, load_seconds: float, args: Any
) -> Result:
    headers = {"Authorization": f"Bearer {key}"}
    today = _today()
    first = today - timedelta(days=args.nights - 1)
    with httpx.Client(base_url=base, headers=headers, timeout=600) as http:
        path = f"/api/v1/organizations/{dataset.organization_id}/statistics"
        params = {"days": args.nights}
        warm = http.get(path, params=params)
        warm.raise_for_status()
        body = warm.json()
        org_seconds = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            http.get(path, params=params).raise_for_status()
            org_seconds.append(time.perf_counter() - started)

        # The seed's loop: one average-stats request per person, one after another.
        seed_people = 0
        started = time.perf_counter()
        for person_id in dataset.people[: args.seed_sample]:
            response = http.get(
                f"/api/v1/users/{person_id}/stats/average",
                params={"start_date": first.isoformat(), "end_date": today.isoformat()},
            )
            response.raise_for_status()
            seed_people += 1
            if time.perf_counter() - started > args.seed_seconds:
                break
        seed_seconds = time.perf_counter() - started

        # A person with two providers: the weekly report of the current week.
        weekly_path = f"/api/v1/users/{dataset.people[0]}/reports/weekly"
        http.get(weekly_path).raise_for_status()
        weekly = []
        for _ in range(args.weekly_repeat):
            started = time.perf_counter()
            http.get(weekly_path).raise_for_status()
            weekly.append(time.perf_counter() - started)
    return Result(
        backend, dataset, load_seconds, org_seconds, body["people_with_data"],
        body["total_nights"], seed_people, seed_seconds, weekly, query_seconds=[],
    )  # fmt: skip


# The statistics before issue 16, next to today's, in this process ----------------------------


async def previous_statistics(
    session: Any, organization_id: uuid.UUID, days: int, now: datetime
) -> Any:
    """``organization_statistics`` as it was before issue 16: the organisation, its people's
    ids and e-mails, the grouped sums per (person, provider) without the weekday column, and
    the rows and four distributions (duration, efficiency, score, regularity) built by the
    same ``build_cohort_response`` that the service still calls."""
    from sqlalchemy import select

    from somna.analytics import cohort_service
    from somna.analytics.cohort_repository import CohortQueries
    from somna.analytics.repository import AnalyticsRepository
    from somna.models import Person

    organization = await AnalyticsRepository(session).organization(organization_id)
    assert organization is not None
    first, last, zone_name = cohort_service.organization_window(organization, days, now)
    people = (
        await session.execute(
            select(Person.id, Person.email)
            .where(Person.organization_id == organization_id)
            .order_by(Person.email, Person.id)
        )
    ).all()
    sums = await CohortQueries(session).night_sums(first, last, organization_id=organization_id)
    with cohort_service.collector_paused():
        return cohort_service.build_cohort_response(
            organization_id, first, last, zone_name, days, people, sums, not_found=[]
        )


async def current_statistics(
    session: Any, organization_id: uuid.UUID, days: int, now: datetime
) -> Any:
    """Today's ``organization_statistics``, with the new distributions."""
    from somna.analytics import cohort_service
    from somna.auth.principal import Principal

    principal = Principal("api_key", organization_id, frozenset({"analytics:read"}))
    return await cohort_service.organization_statistics(
        session, principal, organization_id, days, now
    )


@dataclass(frozen=True)
class Comparison:
    previous_seconds: list[float]
    current_seconds: list[float]
    previous_statements: int
    current_statements: int


async def compare_in_process(url: str, organization_id: uuid.UUID, args: Any) -> Comparison:
    """Both versions against the same database, alternating (one warm-up each), each in a
    session of its own as a request has; the answer serialised to JSON as the API does."""
    from sqlalchemy import event

    from somna.db import create_engine, create_sessionmaker

    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    now = datetime.now(UTC)
    seconds: dict[str, list[float]] = {"previous": [], "current": []}
    counts: dict[str, int] = {}
    versions = {"previous": previous_statistics, "current": current_statistics}
    try:
        for round_ in range(args.repeat + 1):
            for name, version in versions.items():
                statements.clear()
                started = time.perf_counter()
                async with sessions() as session, session.begin():
                    response = await version(session, organization_id, args.nights, now)
                    response.model_dump_json()
                elapsed = time.perf_counter() - started
                counts[name] = len(statements)
                if round_:  # the first round warms caches
                    seconds[name].append(elapsed)
    finally:
        await engine.dispose()
    return Comparison(
        seconds["previous"], seconds["current"], counts["previous"], counts["current"]
    )


def _grouped_sql(dialect: Any, organization_id: uuid.UUID, nights: int) -> str:
    """The organisation statistics' grouped statement with its values written in."""
    today = _today()
    statement = cohort_statement(by_organization=True).params(
        first=today - timedelta(days=nights - 1), last=today, organization_id=organization_id
    )
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _query_sqlite(path: Path, organization_id: uuid.UUID, args: Any) -> list[float]:
    from sqlalchemy.dialects import sqlite

    sql = _grouped_sql(sqlite.dialect(), organization_id, args.nights)
    connection = sqlite3.connect(path)
    try:
        seconds = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            connection.execute(sql).fetchall()
            seconds.append(time.perf_counter() - started)
        return seconds
    finally:
        connection.close()


async def _query_postgres(
    url: str, organization_id: uuid.UUID, args: Any
) -> tuple[list[float], str | None]:
    import asyncpg
    from sqlalchemy import create_engine

    # The app's dialect, for compiling only: no connection is made.
    sql = _grouped_sql(create_engine("postgresql+asyncpg://").dialect, organization_id, args.nights)
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SET jit = off")  # as the app does for this statement
        seconds = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            await connection.fetch(sql)
            seconds.append(time.perf_counter() - started)
        plan = None
        if args.explain:
            rows = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = "\n".join(row[0] for row in rows)
        return seconds, plan
    finally:
        await connection.close()


def run_sqlite(args: Any, tmp: Path) -> Result:
    database = tmp / "bench.db"
    url = f"sqlite+aiosqlite:///{database}"
    migrations.upgrade(url)
    organization_id, key = _organization_and_key(url)
    started = time.perf_counter()
    dataset = load_sqlite(database, organization_id, args.people, args.nights)
    load_seconds = time.perf_counter() - started
    with _server(url, tmp) as base:
        result = measure("SQLite", base, key, dataset, load_seconds, args)
    comparison = asyncio.run(compare_in_process(url, organization_id, args))
    return dataclasses.replace(
        result, query_seconds=_query_sqlite(database, organization_id, args), comparison=comparison
    )


def run_postgres(args: Any, tmp: Path) -> Result:
    import asyncpg

    name = f"somna_bench_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(PG_ADMIN)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    plain = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    url = plain.replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        migrations.upgrade(url)
        organization_id, key = _organization_and_key(url)
        started = time.perf_counter()
        dataset = asyncio.run(load_postgres(plain, organization_id, args.people, args.nights))
        load_seconds = time.perf_counter() - started
        with _server(url, tmp) as base:
            result = measure("PostgreSQL", base, key, dataset, load_seconds, args)
        comparison = asyncio.run(compare_in_process(url, organization_id, args))
        seconds, plan = asyncio.run(_query_postgres(plain, organization_id, args))
        return dataclasses.replace(result, query_seconds=seconds, plan=plan, comparison=comparison)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def report(results: list[Result], args: Any, load: tuple[tuple[float, ...], ...]) -> None:
    _out(
        f"somna {__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{args.people:,} people x {args.nights} nights, organisation statistics over "
        f"{args.nights} days; load average (1/5/15 min) at start "
        f"{'/'.join(f'{x:.2f}' for x in load[0])}, at end {'/'.join(f'{x:.2f}' for x in load[1])}\n"
    )
    _out(
        "| backend | rows stored | bulk load | organisation statistics over HTTP (median of "
        f"{args.repeat}) | grouped query alone (median) | seed loop, measured | "
        "seed loop, all people | speed-up | weekly report (median / max) |"
    )
    _out("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        sampled = r.seed_people < len(r.dataset.people)
        seed_note = f"{r.seed_seconds:.1f} s for {r.seed_people:,} people"
        full = f"{'~' if sampled else ''}{r.seed_full_estimate:,.0f} s"
        full += " (extrapolated)" if sampled else ""
        _out(
            f"| {r.backend} | {r.dataset.sessions:,} ({r.dataset.duplicates:,} duplicates), "
            f"{r.dataset.recoveries:,} recoveries | "
            f"{r.load_seconds:.0f} s | {r.org_median * 1000:,.0f} ms "
            f"(min {min(r.org_seconds) * 1000:,.0f}) | "
            f"{statistics.median(r.query_seconds) * 1000:,.0f} ms | {seed_note} | {full} | "
            f"{r.seed_full_estimate / r.org_median:,.0f}x | "
            f"{statistics.median(r.weekly_seconds) * 1000:.1f} / "
            f"{max(r.weekly_seconds) * 1000:.1f} ms |"
        )
    _out(
        "\nOrganisation statistics in process, alternating (median of "
        f"{args.repeat}, min in brackets):\n\n"
        "| backend | before issue 16 | with the new distributions | added | statements "
        "before / now |\n|---|---:|---:|---:|---:|"
    )
    for r in results:
        c = r.comparison
        if c is None:
            continue
        before, now = statistics.median(c.previous_seconds), statistics.median(c.current_seconds)
        _out(
            f"| {r.backend} | {before * 1000:,.0f} ms (min {min(c.previous_seconds) * 1000:,.0f})"
            f" | {now * 1000:,.0f} ms (min {min(c.current_seconds) * 1000:,.0f}) | "
            f"+{(now - before) * 1000:,.0f} ms | {c.previous_statements} / "
            f"{c.current_statements} |"
        )
    for r in results:
        _out(
            f"\n{r.backend}: {r.org_people_with_data:,} people with data, "
            f"{r.org_total_nights:,} nights counted (duplicates counted once)."
        )
        if r.plan:
            _out(f"\nEXPLAIN (ANALYZE, BUFFERS) of the grouped query:\n\n{r.plan}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--nights", type=int, default=90)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--weekly-repeat", type=int, default=30)
    parser.add_argument("--seed-sample", type=int, default=300)
    parser.add_argument("--seed-seconds", type=float, default=60.0)
    parser.add_argument(
        "--explain", action="store_true", help="print the PostgreSQL plan of the grouped query"
    )
    args = parser.parse_args()
    pin(1)
    started_load = os.getloadavg()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            run = run_sqlite if backend == "sqlite" else run_postgres
            results.append(run(args, Path(tmp)))
    report(results, args, (started_load, os.getloadavg()))


if __name__ == "__main__":
    main()
