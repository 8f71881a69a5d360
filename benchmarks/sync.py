"""Sync throughput and provider-budget use, each next to its baseline in the same run.

    .venv/bin/python -m benchmarks.sync                  # (a) and (b), about five minutes
    .venv/bin/python -m benchmarks.sync --part a --people 20 --rounds 3
    .venv/bin/python -m benchmarks.sync --part a --people 5 --postgres ''   # a quick look
    .venv/bin/python -m benchmarks.sync --part b --people 40 --modes distributed

(a) Records per second end to end (WHOOP sandbox with no latency and no limit -> provider
    client -> mapper -> upsert with its checkpoint, one transaction per page), next to the raw
    rate of fetching and mapping the same pages, by the same client on the same transport,
    without storing them; on SQLite and, when it answers, PostgreSQL.
(b) 40 people x 90 days against a sandbox with 100 ms latency and a 600 requests/minute limit,
    Somna paced at the same 600/minute: wall time against the lower bound (requests / allowed
    rate), 429s, and requests against the minimum the pages need. Three ways: distributed (two
    ``somna worker`` processes on PostgreSQL/Procrastinate, 8 jobs each, and a concurrent
    ``somna admin sync`` of the same organisation, all on one Redis pacer), embedded (one
    process, 16 jobs at once), and a sequential loop over people (fetch every page of one
    person, then the next, retrying 429s as they come), as batch scripts do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import signal
import subprocess
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
from somna.models import Connection, Organization, Person, SyncRun
from somna.models.sync_run import HOLDING_STATUSES
from somna.pacing import MemoryPacer, provider_budgets
from somna.providers.base import Collection, TimeWindow
from somna.kit.http import new_transport
from somna.providers.oauth import TokenSet, parse_token_response
from somna.records.repository import COLLECTION_MODELS
from somna.sandbox import WhoopConfig, WhoopSandbox
from somna.sync.batch import sync_connections
from somna.sync.engine import SyncServices
from somna.sync.service import request_sync

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
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


async def arrange(
    settings: Settings, whoop: WhoopSandbox, slug: str | None = None
) -> list[uuid.UUID]:
    """An organisation (``slug``) with one WHOOP connection per sandbox member."""
    engine = create_engine(settings.database_url)
    box = token_box(settings)
    ids: list[uuid.UUID] = []
    async with create_sessionmaker(engine)() as session:
        organization = Organization(name="bench", slug=slug or f"bench-{uuid.uuid4().hex[:8]}")
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
    # The transport a sync's client gets (without the pacer): the comparison is the store.
    provider = provider_for_new_tokens(
        settings,
        "whoop",
        fresh_tokens(whoop, user_id),
        provider_user_id=str(user_id),
        transport=new_transport(),
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


async def part_a(
    people: int, postgres: str | None, concurrency: int, rounds: int = 1
) -> list[dict[str, Any]]:
    """``rounds`` rounds of the raw fetch and each database in turn; the best of each counts
    (as in the other benchmarks here), so load from elsewhere hurts each setup alike."""
    config = WhoopConfig(seed=5, days=90, per_minute=10**9, per_day=10**9)
    kinds = ["sqlite"] + (["postgresql"] if postgres else [])
    best_raw: tuple[int, float] | None = None
    best: dict[str, tuple[int, float]] = {}
    with WhoopSandbox(config, people=people) as whoop, tempfile.TemporaryDirectory() as tmp:
        whoop.freeze_clock(utc_now())
        workdir = Path(tmp)
        raw_settings = settings_for("sqlite+aiosqlite:///unused.db", workdir, whoop)
        for _ in range(rounds):
            raw, raw_seconds = await fetch_all(raw_settings, whoop, concurrency=concurrency)
            if best_raw is None or raw_seconds < best_raw[1]:
                best_raw = (raw.records, raw_seconds)
            for kind in kinds:
                stored, seconds = await sync_once(kind, postgres, workdir, whoop, concurrency)
                if kind not in best or seconds < best[kind][1]:
                    best[kind] = (stored, seconds)
    assert best_raw is not None
    raw_rate = best_raw[0] / best_raw[1]
    return [
        {
            "database": kind,
            "records": stored,
            "seconds": seconds,
            "per_second": stored / seconds,
            "raw_per_second": raw_rate,
            "ratio": (stored / seconds) / raw_rate,
            "raw_records": best_raw[0],
        }
        for kind, (stored, seconds) in best.items()
    ]


async def sync_once(
    kind: str, postgres: str | None, workdir: Path, whoop: WhoopSandbox, concurrency: int
) -> tuple[int, float]:
    """Every member synced into a fresh database: records stored, seconds."""
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
        return await stored_records(settings), seconds


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


async def part_b(
    people: int, per_minute: int, latency: float, workers: int, *, modes: set[str]
) -> dict[str, Any]:
    config = WhoopConfig(seed=9, days=90, per_minute=per_minute, per_day=10**9)
    result: dict[str, Any] = {"people": people, "per_minute": per_minute, "latency": latency}
    with WhoopSandbox(config, people=people) as whoop, tempfile.TemporaryDirectory() as tmp:
        whoop.freeze_clock(utc_now())
        whoop.set_faults(latency_seconds=latency)
        refused = count_refusals(whoop)
        result["minimum"] = minimum_requests(whoop)
        rate = per_minute / 60

        workdir = Path(tmp)
        # Somna: the embedded queue, paced at the sandbox's limit.
        if "embedded" in modes:
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
        if "sequential" in modes:
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


# --- (b) distributed: two workers and the CLI at once, one Redis pacer ---------------------------


def redis_available(url: str) -> bool:
    from redis import Redis

    try:
        client = Redis.from_url(url, socket_timeout=2)
        client.ping()
        client.close()
    except Exception:
        return False
    return True


def process_env(settings: Settings, **extra: Any) -> dict[str, str]:
    """``settings`` as the SOMNA_ variables a worker or CLI subprocess reads."""
    assert settings.secret_key is not None
    values: dict[str, Any] = {
        "database_url": settings.database_url,
        "secret_key": settings.secret_key.get_secret_value(),
        "environment": settings.environment,
        "data_dir": settings.data_dir,
        "log_level": "WARNING",
        "redis_url": settings.redis_url,
        "redis_prefix": settings.redis_prefix,
        "whoop_api_base": settings.whoop_api_base,
        "whoop_oauth_base": settings.whoop_oauth_base,
        "whoop_client_id": settings.whoop_client_id,
        "whoop_client_secret": settings.whoop_client_secret.get_secret_value(),
        "whoop_requests_per_minute": settings.whoop_requests_per_minute,
        "sync_page_size": settings.sync_page_size,
        "sync_backfill_days": settings.sync_backfill_days,
        "sync_interval_minutes": 0,
        "job_poll_seconds": settings.job_poll_seconds,
        **extra,
    }
    env = {key: value for key, value in os.environ.items() if not key.startswith("SOMNA_")}
    env.update({f"SOMNA_{key.upper()}": str(value) for key, value in values.items()})
    return env


def start_somna(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "somna", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_somna(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def run_states(settings: Settings) -> tuple[dict[str, int], dict[str, int]]:
    """Runs by status, and finished runs by who executed them (``job`` or ``cli``)."""
    engine = create_engine(settings.database_url)
    statuses: dict[str, int] = {}
    executors: dict[str, int] = {}
    async with create_sessionmaker(engine)() as session:
        for status, owner in await session.execute(select(SyncRun.status, SyncRun.owner)):
            statuses[status] = statuses.get(status, 0) + 1
            kind = (owner or "none").split(":", 1)[0]
            executors[kind] = executors.get(kind, 0) + 1
    await engine.dispose()
    return statuses, executors


async def part_b_distributed(
    people: int,
    per_minute: int,
    latency: float,
    concurrency: int,
    postgres: str,
    redis_url: str,
) -> dict[str, Any]:
    """Two ``somna worker`` processes (Procrastinate on PostgreSQL) and a ``somna admin sync``
    at once, all paced by one Redis pacer: the API queues a run of every connection, the
    CLI syncs the whole organisation in the same moment. Each connection is synced once,
    by whichever executor claims its run first; the CLI skips those a worker holds."""
    config = WhoopConfig(seed=9, days=90, per_minute=per_minute, per_day=10**9)
    with (
        WhoopSandbox(config, people=people) as whoop,
        tempfile.TemporaryDirectory() as tmp,
        Database("postgresql", postgres, Path(tmp)) as database,
    ):
        whoop.freeze_clock(utc_now())
        whoop.set_faults(latency_seconds=latency)
        refused = count_refusals(whoop)
        workdir = Path(tmp)
        settings = settings_for(
            database.url,
            workdir,
            whoop,
            whoop_requests_per_minute=per_minute,
            redis_url=redis_url,
            redis_prefix=f"somna-bench-{uuid.uuid4().hex[:8]}:",
            job_poll_seconds=0.2,
            worker_concurrency=concurrency,
        )
        slug = f"bench-{uuid.uuid4().hex[:8]}"
        ids = await arrange(settings, whoop, slug)
        env = process_env(settings)
        logs = [workdir / f"worker-{n}.log" for n in (1, 2)]
        workers = [
            start_somna(env, log, "worker", "--concurrency", str(concurrency)) for log in logs
        ]
        cli: subprocess.Popen[bytes] | None = None
        try:
            deadline = time.monotonic() + 60
            while not all("Somna worker" in log.read_text(errors="replace") for log in logs):
                if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                    raise RuntimeError("the workers did not start: " + logs[0].read_text())
                await asyncio.sleep(0.1)
            await asyncio.sleep(2.0)  # the queue opened and listening
            before = whoop.request_count()
            started = time.perf_counter()
            # The API's way: a queued run per connection, sent to the workers after commit.
            engine = create_engine(settings.database_url)
            sessionmaker = create_sessionmaker(engine)
            runtime = JobRuntime(settings, sessionmaker)
            await runtime.start()
            async with sessionmaker() as session, session.begin():
                for connection_id in ids:
                    connection = await session.get(Connection, connection_id)
                    assert connection is not None
                    await request_sync(session, runtime.queue, connection, trigger="manual")
            await runtime.aclose()
            await engine.dispose()
            # And at once an operator's batch sync of the same organisation.
            cli_log = workdir / "cli.json"
            cli = start_somna(
                env, cli_log, "admin", "sync", "--org", slug, "--json", "--concurrency",
                str(concurrency),
            )  # fmt: skip
            while True:
                statuses, executors = await run_states(settings)
                pending = sum(statuses.get(s, 0) for s in ("queued", *HOLDING_STATUSES))
                if cli.poll() is not None and pending == 0:
                    break
                if time.perf_counter() - started > 900:
                    raise RuntimeError(f"no end after 15 minutes: {statuses}")
                await asyncio.sleep(0.1)
            seconds = time.perf_counter() - started
        finally:
            if cli is not None:
                stop_somna(cli)
            for worker in workers:
                stop_somna(worker)
        summary = json.loads(cli_log.read_text())
        requests = whoop.request_count() - before
        rate = per_minute / 60
        return {
            "seconds": seconds,
            "requests": requests,
            "refused": refused[0],
            "bound": requests / rate,
            "utilisation": (requests / rate) / seconds,
            "records": await stored_records(settings),
            "max_per_minute": whoop.max_requests_in_window(60),
            "minimum": minimum_requests(whoop),
            "statuses": statuses,
            "executors": executors,
            "cli_synced": int(summary.get("succeeded", 0)),
            "cli_busy": len(summary.get("skipped") or []),
            "cli_exit": cli.returncode if cli is not None else None,
        }


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
        f"{'':<26}{'seconds':>9}{'bound s':>9}{'util.':>7}{'requests':>10}"
        f"{'vs min':>8}{'429s':>6}{'max/min':>9}{'records':>9}"
    )
    for name, label in (
        ("distributed", "2 workers + CLI, Redis"),
        ("somna", "embedded, one process"),
        ("sequential", "sequential loop"),
    ):
        row = result.get(name)
        if row is None:
            continue
        say(
            f"{label:<26}{row['seconds']:>9.1f}{row['bound']:>9.1f}{row['utilisation']:>7.2f}"
            f"{row['requests']:>10}{row['requests'] / result['minimum']:>8.3f}"
            f"{row['refused']:>6}{row['max_per_minute']:>9}{row['records']:>9}"
        )
    distributed = result.get("distributed")
    if distributed is not None:
        say(
            f"distributed runs: {distributed['statuses']}, executed by {distributed['executors']}; "
            f"the CLI synced {distributed['cli_synced']} and skipped {distributed['cli_busy']} "
            f"busy (exit {distributed['cli_exit']})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["a", "b", "all"], default="all")
    parser.add_argument("--people", type=int, default=None)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="'' to skip PostgreSQL")
    parser.add_argument("--per-minute", type=int, default=600)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1, help="(a): best of this many rounds")
    parser.add_argument(
        "--modes",
        default="distributed,embedded,sequential",
        help="(b): which of distributed, embedded, sequential to run",
    )
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="'' to skip the distributed (b)")
    args = parser.parse_args()
    configure_logging("ERROR", "console")
    say(f"somna {__version__}, Python {platform.python_version()}, {platform.machine()}")
    if args.part in ("a", "all"):
        postgres = args.postgres if args.postgres and postgres_available(args.postgres) else None
        if args.postgres and postgres is None:
            say("PostgreSQL does not answer; (a) runs on SQLite only")
        report_a(
            asyncio.run(part_a(args.people or 20, postgres, concurrency=8, rounds=args.rounds))
        )
    if args.part in ("b", "all"):
        modes = set(args.modes.split(","))
        people = args.people or 40
        result = asyncio.run(
            part_b(people, args.per_minute, args.latency, args.workers, modes=modes)
        )
        if "distributed" in modes:
            postgres = (
                args.postgres if args.postgres and postgres_available(args.postgres) else None
            )
            redis = args.redis if args.redis and redis_available(args.redis) else None
            if postgres is None or redis is None:
                say("PostgreSQL or Redis does not answer: no distributed (b)")
            else:
                # Two workers of half the slots each: the same 16 jobs at once as embedded.
                result["distributed"] = asyncio.run(
                    part_b_distributed(
                        people, args.per_minute, args.latency, max(1, args.workers // 2),
                        postgres, redis,
                    )
                )  # fmt: skip
        report_b(result)


if __name__ == "__main__":
    main()
