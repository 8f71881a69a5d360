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
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks._analytics_compare import Comparison, compare_in_process
from benchmarks._analytics_data import Dataset, bench_today, load_postgres, load_sqlite
from benchmarks._load import SECRET, make_key, pin, serve
from somna import __version__, migrations
from somna.analytics.cohort_repository import cohort_statement

PG_ADMIN = os.environ.get("SOMNA_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


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
    today = bench_today()
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


def _grouped_sql(dialect: Any, organization_id: uuid.UUID, nights: int) -> str:
    """The organisation statistics' grouped statement with its values written in."""
    today = bench_today()
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
