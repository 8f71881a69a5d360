"""Serve an ASGI app to a test: in process with its lifespan running, or on a real loopback
port in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
import uvicorn
from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def app_client(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client: the app's lifespan runs, requests skip the network."""
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://somna.test"
        ) as http,
    ):
        yield http


@contextmanager
def serve_in_thread(
    app: ASGIApp, *, startup_timeout: float = 20.0, port: int | None = None
) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (on ``port``, else a free one) until the block ends; yields
    its base URL."""
    port = port or free_port()
    # The plain asyncio loop, not uvloop: uvloop in a server thread beside the test's own
    # loops and the sandboxes' crashed the interpreter (SIGSEGV) in one full run.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, lifespan="on", loop="asyncio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
