"""Sync throughput and provider-budget use, each next to its baseline in the same run.

    .venv/bin/python -m benchmarks.sync                  # (a) and (b), about four minutes
    .venv/bin/python -m benchmarks.sync --part a --people 20
    .venv/bin/python -m benchmarks.sync --part b --people 40

(a) Records per second end to end (WHOOP sandbox with no latency and no limit -> provider
    client -> mapper -> upsert with its checkpoint, one transaction per page), next to the raw
    rate of fetching and mapping the same pages without storing them; on SQLite and, when it
    answers, PostgreSQL.
(b) 40 people x 90 days against a sandbox with 100 ms latency and a 600 requests/minute limit,
    Somna paced at the same 600/minute (embedded queue, 16 jobs at once): wall time against the
    lower bound (requests / allowed rate), 429s, and requests against the minimum the pages
    need; next to a sequential loop over people (fetch every page of one person, then the next,
    retrying 429s as they come), as batch scripts do.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from benchmarks._load import SECRET
from somna import __version__, migrations
from somna.config import Settings
from somna.connections.clients import encrypted_tokens, provider_for_new_tokens, token_box
from somna.db import create_engine, create_sessionmaker
from somna.jobs.runtime import JobRuntime
from somna.kit.time import utc_now
from somna.logging import configure_logging
from somna.models import Connection, Organization, Person
from somna.providers.base import Collection, TimeWindow
from somna.providers.oauth import TokenSet, parse_token_response
from somna.records.repository import COLLECTION_MODELS
from somna.sandbox import WhoopConfig, WhoopSandbox
from somna.sync.engine import SyncServices
from somna.sync.pacer import MemoryPacer, provider_budgets
from somna.sync.service import request_sync, sync_connections

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
COLLECTIONS: tuple[Collection, ...] = (
    "sleep",
    "recovery",
    "cycles",
    "workouts",
    "body_measurements",
)
PAGE = 25


# --- databases --------------------------------------------------------------------------------


class Database:
    """A fresh, migrated database for one measurement (a temp SQLite file or a PG database)."""

    def __init__(self, kind: str, base: str, workdir: Path) -> None:
        self.kind = kind
        if kind == "sqlite":
            self.url = f"sqlite+aiosqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.db'}"
            self._admin = None
        else:
            name = f"somna_bench_{uuid.uuid4().hex[:10]}"
            parsed = make_url(base)
            self.url = parsed.set(database=name).render_as_string(hide_password=False)
            self._admin = parsed.set(drivername="postgresql+psycopg").render_as_string(
                hide_password=False
            )
            self._name = name

    def __enter__(self) -> Database:
        if self._admin is not None:
            engine = create_sync_engine(self._admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self._name}"'))
            engine.dispose()
        migrations.upgrade(self.url)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._admin is not None:
            engine = create_sync_engine(self._admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)'))
            engine.dispose()


def postgres_available(url: str) -> bool:
    admin = make_url(url).set(drivername="postgresql+psycopg").render_as_string(False)
    try:
        engine = create_sync_engine(admin)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:
        return False
    return True


def settings_for(url: str, workdir: Path, whoop: WhoopSandbox, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "data_dir": workdir,
        "secret_key": SecretStr(SECRET),
        "environment": "test",
        "log_level": "ERROR",
        "sync_page_size": PAGE,
        "sync_backfill_days": 90,
        **whoop.settings_overrides(),
        **extra,
    }
    return Settings(_env_file=None, **values)


async def arrange(settings: Settings, whoop: WhoopSandbox) -> list[uuid.UUID]:
    """An organisation with one WHOOP connection per sandbox member."""
    engine = create_engine(settings.database_url)
    box = token_box(settings)
    ids: list[uuid.UUID] = []
    async with create_sessionmaker(engine)() as session:
        organization = Organization(name="bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
        session.add(organization)
        await session.flush()
        for member in whoop.members:
            person = Person(organization_id=organization.id, email=f"{member.user_id}@bench.test")
            session.add(person)
            await session.flush()
            tokens = fresh_tokens(whoop, member.user_id)
            connection = Connection(
                organization_id=organization.id,
                person_id=person.id,
                provider="whoop",
                provider_user_id=str(member.user_id),
                status="active",
                scopes=list(tokens.scopes),
                **encrypted_tokens(box, tokens),
            )
            session.add(connection)
            await session.flush()
            ids.append(connection.id)
        await session.commit()
    await engine.dispose()
    return ids


def fresh_tokens(whoop: WhoopSandbox, user_id: int) -> TokenSet:
    return parse_token_response("whoop", whoop.issue_tokens(user_id), now=utc_now())


async def stored_records(settings: Settings) -> int:
    engine = create_engine(settings.database_url)
    total = 0
    async with create_sessionmaker(engine)() as session:
        for model in COLLECTION_MODELS.values():
            total += int(await session.scalar(select(func.count()).select_from(model)) or 0)
    await engine.dispose()
    return total


# --- fetching without storing (the baselines) -------------------------------------------------


@dataclass
class FetchResult:
    records: int = 0
    requests: int = 0
    rate_limited: int = 0


async def fetch_person(settings: Settings, whoop: WhoopSandbox, user_id: int) -> FetchResult:
    """Every page of one person, fetched and mapped, nothing stored."""
    provider = provider_for_new_tokens(
        settings, "whoop", fresh_tokens(whoop, user_id), provider_user_id=str(user_id)
    )
    now = utc_now()
    window = TimeWindow(now - timedelta(days=settings.sync_backfill_days), now)
    result = FetchResult()
    try:
        for collection in COLLECTIONS:
            cursor: str | None = None
            while True:
                page = await provider.fetch_page(collection, window, cursor, limit=PAGE)
                result.records += len(page.records)
                cursor = page.next_cursor
                if cursor is None:
                    break
    finally:
        await provider.aclose()
    result.requests = provider.stats.requests
    result.rate_limited = provider.stats.rate_limited
    return result


async def fetch_all(
    settings: Settings, whoop: WhoopSandbox, *, concurrency: int
) -> tuple[FetchResult, float]:
    slots = asyncio.Semaphore(concurrency)

    async def one(user_id: int) -> FetchResult:
        async with slots:
            return await fetch_person(settings, whoop, user_id)

    started = time.perf_counter()
    parts = await asyncio.gather(*(one(member.user_id) for member in whoop.members))
    elapsed = time.perf_counter() - started
    total = FetchResult()
    for part in parts:
        total.records += part.records
        total.requests += part.requests
        total.rate_limited += part.rate_limited
    return total, elapsed


# --- (a) throughput ---------------------------------------------------------------------------


async def part_a(people: int, postgres: str | None, concurrency: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    config = WhoopConfig(seed=5, days=90, per_minute=10**9, per_day=10**9)
    with WhoopSandbox(config, people=people) as whoop, tempfile.TemporaryDirectory() as tmp:
        whoop.freeze_clock(utc_now())
        workdir = Path(tmp)
        kinds = ["sqlite"] + (["postgresql"] if postgres else [])
        raw_settings = settings_for("sqlite+aiosqlite:///unused.db", workdir, whoop)
        raw, raw_seconds = await fetch_all(raw_settings, whoop, concurrency=concurrency)
        for kind in kinds:
            with Database(kind, postgres or "", workdir) as database:
                settings = settings_for(database.url, workdir, whoop, whoop_requests_per_minute=0)
                ids = await arrange(settings, whoop)
                engine = create_engine(settings.database_url)
                services = SyncServices(
                    settings,
                    create_sessionmaker(engine),
                    MemoryPacer(provider_budgets(settings), max_wait=60),
                )
                started = time.perf_counter()
                outcomes = await sync_connections(services, ids, concurrency=concurrency)
                seconds = time.perf_counter() - started
                await engine.dispose()
                assert all(o.status == "succeeded" for o in outcomes), outcomes
                stored = await stored_records(settings)
                rows.append(
                    {
                        "database": kind,
                        "records": stored,
                        "seconds": seconds,
                        "per_second": stored / seconds,
                        "raw_per_second": raw.records / raw_seconds,
                        "ratio": (stored / seconds) / (raw.records / raw_seconds),
                        "raw_records": raw.records,
                    }
                )
    return rows


# --- (b) budget use -----------------------------------------------------------------------------


def minimum_requests(whoop: WhoopSandbox) -> int:
    """Pages the data needs at 25 a page (at least one per collection), plus the body call."""
    total = 0
    world = whoop.world
    with world.lock:
        for member in world.members.values():
            sizes = (
                len(world.sleeps(member)),
                len(world.recoveries(member)),
                len(world.cycles(member)),
                len(world.workouts(member)),
            )
            total += sum(max(1, math.ceil(n / PAGE)) for n in sizes) + 1
    return total


def count_refusals(whoop: WhoopSandbox) -> list[int]:
    """Count the sandbox's 429s (its limiter records admitted requests only)."""
    refused = [0]
    original = whoop.limiter.check

    def check() -> Any:
        decision = original()
        if not decision.allowed:
            refused[0] += 1
        return decision

    whoop.limiter.check = check  # type: ignore[method-assign]
    return refused


async def part_b(people: int, per_minute: int, latency: float, workers: int) -> dict[str, Any]:
    config = WhoopConfig(seed=9, days=90, per_minute=per_minute, per_day=10**9)
    result: dict[str, Any] = {"people": people, "per_minute": per_minute, "latency": latency}
    with WhoopSandbox(config, people=people) as whoop, tempfile.TemporaryDirectory() as tmp:
        whoop.freeze_clock(utc_now())
        whoop.set_faults(latency_seconds=latency)
        refused = count_refusals(whoop)
        result["minimum"] = minimum_requests(whoop)
        rate = per_minute / 60

        # Somna: the embedded queue, paced at the sandbox's limit.
        workdir = Path(tmp)
        with Database("sqlite", "", workdir) as database:
            settings = settings_for(
                database.url,
                workdir,
                whoop,
                whoop_requests_per_minute=per_minute,
                worker_concurrency=workers,
                job_poll_seconds=0.2,
            )
            ids = await arrange(settings, whoop)
            engine = create_engine(settings.database_url)
            runtime = JobRuntime(settings, create_sessionmaker(engine))
            await runtime.start()
            async with create_sessionmaker(engine)() as session, session.begin():
                for connection_id in ids:
                    connection = await session.get(Connection, connection_id)
                    assert connection is not None
                    await request_sync(session, runtime.queue, connection, trigger="cli")
            before = whoop.request_count()
            started = time.perf_counter()
            await runtime.run_until_idle()
            seconds = time.perf_counter() - started
            await runtime.aclose()
            await engine.dispose()
            requests = whoop.request_count() - before
            result["somna"] = {
                "seconds": seconds,
                "requests": requests,
                "refused": refused[0],
                "bound": requests / rate,
                "utilisation": (requests / rate) / seconds,
                "records": await stored_records(settings),
                "max_per_minute": whoop.max_requests_in_window(60),
            }

        # The sequential loop: one person after another, no shared pacing.
        refused[0] = 0
        whoop.limiter.reset()
        plain = settings_for("sqlite+aiosqlite:///unused.db", workdir, whoop)
        started = time.perf_counter()
        fetched = FetchResult()
        for member in whoop.members:
            part = await fetch_person(plain, whoop, member.user_id)
            fetched.records += part.records
            fetched.requests += part.requests
        seconds = time.perf_counter() - started
        admitted = whoop.request_count()
        result["sequential"] = {
            "seconds": seconds,
            "requests": fetched.requests,
            "refused": refused[0],
            "bound": admitted / rate,
            "utilisation": (admitted / rate) / seconds,
            "records": fetched.records,
            "max_per_minute": whoop.max_requests_in_window(60),
        }
    return result


# --- report -------------------------------------------------------------------------------------


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def report_a(rows: Sequence[dict[str, Any]]) -> None:
    say("\n(a) records per second, end to end vs fetch-and-map only")
    say(f"{'database':<11}{'records':>9}{'seconds':>9}{'rec/s':>9}{'raw rec/s':>11}{'ratio':>7}")
    for row in rows:
        say(
            f"{row['database']:<11}{row['records']:>9}{row['seconds']:>9.2f}"
            f"{row['per_second']:>9.0f}{row['raw_per_second']:>11.0f}{row['ratio']:>7.2f}"
        )


def report_b(result: dict[str, Any]) -> None:
    say(
        f"\n(b) {result['people']} people x 90 days, {result['latency'] * 1000:.0f} ms latency, "
        f"limit {result['per_minute']}/min; minimum requests {result['minimum']}"
    )
    say(
        f"{'':<12}{'seconds':>9}{'bound s':>9}{'util.':>7}{'requests':>10}"
        f"{'vs min':>8}{'429s':>6}{'max/min':>9}{'records':>9}"
    )
    for name in ("somna", "sequential"):
        row = result[name]
        say(
            f"{name:<12}{row['seconds']:>9.1f}{row['bound']:>9.1f}{row['utilisation']:>7.2f}"
            f"{row['requests']:>10}{row['requests'] / result['minimum']:>8.3f}"
            f"{row['refused']:>6}{row['max_per_minute']:>9}{row['records']:>9}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["a", "b", "all"], default="all")
    parser.add_argument("--people", type=int, default=None)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="'' to skip PostgreSQL")
    parser.add_argument("--per-minute", type=int, default=600)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    configure_logging("ERROR", "console")
    say(f"somna {__version__}, Python {platform.python_version()}, {platform.machine()}")
    if args.part in ("a", "all"):
        postgres = args.postgres if args.postgres and postgres_available(args.postgres) else None
        if args.postgres and postgres is None:
            say("PostgreSQL does not answer; (a) runs on SQLite only")
        report_a(asyncio.run(part_a(args.people or 20, postgres, concurrency=8)))
    if args.part in ("b", "all"):
        report_b(
            asyncio.run(part_b(args.people or 40, args.per_minute, args.latency, args.workers))
        )


if __name__ == "__main__":
    main()
