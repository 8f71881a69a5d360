"""The SDK side: ``somna_client.telemetry`` against a live server, a dead one and a silent one."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import UsageEvent
from somna_client import telemetry
from tests.events.conftest import make_publisher, stored_count
from tests.support.server import free_port

SCRIPT = textwrap.dedent(
    """
    import sys
    from somna_client import telemetry

    telemetry.init(
        api_key="somna_live_0000000000000000000000000000000000",
        package_name="my-package",
        package_version="1.0.0",
        base_url=sys.argv[1],
        flush_interval=0.05,
        exit_timeout=float(sys.argv[2]),
    )
    for i in range(2500):
        telemetry.track_event(entry_point="my_package.main", extra_data={"i": i})
    telemetry.track_event(extra_data={"bad": object()})  # not JSON: dropped, never raised
    print("host program finished", flush=True)
    """
)


@pytest.fixture(autouse=True)
def _fresh_telemetry() -> Iterator[None]:
    telemetry.shutdown(0)
    yield
    telemetry.shutdown(0)


def _telemetry_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "somna-telemetry"]


def _run_host(
    base_url: str, exit_timeout: float, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "host.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("DO_NOT_TRACK",)}
    # The timeout only guards against a hang; the bound itself is exit_timeout.
    return subprocess.run(
        [sys.executable, str(script), base_url, str(exit_timeout)],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )


def test_nothing_happens_before_init() -> None:
    telemetry.track_event(entry_point="x.y", extra_data={"a": 1})
    assert telemetry.flush(0.1) is True
    assert not telemetry.is_enabled()
    assert _telemetry_threads() == []


def test_opting_out_or_no_destination_disables_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOMNA_TELEMETRY_URL", raising=False)
    telemetry.init(api_key="k", package_name="p", package_version="1")
    assert not telemetry.is_enabled()
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    telemetry.init(api_key="k", package_name="p", package_version="1", base_url="http://x")
    telemetry.track_event()
    assert not telemetry.is_enabled()
    assert _telemetry_threads() == []


def test_environment_fields_carry_no_personal_data() -> None:
    fields = telemetry.collect_environment("somna")
    assert fields["python_version"] == platform.python_version()
    assert fields["os_type"] == platform.system()
    text = repr(fields)
    for personal in (socket.gethostname(), os.path.expanduser("~"), os.environ.get("USER", "@")):
        assert personal not in text


async def test_events_reach_a_live_server_in_batches(
    live_url: str, db_session: AsyncSession
) -> None:
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as http:
        publisher = await make_publisher(db_session, http)
    telemetry.init(
        api_key=publisher.key.key,
        package_name="my-package",
        package_version="2.0.0",
        base_url=live_url,
        flush_interval=30,  # only a full batch or flush() sends
    )
    for index in range(249):
        telemetry.track_event(entry_point="my_package.cli:main", extra_data={"n": index})
    assert telemetry.flush(20) is True
    assert await stored_count(db_session) == 250  # 249 + the start event of init()

    rows = (await db_session.scalars(select(UsageEvent))).all()
    assert {row.package_version for row in rows} == {"2.0.0"}
    assert {row.python_version for row in rows} == {platform.python_version()}
    assert {row.os_type for row in rows} == {platform.system()}
    assert len({row.session_id for row in rows}) == 1  # one run, one session
    assert all(row.client_event_id for row in rows)  # retries are idempotent
    stored = repr([(row.os_version, row.os_release, row.extra_data) for row in rows])
    assert socket.gethostname() not in stored

    # Nothing is left behind at shutdown, and the thread ends.
    telemetry.track_event(entry_point="my_package.last")
    telemetry.shutdown(10)
    assert await stored_count(db_session) == 251
    assert _telemetry_threads() == []


async def test_a_refused_key_turns_the_client_off_quietly(
    live_url: str, db_session: AsyncSession
) -> None:
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as http:
        publisher = await make_publisher(db_session, http, package="another-package")
    telemetry.init(
        api_key=publisher.key.key,
        package_name="my-package",  # not the key's package: 403
        package_version="1.0",
        base_url=live_url,
    )
    telemetry.track_event()
    telemetry.flush(10)
    assert not telemetry.is_enabled()
    telemetry.track_event()  # still no exception
    assert await stored_count(db_session) == 0


def test_a_dead_server_neither_raises_nor_delays_exit(tmp_path: Path) -> None:
    result = _run_host(f"http://127.0.0.1:{free_port()}", 2.0, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "host program finished"
    assert result.stderr == ""


def test_a_silent_server_delays_exit_only_by_the_exit_timeout(tmp_path: Path) -> None:
    # Accepts connections and never answers: every request would wait out its read timeout.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        port = server.getsockname()[1]
        result = _run_host(f"http://127.0.0.1:{port}", 1.0, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "host program finished"
    assert result.stderr == ""


def test_track_event_never_raises_and_the_queue_is_bounded() -> None:
    with socket.socket() as server:  # silent: nothing is ever delivered
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        telemetry.init(
            api_key="k",
            package_name="p",
            package_version="1",
            base_url=f"http://127.0.0.1:{server.getsockname()[1]}",
            flush_interval=3600,
        )
        for index in range(5000):
            telemetry.track_event(session_id=f"not-a-uuid-{index}", extra_data={"i": index})
        telemetry.track_event(extra_data=object())  # type: ignore[arg-type]
        client = telemetry._client
        assert client is not None
        assert len(client.pending) <= telemetry.MAX_PENDING
        telemetry.shutdown(0.2)
