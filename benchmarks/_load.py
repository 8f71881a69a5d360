"""What the benchmarks share: the app served by uvicorn in its own process on loopback, an
organisation with an API key to call it with, and a small HTTP/1.1 keep-alive load generator
(asyncio streams), so that benchmarks need no tool outside Python. Each connection sends one
request at a time, as wrk does."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

SECRET = "benchmark-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


# --- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pin(cpu: int) -> None:
    """Keep this process on one CPU, where the machine has more than one."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})


@contextmanager
def serve(
    factory: str,
    env: dict[str, str],
    *,
    ready_path: str,
    workers: int | None = None,
    cpu: int | None = None,
) -> Iterator[int]:
    """Serve the app ``factory`` (``module:function``) with uvicorn in its own process, pinned
    to ``cpu`` if given; yields the port once ``ready_path`` answers 2xx."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", factory, "--factory",
        "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    if workers is not None:
        command += ["--workers", str(workers)]
    preexec = None if cpu is None else (lambda: pin(cpu))
    process = subprocess.Popen(command, env=env, preexec_fn=preexec)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=2).is_success:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("benchmark server did not start")
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass(frozen=True)
class BenchKey:
    key: str
    key_id: uuid.UUID
    organization_id: uuid.UUID


async def make_key(
    database_url: str, *, permissions: list[str], scopes: list[str], **options: Any
) -> BenchKey:
    """A new organisation and an API key of it (``options`` go to ``create_api_key``)."""
    from pydantic import SecretStr

    from somna.config import Settings
    from somna.db import create_engine, create_sessionmaker
    from somna.keys.service import create_api_key
    from somna.orgs.service import create_organization

    settings = Settings(_env_file=None, database_url=database_url, secret_key=SecretStr(SECRET))
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            org = await create_organization(
                session, name="Bench", owner_email="bench@example.com", owner_password="pw-123456"
            )
            created = await create_api_key(
                session,
                settings,
                organization_id=org.organization.id,
                name="bench",
                permissions=permissions,
                scopes=scopes,
                **options,
            )
            await session.commit()
            return BenchKey(created.key, created.api_key.id, org.organization.id)
    finally:
        await engine.dispose()


# --- the load ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One response on a keep-alive connection: its status code (as bytes) and its body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
            break
    return head[9:12], await reader.readexactly(length)


async def _connection(
    host: str, port: int, request: bytes, stop_at: float, counts: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            writer.write(request)
            status, _ = await read_response(reader)
            counts[0 if status == b"200" else 1] += 1
    finally:
        writer.close()


async def run_load(
    host: str, port: int, path: str, headers: dict[str, str], *, connections: int, seconds: float
) -> LoadResult:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    counts = [0, 0]
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(
        *(_connection(host, port, request, stop_at, counts) for _ in range(connections))
    )
    return LoadResult(counts[0], counts[1], time.perf_counter() - started)
