"""Polling until a run or an export reaches a final state, for both clients."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from somna_client._exceptions import WaitTimeoutError

DEFAULT_WAIT_TIMEOUT = 600.0
DEFAULT_POLL_INTERVAL = 1.0


class HasStatus(Protocol):
    @property
    def status(self) -> str: ...


S = TypeVar("S", bound=HasStatus)


def _finished(item: HasStatus, final: frozenset[str]) -> bool:
    return item.status in final


def poll(
    fetch: Callable[[], S],
    final: frozenset[str],
    *,
    timeout: float,
    interval: float,
    on_progress: Callable[[S], Any] | None,
) -> S:
    deadline = time.monotonic() + timeout
    while True:
        item = fetch()
        if on_progress is not None:
            on_progress(item)
        if _finished(item, final):
            return item
        if time.monotonic() + interval > deadline:
            raise WaitTimeoutError(f"still {item.status} after {timeout:g} s", item)
        time.sleep(interval)


async def apoll(
    fetch: Callable[[], Awaitable[S]],
    final: frozenset[str],
    *,
    timeout: float,  # noqa: ASYNC109
    interval: float,
    on_progress: Callable[[S], Any] | None,
) -> S:
    deadline = time.monotonic() + timeout
    while True:
        item = await fetch()
        if on_progress is not None:
            result = on_progress(item)
            if asyncio.iscoroutine(result):
                await result
        if _finished(item, final):
            return item
        if time.monotonic() + interval > deadline:
            raise WaitTimeoutError(f"still {item.status} after {timeout:g} s", item)
        await asyncio.sleep(interval)
