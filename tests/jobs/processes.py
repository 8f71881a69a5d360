"""Worker subprocesses for the kill tests, and killing a whole process tree."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from somna.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def worker_env(settings: Settings, **extra: object) -> dict[str, str]:
    """The settings a worker subprocess needs, as SOMNA_ variables."""
    assert settings.secret_key is not None
    values: dict[str, object] = {
        "database_url": settings.database_url,
        "secret_key": settings.secret_key.get_secret_value(),
        "environment": "test",
        "data_dir": settings.data_dir,
        "log_level": "WARNING",
        "job_queue": settings.job_queue,
        "job_poll_seconds": settings.job_poll_seconds,
        "job_retry_base_seconds": settings.job_retry_base_seconds,
        "job_retry_max_seconds": settings.job_retry_max_seconds,
        "job_lease_seconds": settings.job_lease_seconds,
        "job_stalled_seconds": settings.job_stalled_seconds,
        "job_stalled_check_seconds": settings.job_stalled_check_seconds,
        "redis_prefix": settings.redis_prefix,
        **extra,
    }
    env = {key: value for key, value in os.environ.items() if not key.startswith("SOMNA_")}
    env.update({f"SOMNA_{key.upper()}": str(value) for key, value in values.items()})
    env["PYTHONPATH"] = str(ROOT)
    return env


def start_worker(env: Mapping[str, str], cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    """A test worker in a session of its own (so a kill reaches all of it and nothing else)."""
    command = [sys.executable, "-m", "tests.jobs.worker_main", *args]
    with (cwd / f"worker-{time.monotonic_ns()}.out").open("wb") as log:
        return subprocess.Popen(
            command,
            env=dict(env),
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, found by walking parent links in /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and everything it started, even children in other sessions."""
    for pid in [process.pid, *descendants(process.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    """Ask for a graceful stop (SIGTERM); kill if it does not come."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(process)
    return process.returncode


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
