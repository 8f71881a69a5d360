"""Events per second through ``POST /api/analytics/batch`` (batches of 100) against a raw bulk
insert of the same kind of events, on PostgreSQL, in one run.

    .venv/bin/python -m benchmarks.events [--seconds 4] [--rounds 3] [--connections 16]

The server is the real app (``somna.app:create_app``) in two uvicorn worker processes, with
the Redis rate limiter (one call per batch, charged 100 events) when Redis answers. The load
generator runs in this process over keep-alive loopback connections; every event is new and
carries its own ``event_id``. The baseline inserts the same kind of events from this process
with asyncpg alone: the server's own statement (``INSERT ... SELECT * FROM unnest(...) ON
CONFLICT DO NOTHING RETURNING id``) per 100 rows, one transaction per batch, on one connection
and on as many connections as the load uses; the ratio is taken against the faster. A scratch
database is created and dropped; the whole run takes about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks._load import SECRET, BenchKey, make_key, read_response, serve
from somna import __version__, migrations

PACKAGE = "bench-package"
BATCH = 100


def make_events(count: int) -> list[dict[str, Any]]:
    """``count`` distinct, valid events as an SDK would send them."""
    start = datetime.now(UTC) - timedelta(hours=1)
    sessions = [str(uuid.uuid4()) for _ in range(max(1, count // 20))]
    return [
        {
            "session_id": sessions[index % len(sessions)],
            "event_id": str(uuid.uuid4()),
            "package_name": PACKAGE,
            "package_version": f"1.{index % 7}.0",
            "python_version": f"3.{10 + index % 4}.{index % 9}",
            "python_implementation": "CPython",
            "os_type": ("Linux", "Darwin", "Windows")[index % 3],
            "os_version": "6.1.0-18-amd64",
            "architecture": "x86_64",
            "installation_method": ("pip", "uv", "conda")[index % 3],
            "virtual_env": True,
            "cpu_count": 8,
            "total_memory_gb": 16,
            "entry_point": "bench_package.cli:main",
            "event_timestamp": (start + timedelta(milliseconds=index)).isoformat(),
            "extra_data": {"feature": f"f{index % 5}"},
        }
        for index in range(count)
    ]


# --- the database ---------------------------------------------------------------------------


@contextmanager
def scratch_database(base_url: str) -> Iterator[str]:
    base = make_url(base_url)
    name = f"somna_bench_{uuid.uuid4().hex[:10]}"
    admin = base.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        migrations.upgrade(url)
        yield url
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


# --- the raw baseline -----------------------------------------------------------------------


def _raw_statement() -> str:
    """The server's own PostgreSQL statement (one array per column, unnested), in asyncpg's
    ``$n`` placeholders."""
    from somna.events.repository import UNNEST_COLUMNS, UNNEST_INSERT

    sql = str(UNNEST_INSERT)
    for position, name in enumerate(UNNEST_COLUMNS, start=1):
        sql = sql.replace(f":{name} ", f"${position} ", 1)
    return sql


def _raw_batches(events: list[dict[str, Any]], key: BenchKey) -> list[list[list[Any]]]:
    """The events as the server would bind them: per batch of 100, one list per column."""
    from somna.events.repository import UNNEST_COLUMNS

    now = datetime.now(UTC)
    batches = []
    for offset in range(0, len(events) - BATCH + 1, BATCH):
        chunk = events[offset : offset + BATCH]
        fixed = {
            "id": [uuid.uuid4() for _ in chunk],
            "organization_id": [key.organization_id] * BATCH,
            "api_key_id": [key.key_id] * BATCH,
            "client_event_id": [event["event_id"] for event in chunk],
            "session_id": [uuid.UUID(event["session_id"]) for event in chunk],
            "extra_data": [json.dumps(event["extra_data"]) for event in chunk],
            "event_timestamp": [datetime.fromisoformat(e["event_timestamp"]) for e in chunk],
            "received_at": [now] * BATCH,
            "total_memory_gb": [float(event["total_memory_gb"]) for event in chunk],
        }
        batches.append(
            [
                fixed[name] if name in fixed else [event.get(name) for event in chunk]
                for name in UNNEST_COLUMNS
            ]
        )
    return batches


async def raw_insert(
    database_url: str, key: BenchKey, events: list[dict[str, Any]], connections: int
) -> float:
    """Events per second of asyncpg alone: the server's statement per 100 events, one
    transaction each, on ``connections`` connections of one process."""
    import asyncpg

    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    statement = _raw_statement()
    batches = _raw_batches(events, key)
    stored = 0
    pool = await asyncpg.create_pool(dsn, min_size=connections, max_size=connections)

    async def worker() -> None:
        nonlocal stored
        async with pool.acquire() as connection:
            while batches:
                arrays = batches.pop()
                async with connection.transaction():
                    returned = await connection.fetch(statement, *arrays)
                stored += len(returned)  # after the await: += around one would lose counts

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    finally:
        await pool.close()
    assert stored == len(events) // BATCH * BATCH, "the baseline must store every event"
    return stored / elapsed


# --- the server and the load ----------------------------------------------------------------


def _request(port: int, key: str, events: list[dict[str, Any]]) -> bytes:
    body = json.dumps({"events": events}).encode()
    head = (
        f"POST /api/analytics/batch HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _connection(
    port: int, requests: list[bytes], stop_at: float, counts: dict[str, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while requests and time.perf_counter() < stop_at:
            writer.write(requests.pop())
            status, body = await read_response(reader)
            if status == b"200" and b'"created_count":100' in body:
                counts["events"] += BATCH
            else:
                counts["errors"] += 1
    finally:
        writer.close()


async def load(port: int, requests: list[bytes], connections: int, seconds: float) -> float:
    """Events per second created over ``seconds`` (or until ``requests`` run out)."""
    counts = {"events": 0, "errors": 0}
    started = time.perf_counter()
    await asyncio.gather(
        *(_connection(port, requests, started + seconds, counts) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    if counts["errors"]:
        raise SystemExit(f"{counts['errors']} batches were not fully created")
    return counts["events"] / elapsed


def _redis_answers(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="Per round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "SOMNA_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("SOMNA_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    args = parser.parse_args()
    # Enough distinct events for a round at up to 40,000 events per second.
    per_round = int(args.seconds * 40_000) // BATCH
    with scratch_database(args.database_url) as database_url:
        key = asyncio.run(
            make_key(
                database_url,
                permissions=["write"],
                scopes=["events"],
                package_name=PACKAGE,
                events_per_hour=1_000_000_000,
            )
        )
        env = {
            **os.environ,
            "SOMNA_DATABASE_URL": database_url,
            "SOMNA_SECRET_KEY": SECRET,
            "SOMNA_LOG_LEVEL": "WARNING",
        }
        redis = _redis_answers(args.redis_url)
        if redis:
            env["SOMNA_REDIS_URL"] = args.redis_url
            env["SOMNA_REDIS_PREFIX"] = f"somna-bench-{uuid.uuid4().hex[:8]}:"
        else:
            env.pop("SOMNA_REDIS_URL", None)
        rates: list[float] = []
        health = "/api/analytics/health"
        with serve("somna.app:create_app", env, ready_path=health, workers=args.workers) as port:
            warm = [_request(port, key.key, make_events(BATCH)) for _ in range(50)]
            asyncio.run(load(port, warm, args.connections, 1.0))
            for _ in range(args.rounds):
                requests = [_request(port, key.key, make_events(BATCH)) for _ in range(per_round)]
                rates.append(asyncio.run(load(port, requests, args.connections, args.seconds)))
                sys.stderr.write(f"round: {rates[-1]:,.0f} events/s\n")
        raw = {
            count: max(
                asyncio.run(raw_insert(database_url, key, make_events(40_000), count))
                for _ in range(2)
            )
            for count in (1, args.connections)
        }
    _report(max(rates), raw, redis, args)


def _report(api: float, raw: dict[int, float], redis: bool, args: argparse.Namespace) -> None:
    limiter = "Redis" if redis else "memory (per process)"
    best = max(raw.values())
    lines = [
        f"somna {__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{args.workers} server processes, {args.connections} connections, rate limiter: "
        f"{limiter}, best of {args.rounds} rounds of {args.seconds:g} s",
        "",
        "| setup | events/s | of the best raw insert |",
        "|---|---:|---:|",
    ]
    for count, rate in raw.items():
        lines.append(
            f"| raw asyncpg insert, 1 process, {count} connection{'s' if count > 1 else ''} "
            f"| {rate:,.0f} | {rate / best:.2f} |"
        )
    lines.append(
        f"| POST /api/analytics/batch, {args.workers} server processes "
        f"| {api:,.0f} | {api / best:.2f} |"
    )
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
