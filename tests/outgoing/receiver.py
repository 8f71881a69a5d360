"""A webhook receiver on loopback for the tests: each path behaves in one way, and every
request it gets is kept (path, headers, body)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SLOW_SECONDS = 3.0
HOLD_LIMIT_SECONDS = 60.0  # a forgotten release never hangs the suite


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # ``/flaky``: how many requests fail (HTTP 503) before one succeeds.
    failures_before_success: int = 1
    # ``/hold``: the first request waits for this (the sender may be killed meanwhile); later
    # ones are answered at once.
    released: threading.Event = field(default_factory=threading.Event)

    def to(self, path: str) -> list[Received]:
        return [item for item in self.requests if item.path == path]


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        receiver = self.server.receiver  # type: ignore[attr-defined]
        receiver.requests.append(
            Received(self.path, {key.lower(): value for key, value in self.headers.items()}, body)
        )
        status, headers = self._answer(receiver)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", "0")
        self.end_headers()

    def _answer(self, receiver: Receiver) -> tuple[int, dict[str, str]]:
        path = self.path
        if path == "/flaky":
            failed = len(receiver.to("/flaky")) <= receiver.failures_before_success
            return (503 if failed else 200), {}
        if path == "/slow":
            time.sleep(SLOW_SECONDS)
            return 200, {}
        if path == "/hold":
            if len(receiver.to("/hold")) == 1:
                receiver.released.wait(timeout=HOLD_LIMIT_SECONDS)
            return 200, {}
        if path == "/redirect":
            return 307, {"location": "/ok"}
        if path == "/gone":
            return 410, {}
        if path == "/fail":
            return 500, {}
        return 200, {}

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read ``Receiver.requests`` instead."""


@contextmanager
def serve_receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.receiver = receiver  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.released.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
