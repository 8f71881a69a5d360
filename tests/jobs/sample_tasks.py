"""Tasks the queue tests run, in-process and in worker subprocesses.

Every task appends one line per event to a log file named in its arguments (``O_APPEND`` keeps
lines whole across processes), so a test can replay what ran, where and how often.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from somna.jobs import JobContext, RetryLater, TaskRegistry

registry = TaskRegistry()


def note(log: str, *words: object) -> None:
    line = " ".join(str(word) for word in words) + "\n"
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def lines(log: str | Path) -> list[list[str]]:
    path = Path(log)
    if not path.exists():
        return []
    return [line.split() for line in path.read_text().splitlines() if line]


@registry.task("test.record", dedup="record:{key}")
async def record(ctx: JobContext, *, log: str, key: str) -> None:
    note(log, "run", key, ctx.attempt)


@registry.task("test.hold", lock="hold:{group}")
async def hold(ctx: JobContext, *, log: str, key: str, group: str, seconds: float) -> None:
    note(log, "enter", key, group)
    await asyncio.sleep(seconds)
    note(log, "exit", key, group)


@registry.task("test.flaky", max_attempts=4)
async def flaky(ctx: JobContext, *, log: str, key: str, succeed_on: int) -> None:
    note(log, "try", key, ctx.attempt)
    if ctx.attempt < succeed_on:
        raise RuntimeError(f"attempt {ctx.attempt} fails on purpose")
    note(log, "done", key, ctx.attempt)


@registry.task("test.later")
async def later(ctx: JobContext, *, log: str, key: str, times: int) -> None:
    asked = sum(1 for words in lines(log) if words[:2] == ["later", key])
    if asked < times:
        note(log, "later", key, ctx.attempt)
        raise RetryLater(0, "test wants a pause")
    note(log, "done", key, ctx.attempt)


@registry.task("test.pages", lock="conn:{key}", dedup="sync:{key}", max_attempts=5)
async def pages(
    ctx: JobContext, *, log: str, effects: str, key: str, pages: int, seconds: float
) -> None:
    """A stand-in for a sync: pages of work, each an idempotent effect, then one 'done'."""
    note(log, "start", key, ctx.attempt, os.getpid())
    for page in range(pages):
        target = Path(effects) / f"{key}-{page}"
        if target.exists():
            continue  # committed by an earlier attempt: the checkpoint says skip it
        await asyncio.sleep(seconds)
        target.write_text(str(os.getpid()))
    note(log, "done", key, ctx.attempt, os.getpid())


@registry.task("test.pauses", max_attempts=3)
async def pauses(ctx: JobContext, *, log: str, key: str, pauses: int, fails: int) -> None:
    """``pauses`` budget waits, then ``fails`` errors, then done: each line says which attempt
    the task saw and whether the port called it the last one."""
    seen = [words[0] for words in lines(log) if words[1:2] == [key]]
    last = "last" if ctx.is_last_attempt else "more"
    if seen.count("pause") < pauses:
        note(log, "pause", key, ctx.attempt, last)
        raise RetryLater(0, "test waits for budget")
    if seen.count("fail") < fails:
        note(log, "fail", key, ctx.attempt, last)
        raise RuntimeError("a real error")
    note(log, "done", key, ctx.attempt, last)
