"""Throughput of one endpoint with API-key auth and rate limiting (memory, then Redis) against
the same endpoint with neither, in one run; then the audit log's cost on real read routes of a
person (``GET /api/v1/users/{id}`` and ``GET /api/v1/users/{id}/sleep``), with
``SOMNA_AUDIT_ENABLED`` on and off, on SQLite and on PostgreSQL.

    .venv/bin/python -m benchmarks.auth [--seconds 1.5] [--rounds 15] [--connections 32]
        [--backends sqlite,postgresql] [--only auth|audit]

Each server is one uvicorn process (the app factory below) pinned to CPU 0 where the machine
allows it; the load generator runs in this process, pinned to CPU 1. Everything is on
loopback. The servers of one comparison run at once and are measured in turns, many short
rounds, the median round of each counting (``_measure_all``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
from fastapi import FastAPI, Request

from benchmarks._load import SECRET, BenchKey, LoadResult, make_key, pin, run_load, serve
from somna import __version__, migrations
from somna.app import create_app
from somna.auth.dependencies import CurrentPrincipal

APP = "benchmarks.auth:bench_app"
PAYLOAD = {"status": "ok", "service": "somna"}
PG_ADMIN = os.environ.get("SOMNA_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
FLUSH_WAIT = 1.2  # seconds after a round before its CPU time is read
NIGHTS = 20  # sleep sessions of the benchmark's person: one page of the records list

Setup = tuple[str, dict[str, str], str, dict[str, str]]


def bench_app() -> FastAPI:
    """The real app plus two routes returning the same body: one open, one behind a key."""
    app = create_app()

    @app.get("/bench/open")
    async def open_route() -> dict[str, str]:
        return PAYLOAD

    @app.get("/bench/keyed")
    async def keyed_route(principal: CurrentPrincipal) -> dict[str, str]:
        return PAYLOAD

    @app.get("/bench/cpu")
    async def cpu_route() -> float:
        """CPU seconds this server process has used, every thread (the SQLite driver's too)."""
        return time.process_time()

    return app


@dataclass(frozen=True)
class Measured:
    """A setup's median round: its throughput, and the server's CPU time per request."""

    load: LoadResult
    cpu_ms: float


def _cpu(port: int) -> float:
    return float(httpx.get(f"http://127.0.0.1:{port}/bench/cpu").json())


def _measure_all(setups: list[Setup], args: argparse.Namespace) -> list[tuple[str, Measured]]:
    """All servers run at once and are measured in turns, many short rounds; per setup the
    median round counts. On a shared machine, load from elsewhere then hurts every setup alike
    instead of whichever ran at the wrong moment. A server's CPU time is read at the start of
    each of its rounds, so a round is charged everything the server did until its next one:
    the audit writer's flush of the round's last requests included."""
    with ExitStack() as stack:
        ports = [
            stack.enter_context(serve(APP, env, ready_path="/bench/open", cpu=0))
            for _, env, _, _ in setups
        ]
        for port, (_, _, path, headers) in zip(ports, setups, strict=True):
            asyncio.run(run_load("127.0.0.1", port, path, headers, connections=8, seconds=1.0))
        loads: dict[str, list[LoadResult]] = {name: [] for name, _, _, _ in setups}
        cpu: dict[str, list[float]] = {name: [] for name, _, _, _ in setups}
        started: dict[str, float] = {}
        for _ in range(args.rounds):
            for port, (name, _, path, headers) in zip(ports, setups, strict=True):
                now = _cpu(port)
                if loads[name]:
                    cpu[name].append((now - started[name]) * 1000 / loads[name][-1].requests)
                started[name] = now
                loads[name].append(asyncio.run(_load(port, path, headers, args)))
        time.sleep(FLUSH_WAIT)
        for port, (name, _, _, _) in zip(ports, setups, strict=True):
            cpu[name].append((_cpu(port) - started[name]) * 1000 / loads[name][-1].requests)
    return [
        (name, Measured(_median_load(loads[name]), statistics.median(cpu[name])))
        for name, _, _, _ in setups
    ]


async def _load(
    port: int, path: str, headers: dict[str, str], args: argparse.Namespace
) -> LoadResult:
    return await run_load(
        "127.0.0.1", port, path, headers, connections=args.connections, seconds=args.seconds
    )


def _median_load(results: list[LoadResult]) -> LoadResult:
    return sorted(results, key=lambda result: result.per_second)[len(results) // 2]


def _server_env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "SOMNA_DATABASE_URL": database_url,
        "SOMNA_DATA_DIR": str(data_dir),
        "SOMNA_SECRET_KEY": SECRET,
        "SOMNA_LOG_LEVEL": "WARNING",
        "SOMNA_RATE_LIMIT_ORG_PER_MINUTE": "100000000",
        "SOMNA_RATE_LIMIT_ANONYMOUS_PER_MINUTE": "100000000",
    }
    env.pop("SOMNA_REDIS_URL", None)
    return env


# --- API key and rate limiting ----------------------------------------------------------------


def run_auth(args: argparse.Namespace, data_dir: Path) -> list[tuple[str, Measured]]:
    database_url = f"sqlite+aiosqlite:///{data_dir / 'auth.db'}"
    migrations.upgrade(database_url)
    key = asyncio.run(
        make_key(
            database_url, permissions=["read"], scopes=["sleep"],
            rate_limit_per_minute=100_000_000,
        )
    ).key  # fmt: skip
    base = _server_env(database_url, data_dir)
    auth = {"Authorization": f"Bearer {key}"}
    redis_env = {
        **base,
        "SOMNA_REDIS_URL": args.redis_url,
        "SOMNA_REDIS_PREFIX": f"somna-bench-{uuid.uuid4().hex[:8]}:",
    }
    return _measure_all(
        [
            ("no auth, no rate limit", {**base, "SOMNA_RATE_LIMIT_ENABLED": "false"},
             "/bench/open", {}),
            ("API key + rate limit (memory)", base, "/bench/keyed", auth),
            ("API key + rate limit (Redis)", redis_env, "/bench/keyed", auth),
        ],
        args,
    )  # fmt: skip


# --- the audit log ----------------------------------------------------------------------------


async def _seed_person(database_url: str, organization_id: uuid.UUID) -> uuid.UUID:
    """A person with a WHOOP connection and ``NIGHTS`` sleep sessions, stored by the store."""
    from somna.db import create_engine, create_sessionmaker
    from somna.models import Connection, Person
    from somna.records.canonical import ScoreState, SleepSessionRecord
    from somna.records.repository import RecordRepository

    engine = create_engine(database_url)
    first = datetime.now(UTC).replace(hour=23, minute=0, second=0, microsecond=0)
    try:
        async with create_sessionmaker(engine)() as session:
            person = Person(organization_id=organization_id, email="sleeper@example.com")
            session.add(person)
            await session.flush()
            connection = Connection(
                organization_id=organization_id, person_id=person.id, provider="whoop",
                provider_user_id="bench", status="active",
            )  # fmt: skip
            session.add(connection)
            await session.flush()
            nights = [
                SleepSessionRecord(
                    provider="whoop",
                    provider_record_id=f"night-{day}",
                    score_state=ScoreState.SCORED,
                    provider_updated_at=start,
                    raw={"id": f"night-{day}"},
                    start_at=start,
                    end_at=start + timedelta(hours=8),
                    timezone_offset_minutes=0,
                    local_date=(start + timedelta(hours=8)).date(),
                    asleep_seconds=25_000,
                    efficiency_pct=91.5,
                )
                for day in range(NIGHTS)
                for start in [first - timedelta(days=day + 1)]
            ]
            await RecordRepository(session).upsert(connection.id, person.id, nights)
            await session.commit()
            return person.id
    finally:
        await engine.dispose()


def _audit_setups(database_url: str, data_dir: Path) -> tuple[list[Setup], BenchKey]:
    bench = asyncio.run(
        make_key(
            database_url, permissions=["read"], scopes=["users", "sleep"],
            rate_limit_per_minute=100_000_000,
        )
    )  # fmt: skip
    person_id = asyncio.run(_seed_person(database_url, bench.organization_id))
    auth = {"Authorization": f"Bearer {bench.key}"}
    env = _server_env(database_url, data_dir)
    setups: list[Setup] = []
    for label, path in [
        ("GET /users/{id}", f"/api/v1/users/{person_id}"),
        ("GET /users/{id}/sleep", f"/api/v1/users/{person_id}/sleep?limit={NIGHTS}"),
    ]:
        for audit in ("false", "true"):
            name = f"{label}, audit {'on' if audit == 'true' else 'off'}"
            setups.append((name, {**env, "SOMNA_AUDIT_ENABLED": audit}, path, auth))
    return setups, bench


@contextmanager
def _postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one run, dropped afterwards."""
    import asyncpg

    name = f"somna_bench_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(PG_ADMIN)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        plain = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        yield plain.replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run_audit(
    args: argparse.Namespace, data_dir: Path, backend: str
) -> tuple[list[tuple[str, Measured]], tuple[float, float]]:
    with ExitStack() as stack:
        if backend == "postgresql":
            database_url = stack.enter_context(_postgres_database())
        else:
            database_url = f"sqlite+aiosqlite:///{data_dir / 'audit.db'}"
        migrations.upgrade(database_url)
        setups, bench = _audit_setups(database_url, data_dir)
        runs = _measure_all(setups, args)
        return runs, asyncio.run(attribute(database_url, bench))


# --- the audit log's own work, timed in process ---------------------------------------------

ATTRIBUTION_REQUESTS = 20_000
ATTRIBUTION_BATCH = 250


def _note_request(person_id: uuid.UUID) -> Request:
    """A request as ``GET /api/v1/users/{user_id}`` leaves it in the audit dependency."""
    return Request(
        {
            "type": "http", "method": "GET", "path": f"/api/v1/users/{person_id}",
            "path_params": {"user_id": str(person_id)}, "query_string": b"",
            "route": SimpleNamespace(path_format="/users/{user_id}"), "headers": [],
            "client": ("127.0.0.1", 50000), "state": {"request_id": uuid.uuid4().hex},
        }
    )  # fmt: skip


async def attribute(database_url: str, bench: BenchKey) -> tuple[float, float]:
    """CPU microseconds of this process per recorded read: on the request (the note and its
    append), and in the writer's flush (rows derived, chained, inserted and committed, the
    SQLite driver's thread included; PostgreSQL's own work is not in this process)."""
    from somna.audit.recorder import note_for
    from somna.audit.writer import AuditWriter
    from somna.auth.principal import Principal
    from somna.db import create_engine, create_sessionmaker

    principal = Principal(
        "api_key", bench.organization_id, frozenset({"users:read"}), api_key_id=bench.key_id
    )
    request = _note_request(uuid.uuid4())
    engine = create_engine(database_url)
    writer = AuditWriter(create_sessionmaker(engine), interval=1.0, batch_size=10**9)
    on_request = in_flush = 0.0
    try:
        for _ in range(ATTRIBUTION_REQUESTS // ATTRIBUTION_BATCH):
            started = time.process_time()
            for _ in range(ATTRIBUTION_BATCH):
                note = note_for(request, principal, channel="api", outcome="allowed",
                                status_code=None)  # fmt: skip
                writer.record(note)
            on_request += time.process_time() - started
            started = time.process_time()
            await writer.flush()
            in_flush += time.process_time() - started
    finally:
        await engine.dispose()
    on_request /= ATTRIBUTION_REQUESTS
    in_flush /= ATTRIBUTION_REQUESTS
    return on_request * 1e6, in_flush * 1e6


# --- the report -------------------------------------------------------------------------------


def _table(runs: list[tuple[str, Measured]], heading: str) -> list[str]:
    baseline = runs[0][1]
    lines = [
        f"| {heading} | req/s | of baseline | server CPU per request | of baseline | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, run in runs:
        ratio = run.load.per_second / baseline.load.per_second
        cpu_ratio = run.cpu_ms / baseline.cpu_ms
        lines.append(
            f"| {name} | {run.load.per_second:,.0f} | {ratio:.2f} | {run.cpu_ms:.2f} ms "
            f"| {cpu_ratio:.2f} | {run.load.errors} |"
        )
    return lines


def _audit_lines(
    backend: str, runs: list[tuple[str, Measured]], attributed: tuple[float, float]
) -> list[str]:
    lines = ["", f"Audit log, {backend}:", "", *_table(runs, "route, audit")]
    on_request, in_flush = attributed
    route_us = dict(runs)["GET /users/{id}, audit off"].cpu_ms * 1000
    lines.append(
        f"audit CPU per recorded read ({backend}, in process): {on_request:.1f} us on the "
        f"request + {in_flush:.1f} us in the writer's flush = "
        f"{(on_request + in_flush) / route_us * 100:.1f} % of GET /users/{{id}}'s "
        f"{route_us:,.0f} us of server CPU"
    )
    by_name = dict(runs)
    for label in ("GET /users/{id}", "GET /users/{id}/sleep"):
        off, on = by_name[f"{label}, audit off"], by_name[f"{label}, audit on"]
        throughput = (1 - on.load.per_second / off.load.per_second) * 100
        cpu = (on.cpu_ms / off.cpu_ms - 1) * 100
        lines.append(
            f"audit cost on {label} ({backend}): {throughput:.1f} % of throughput, "
            f"{cpu:+.1f} % server CPU per request"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="Per round and setup.")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--backends", default="sqlite,postgresql", help="For the audit runs.")
    parser.add_argument("--only", choices=["auth", "audit"], default=None)
    parser.add_argument(
        "--redis-url", default=os.environ.get("SOMNA_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    args = parser.parse_args()
    pin(1)
    out = [
        f"somna {__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{args.connections} connections, median of {args.rounds} rounds of {args.seconds:g} s",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "auth"):
            runs = run_auth(args, Path(tmp))
            out += ["", *_table(runs, "setup")]
        if args.only in (None, "audit"):
            for backend in args.backends.split(","):
                out += _audit_lines(backend, *run_audit(args, Path(tmp), backend))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
