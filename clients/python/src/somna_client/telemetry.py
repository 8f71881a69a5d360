"""Opt-in usage telemetry for Python packages, sent to Somna's Klyne-compatible ingestion API.

    from somna_client import telemetry

    telemetry.init(api_key="somna_live_...", package_name="my-package",
                   package_version="1.2.0", base_url="https://somna.example.org")
    telemetry.track_event(entry_point="my_package.cli:main", extra_data={"feature": "export"})

Promises to the host program:

- Nothing happens until :func:`init`: importing this module starts no thread, registers no
  exit hook and opens no connection.
- :func:`track_event` never raises and never waits: it appends to a bounded in-memory queue
  (the oldest events are dropped when it is full). A daemon thread sends batches of up to 100.
- At exit the queue is flushed for at most ``exit_timeout`` seconds (2 by default); a dead or
  silent server delays exit by no more than that, and never raises.
- No personal data: the environment fields are the Python version and implementation, the
  OS name, version and release, the CPU architecture, the CPU count, the memory size rounded
  to GB, how the package was installed and whether a virtual environment is active. No host
  name, user name, path or address is read. ``DO_NOT_TRACK=1`` or
  ``SOMNA_TELEMETRY_DISABLED=1`` turns it all off.

It is part of ``somna-client``: it imports nothing from the Somna server, and imports ``httpx``
lazily in its own thread.
"""

from __future__ import annotations

import atexit
import collections
import json
import logging
import os
import platform
import re
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["flush", "init", "is_enabled", "shutdown", "track_event"]

log = logging.getLogger("somna_client.telemetry")

BATCH_SIZE = 100  # the server's batch limit
MAX_PENDING = 1000
MAX_ATTEMPTS = 3
MAX_PAUSE_SECONDS = 3600.0
REQUEST_TIMEOUT_SECONDS = 5.0
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,39}$")
_PYTHON_VERSION = re.compile(r"^\d{1,2}\.\d{1,3}(?:\.\d{1,3})?(?:(?:a|b|rc)\d{1,3})?\+?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _opted_out() -> bool:
    flags = (os.environ.get("DO_NOT_TRACK", ""), os.environ.get("SOMNA_TELEMETRY_DISABLED", ""))
    return any(flag.strip().lower() in {"1", "true", "yes"} for flag in flags)


def _token(value: object, default: str | None = None) -> str | None:
    text = str(value or "").strip()
    return text if _TOKEN.match(text) else default


def _text(value: object, limit: int = 100) -> str | None:
    text = _CONTROL.sub(" ", str(value or "")).strip()[:limit].strip()
    return text or None


def _os_release() -> tuple[str | None, str | None]:
    """(os_version, os_release): the kernel or OS version and the distribution's name."""
    system = platform.system()
    if system == "Darwin":
        version = platform.mac_ver()[0]
        return _text(version), _text(f"macOS {version}")
    if system == "Windows":
        return _text(platform.version()), _text(f"Windows {platform.release()}")
    release: str | None = None
    try:
        info = platform.freedesktop_os_release()
        release = info.get("PRETTY_NAME") or info.get("NAME")
    except OSError:
        pass
    return _text(platform.release()), _text(release)


def _memory_gb() -> int | None:
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None
    return max(0, round(pages * page_size / 1024**3)) if pages > 0 and page_size > 0 else None


def _installer(package_name: str) -> str | None:
    try:
        from importlib import metadata

        text = metadata.distribution(package_name).read_text("INSTALLER")
    except Exception:  # not installed as a distribution, or unreadable metadata
        return None
    return _token((text or "").strip().lower())


def _virtual_env() -> tuple[bool, str | None]:
    if os.environ.get("CONDA_PREFIX"):
        return True, "conda"
    if sys.prefix != getattr(sys, "base_prefix", sys.prefix):
        return True, "venv"
    return False, None


def collect_environment(package_name: str) -> dict[str, Any]:
    """The environment fields of every event; each probe that fails is left out."""
    version = platform.python_version()
    if not _PYTHON_VERSION.match(version):
        version = "{}.{}.{}".format(*sys.version_info[:3])
    os_version, os_release = _os_release()
    in_venv, venv_type = _virtual_env()
    fields: dict[str, Any] = {
        "python_version": version,
        "python_implementation": _token(platform.python_implementation()),
        "os_type": _token(platform.system(), "Unknown"),
        "os_version": os_version,
        "os_release": os_release,
        "architecture": _token(platform.machine()),
        "installation_method": _installer(package_name),
        "virtual_env": in_venv,
        "virtual_env_type": venv_type,
        "cpu_count": os.cpu_count(),
        "total_memory_gb": _memory_gb(),
    }
    return {key: value for key, value in fields.items() if value is not None}


class _Client:
    """The queue, the sending thread and its HTTP client."""

    def __init__(
        self,
        *,
        api_key: str,
        package_name: str,
        package_version: str,
        base_url: str,
        flush_interval: float,
        exit_timeout: float,
    ) -> None:
        self.api_key = api_key
        self.package_name = package_name
        self.package_version = package_version
        self.base_url = base_url.rstrip("/")
        self.flush_interval = flush_interval
        self.exit_timeout = exit_timeout
        self.session_id = str(uuid.uuid4())
        # (attempts so far, event); appending to a full deque drops the oldest entry.
        self.pending: collections.deque[tuple[int, dict[str, Any]]] = collections.deque(
            maxlen=MAX_PENDING
        )
        self.state = threading.Lock()  # makes "queue empty" and "idle" change together
        self.wake = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.stopping = False
        self.disabled = False
        self.deadline: float | None = None
        self.paused_until = 0.0
        self.pid = os.getpid()
        self.thread: threading.Thread | None = None
        self.environment: dict[str, Any] | None = None

    # --- the host program's side: cheap, never raises --------------------------------------

    def enqueue(self, event: dict[str, Any]) -> None:
        if self.disabled or self.stopping:
            return
        with self.state:
            self.pending.append((0, event))
            self.idle.clear()
        self._ensure_thread()
        if len(self.pending) >= BATCH_SIZE:
            self.wake.set()

    def _ensure_thread(self) -> None:
        if self.thread is not None and self.pid == os.getpid():
            return
        # First use, or a forked child (threads do not survive fork): start one of our own.
        self.pid = os.getpid()
        self.thread = threading.Thread(target=self._run, name="somna-telemetry", daemon=True)
        self.thread.start()

    def flush(self, timeout: float) -> bool:
        if self.thread is None:
            return not self.pending
        self.wake.set()
        return self.idle.wait(timeout)

    def close(self, timeout: float) -> None:
        """Send what is queued for at most ``timeout`` seconds, then stop."""
        self.deadline = time.monotonic() + max(0.0, timeout)
        self.stopping = True
        self.wake.set()
        if self.thread is not None and self.thread.is_alive():
            self.thread.join(max(0.0, timeout) + 0.1)

    # --- the thread's side -----------------------------------------------------------------

    def _run(self) -> None:
        try:
            import httpx

            headers = {"Authorization": f"Bearer {self.api_key}", "User-Agent": "somna-telemetry"}
            with httpx.Client(base_url=self.base_url, headers=headers) as http:
                self._loop(http)
        except Exception:  # the host program must never see our failures
            log.debug("telemetry thread stopped on an error", exc_info=True)
        finally:
            self.pending.clear()
            self.idle.set()

    def _loop(self, http: Any) -> None:
        while True:
            if not self.stopping:
                self.wake.wait(self.flush_interval)
                self.wake.clear()
            if self.stopping and (not self.pending or self._time_left() <= 0):
                return
            if self.disabled:
                self.pending.clear()
            elif time.monotonic() < self.paused_until and not self.stopping:
                continue
            else:
                while self.pending and not self.disabled and self._time_left() > 0:
                    if not self._send_one_batch(http):
                        break
            with self.state:
                if not self.pending:
                    self.idle.set()
            if self.pending and self.stopping:
                return

    def _time_left(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - time.monotonic()

    def _take_batch(self) -> list[tuple[int, dict[str, Any]]]:
        if self.environment is None:
            self.environment = collect_environment(self.package_name)
        batch: list[tuple[int, dict[str, Any]]] = []
        while self.pending and len(batch) < BATCH_SIZE:
            attempts, event = self.pending.popleft()
            if not attempts:
                event.update(self.environment)
                try:
                    json.dumps(event)
                except (TypeError, ValueError):
                    log.debug("dropping an event whose extra_data is not JSON")
                    continue
            batch.append((attempts, event))
        return batch

    def _send_one_batch(self, http: Any) -> bool:
        """Send up to 100 events; False when the server should be left alone for now."""
        batch = self._take_batch()
        if not batch:
            return True
        timeout = min(REQUEST_TIMEOUT_SECONDS, self._time_left())
        try:
            body = {"events": [event for _, event in batch]}
            response = http.post("/api/analytics/batch", json=body, timeout=timeout)
            status = response.status_code
        except Exception:  # connection refused, timeout, DNS: try again later
            log.debug("telemetry send failed", exc_info=True)
            status = 0
        if status < 300 and status != 0:
            return True
        if status in (401, 403):
            self.disabled = True  # a wrong key or package will not heal by retrying
            log.debug("telemetry disabled: the server refused the key (%s)", status)
            return False
        if 400 <= status < 500 and status != 429:
            return True  # nothing in this batch can be stored: drop it
        self._requeue(batch)
        retry_after = 30.0
        if status == 429:
            try:
                retry_after = float(response.headers.get("Retry-After", "60"))
            except ValueError:
                retry_after = 60.0
        self.paused_until = time.monotonic() + min(max(retry_after, 1.0), MAX_PAUSE_SECONDS)
        return False

    def _requeue(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        # Every event carries an event_id, so a batch the server did store is not stored twice.
        with self.state:
            for attempts, event in reversed(batch):
                if attempts + 1 < MAX_ATTEMPTS and len(self.pending) < MAX_PENDING:
                    self.pending.appendleft((attempts + 1, event))


_lock = threading.Lock()
_client: _Client | None = None
_exit_hook_registered = False


def init(
    api_key: str,
    package_name: str,
    package_version: str,
    base_url: str | None = None,
    *,
    enabled: bool = True,
    flush_interval: float = 5.0,
    exit_timeout: float = 2.0,
    track_start: bool = True,
) -> None:
    """Start telemetry for ``package_name``; call it once, from the package's import or CLI.

    ``base_url`` defaults to ``SOMNA_TELEMETRY_URL``; without either, or when the user opted
    out (``DO_NOT_TRACK``, ``SOMNA_TELEMETRY_DISABLED``), nothing is ever sent. With
    ``track_start`` one event records this run. Calling it again replaces the configuration.
    """
    global _client, _exit_hook_registered
    try:
        url = base_url or os.environ.get("SOMNA_TELEMETRY_URL", "")
        if not enabled or _opted_out() or not url or not api_key or not package_name:
            return
        client = _Client(
            api_key=api_key,
            package_name=package_name,
            package_version=package_version,
            base_url=url,
            flush_interval=max(0.05, float(flush_interval)),
            exit_timeout=max(0.0, float(exit_timeout)),
        )
        with _lock:
            previous, _client = _client, client
            if not _exit_hook_registered:
                atexit.register(_at_exit)
                _exit_hook_registered = True
        if previous is not None:
            previous.close(0.0)
        if track_start:
            track_event()
    except Exception:  # telemetry must never break the host program
        log.debug("telemetry init failed", exc_info=True)


def track_event(
    session_id: str | None = None,
    entry_point: str | None = None,
    extra_data: Mapping[str, Any] | None = None,
    *,
    event_id: str | None = None,
    event_timestamp: datetime | None = None,
) -> None:
    """Queue one event (sent in the background); does nothing before :func:`init`."""
    client = _client
    if client is None:
        return
    try:
        event: dict[str, Any] = {
            "session_id": str(session_id or client.session_id),
            "event_id": str(event_id or uuid.uuid4()),
            "package_name": client.package_name,
            "package_version": client.package_version,
            "event_timestamp": (event_timestamp or datetime.now(UTC)).isoformat(),
        }
        if entry_point:
            event["entry_point"] = str(entry_point)
        if extra_data:
            event["extra_data"] = dict(extra_data)
        client.enqueue(event)
    except Exception:
        log.debug("telemetry track_event failed", exc_info=True)


def flush(timeout: float = 5.0) -> bool:
    """Wait up to ``timeout`` seconds for queued events to be sent; True when none is left."""
    client = _client
    if client is None:
        return True
    try:
        return client.flush(timeout)
    except Exception:
        return False


def shutdown(timeout: float = 2.0) -> None:
    """Flush for at most ``timeout`` seconds and stop; :func:`init` may be called again."""
    global _client
    with _lock:
        client, _client = _client, None
    if client is not None:
        try:
            client.close(timeout)
        except Exception:
            log.debug("telemetry shutdown failed", exc_info=True)


def is_enabled() -> bool:
    """Whether :func:`init` configured a destination and telemetry is running."""
    client = _client
    return client is not None and not client.disabled


def _at_exit() -> None:
    client = _client
    shutdown(client.exit_timeout if client is not None else 0.0)
