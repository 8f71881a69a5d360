"""Two server processes sharing Redis admit exactly the limit under concurrent load."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis

from somna.config import Settings
from somna.db import create_engine, create_sessionmaker
from somna.keys.service import create_api_key
from somna.orgs.service import create_organization
from tests.conftest import TEST_SECRET, make_settings
from tests.support.server import free_port

LIMIT = 40
REQUESTS = 120


@contextmanager
def server_process(env: dict[str, str], log: Path) -> Iterator[str]:
    """``uvicorn somna.app:create_app --factory`` on a free loopback port."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "somna.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"server exited early:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _make_key(settings: Settings) -> str:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            org = await create_organization(
                session, name="Shared", owner_email="o@example.com", owner_password="pw-123456"
            )
            created = await create_api_key(
                session,
                settings,
                organization_id=org.organization.id,
                name="burst",
                permissions=["read"],
                scopes=["keys"],
                rate_limit_per_minute=LIMIT,
            )
            await session.commit()
            return created.key
    finally:
        await engine.dispose()


def _wait_for_room_in_the_minute(url: str) -> None:
    """Fixed windows end on the minute (by Redis's clock); start the burst well inside one."""
    client = redis.Redis.from_url(url)
    try:
        seconds, _ = client.time()
        into_minute = seconds % 60
        if into_minute > 45:
            time.sleep(60 - into_minute + 0.5)
    finally:
        client.close()


async def test_two_processes_share_one_exact_limit(
    sqlite_template: Path, redis_test_url: str, tmp_path: Path
) -> None:
    database = tmp_path / "shared.db"
    shutil.copyfile(sqlite_template, database)
    database_url = f"sqlite+aiosqlite:///{database}"
    prefix = f"somna-test-{uuid.uuid4().hex[:8]}:"
    settings = make_settings(database_url, tmp_path, redis_url=redis_test_url, redis_prefix=prefix)
    key = await _make_key(settings)
    env = {
        **os.environ,
        "SOMNA_DATABASE_URL": database_url,
        "SOMNA_DATA_DIR": str(tmp_path),
        "SOMNA_SECRET_KEY": TEST_SECRET,
        "SOMNA_REDIS_URL": redis_test_url,
        "SOMNA_REDIS_PREFIX": prefix,
        "SOMNA_LOG_LEVEL": "WARNING",
    }
    with (
        server_process(env, tmp_path / "a.log") as first,
        server_process(env, tmp_path / "b.log") as second,
    ):
        _wait_for_room_in_the_minute(redis_test_url)
        headers = {"Authorization": f"Bearer {key}"}
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            responses = await asyncio.gather(
                *(
                    client.get(f"{(first, second)[i % 2]}/api/v1/developer/keys", headers=headers)
                    for i in range(REQUESTS)
                )
            )
    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == REQUESTS - LIMIT
    # Both processes served some of the admitted requests: the count really is shared.
    admitted_by = {str(r.url).split("/api")[0] for r in responses if r.status_code == 200}
    assert admitted_by == {first, second}
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["limit"] == LIMIT
    assert refused.json()["current_usage"] == LIMIT
