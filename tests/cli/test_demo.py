"""`somna demo` as a newcomer runs it: a real process in an empty folder, small enough to be
quick; then again (nothing doubles); then serving, with the sandboxes still answering."""

from __future__ import annotations

import itertools
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth.passwords import verify_password
from somna.db import create_engine, create_sessionmaker
from somna.demo.cast import cast
from somna.demo.identity import DEMO_KEY_NAME, DEMO_ORG_SLUG, DEMO_OWNER_EMAIL
from somna.models import Account, ApiKey, Connection, Organization, Person, SleepSession
from tests.conftest import TEST_SECRET
from tests.support.server import free_port

PEOPLE, DAYS = 4, 14
KEY = re.compile(r"somna_[a-z]+_[A-Za-z0-9]+")
PASSWORD = re.compile(r"owner login: \S+ / (\S+)")
SECRET = re.compile(r"^[A-Za-z0-9_\-]{32,}$", re.MULTILINE)


def _env(database_url: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SOMNA_")}
    # 80 columns, as a small terminal or a log file: everything must still be whole.
    env.update({"COLUMNS": "80", "PYTHONUNBUFFERED": "1", "SOMNA_LOG_LEVEL": "WARNING"})
    if database_url is not None:  # PostgreSQL; the SQLite case is the embedded default
        env.update({"SOMNA_DATABASE_URL": database_url, "SOMNA_SECRET_KEY": TEST_SECRET})
    return env


def _demo(cwd: Path, database_url: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    return _somna_in(cwd, database_url, "demo", *args)


def _somna_in(cwd: Path, database_url: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "somna", *args],
        cwd=cwd,
        env=_env(database_url),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def demo_db(database_url: str, tmp_path: Path) -> tuple[str | None, Path]:
    """Where the demo keeps its data: ./.somna in a fresh folder, or the test's PostgreSQL."""
    return (None if database_url.startswith("sqlite") else database_url), tmp_path


def _session_url(database_url: str | None, cwd: Path) -> str:
    return database_url or f"sqlite+aiosqlite:///{cwd / '.somna' / 'somna.db'}"


async def _state(url: str) -> dict[str, object]:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await _read_state(session)
    finally:
        await engine.dispose()


async def _read_state(session: AsyncSession) -> dict[str, object]:
    organization = await session.scalar(
        select(Organization).where(Organization.slug == DEMO_ORG_SLUG)
    )
    assert organization is not None
    people = list(
        await session.scalars(select(Person).where(Person.organization_id == organization.id))
    )
    connections = list(
        await session.scalars(
            select(Connection).where(Connection.organization_id == organization.id)
        )
    )
    per_connection = dict(
        (
            await session.execute(
                select(SleepSession.connection_id, func.count()).group_by(
                    SleepSession.connection_id
                )
            )
        ).all()
    )
    main_sleeps = select(SleepSession.connection_id, SleepSession.start_at, SleepSession.end_at)
    sleeps = [tuple(row) for row in await session.execute(main_sleeps.where(~SleepSession.is_nap))]
    owner = await session.scalar(select(Account).where(Account.email == DEMO_OWNER_EMAIL))
    keys = list(await session.scalars(select(ApiKey).where(ApiKey.name == DEMO_KEY_NAME)))
    return {
        "emails": sorted(person.email for person in people),
        "connections": {(c.person_id, c.provider, c.status) for c in connections},
        "records": {c.id: per_connection.get(c.id, 0) for c in connections},
        "sleeps": sleeps,
        "owner_hash": owner.password_hash if owner else None,
        "active_keys": [k for k in keys if k.revoked_at is None],
    }


def _no_overlapping_nights(sleeps: object) -> None:
    by_connection: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {}
    for connection_id, start, end in sleeps:  # type: ignore[attr-defined]
        by_connection.setdefault(connection_id, []).append((start, end))
    for nights in by_connection.values():
        nights.sort()
        for (_, end), (start, _) in itertools.pairwise(nights):
            assert start >= end, "two main sleeps of one connection overlap: a night doubled"


async def test_demo_sets_up_syncs_exports_and_summarises_and_a_rerun_doubles_nothing(
    demo_db: tuple[str | None, Path],
) -> None:
    database_url, cwd = demo_db
    day = datetime.now(UTC).date()
    first = _demo(cwd, database_url, "--no-serve", "--people", str(PEOPLE), "--days", str(DAYS))
    assert first.returncode == 0, first.stderr[-3000:]

    expected = cast(PEOPLE)
    url = _session_url(database_url, cwd)
    state = await _state(url)
    assert state["emails"] == sorted(person.email for person in expected)
    connections = state["connections"]
    assert isinstance(connections, set)
    assert sorted(provider for _, provider, _ in connections) == sorted(
        person.provider for person in expected
    )
    assert {status for _, _, status in connections} == {"active"}
    records = state["records"]
    assert isinstance(records, dict)
    assert len(records) == PEOPLE
    assert all(count > 0 for count in records.values()), records  # every connection synced
    _no_overlapping_nights(state["sleeps"])

    out = cwd / ".somna" / "demo-exports"
    assert len(list((out / "json").glob("sleep_data_batch_*.json"))) == PEOPLE
    assert len(list((out / "combined_csv").glob("combined_sleep_data_expanded_*.csv"))) == 1
    assert list(out.rglob("*.parquet"))
    lines = first.stdout.splitlines()
    for person in expected:  # the summary names everyone, whole, with their provider
        line = next(row for row in lines if person.name in row)
        assert person.provider in line
    assert all(len(line) <= 80 for line in lines if "http" not in line and "somna_" not in line)
    password = PASSWORD.search(first.stdout)
    assert password is not None
    assert isinstance(state["owner_hash"], str)
    assert await verify_password(state["owner_hash"], password.group(1))
    printed_key = KEY.search(first.stdout)
    assert printed_key is not None
    assert printed_key.group(0) in lines  # the key whole, on a line of its own
    secret_label = next(i for i, line in enumerate(lines) if "signing secret" in line)
    assert SECRET.match(lines[secret_label + 1])  # and its signing secret below it
    try_label = next(i for i, line in enumerate(lines) if "a person to try (whoop" in line)
    assert lines[try_label + 1] in {person.email for person in expected}
    assert "Reused" not in first.stdout

    second = _demo(cwd, database_url, "--no-serve", "--people", str(PEOPLE), "--days", str(DAYS))
    assert second.returncode == 0, second.stderr[-3000:]
    again = await _state(url)
    assert again["emails"] == state["emails"]  # nobody twice
    assert again["connections"] == state["connections"]
    _no_overlapping_nights(again["sleeps"])
    if datetime.now(UTC).date() == day:  # the sandboxes draw the same history all day
        assert again["records"] == records
    # A fresh password and key each run; the previous demo key stops working.
    assert again["owner_hash"] != state["owner_hash"]
    active = again["active_keys"]
    assert isinstance(active, list)
    assert len(active) == 1
    new_key = KEY.search(second.stdout)
    assert new_key is not None
    assert new_key.group(0) != printed_key.group(0)
    # The second run says what it kept and what it reset.
    assert f"{PEOPLE} people kept" in " ".join(second.stdout.split())
    assert "1 earlier demo API key(s) revoked" in " ".join(second.stdout.split())

    # With the demo stopped, a batch sync in its folder says so at once, naming the sandbox.
    demo_env = (cwd / ".somna" / "demo.env").read_text()
    whoop_base = re.search(r"SOMNA_WHOOP_API_BASE=(\S+)", demo_env)
    assert whoop_base is not None
    sync = _somna_in(cwd, database_url, "admin", "sync")
    assert sync.returncode == 1, sync.stderr
    assert whoop_base.group(1) in sync.stderr.replace("\n", "")
    assert "No answer from" in sync.stderr


def _read_lines(stream: object, lines: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line)


def _wait_for(lines: queue.Queue[str], prefix: str, seen: list[str]) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        if line.startswith(prefix):
            return
    raise AssertionError("the demo never said " + prefix + ":\n" + "".join(seen))


def test_demo_serves_with_live_sandboxes_and_stops_cleanly_on_ctrl_c(
    demo_db: tuple[str | None, Path],
) -> None:
    database_url, cwd = demo_db
    port = free_port()
    # Started as a non-interactive shell starts a background job: with SIGINT ignored, which
    # the process inherits; the demo must still stop on it.
    command = f"{shlex.quote(sys.executable)} -m somna demo --people 2 --days 7 --port {port}"
    process = subprocess.Popen(
        ["/bin/sh", "-c", f"trap '' INT; exec {command}"],
        cwd=cwd,
        env=_env(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        _wait_for(lines, "Serving on", seen)
        key = KEY.search("".join(seen))
        assert key is not None
        base = f"http://127.0.0.1:{port}/api/v1"
        with httpx.Client(headers={"Authorization": f"Bearer {key.group(0)}"}) as http:
            people = http.get(f"{base}/users").json()["data"]
            assert len(people) == 2
            # A sync asked of the served API runs in its worker against the live sandboxes.
            asked = http.post(f"{base}/users/{people[0]['id']}/sync", json={})
            assert asked.status_code == 202, asked.text
            run_id = asked.json()["data"][0]["id"]
            deadline = time.monotonic() + 120
            status = "queued"
            while status in ("queued", "running") and time.monotonic() < deadline:
                time.sleep(0.3)
                status = http.get(f"{base}/sync-runs/{run_id}").json()["status"]
            assert status == "succeeded"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        _wait_for(lines, "Stopping.", seen)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stdout is not None
        process.stdout.close()
