"""The port's promises, held by every adapter: the same test bodies on all three set-ups."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import text

from somna.db import create_engine, create_sessionmaker
from somna.jobs.runtime import JobRuntime
from tests.jobs.conftest import QueueEnv
from tests.jobs.sample_tasks import lines


async def test_a_deferred_job_runs_its_task_with_its_arguments(
    queue_env: QueueEnv, runtime: JobRuntime
) -> None:
    deferred = await runtime.queue.defer("test.record", {"log": str(queue_env.log), "key": "a"})
    assert deferred.job_id is not None
    info = await runtime.queue.get_job(deferred.job_id)
    assert info is not None
    assert info.status == "queued"
    assert info.task == "test.record"

    assert await runtime.run_until_idle() == 1

    assert lines(queue_env.log) == [["run", "a", "1"]]
    info = await runtime.queue.get_job(deferred.job_id)
    assert info is not None
    assert (info.status, info.attempts) == ("succeeded", 1)
    assert info.args == {"log": str(queue_env.log), "key": "a"}


async def test_dedup_key_allows_one_queued_job_per_key(
    queue_env: QueueEnv, runtime: JobRuntime
) -> None:
    args = {"log": str(queue_env.log), "key": "same"}
    first = await runtime.queue.defer("test.record", args)
    second = await runtime.queue.defer("test.record", args)
    other = await runtime.queue.defer("test.record", {**args, "key": "other"})
    assert first.job_id is not None
    assert not first.deduplicated
    assert second.deduplicated
    assert other.job_id is not None

    await runtime.run_until_idle()
    # Once the first has left the queue, the key is free again.
    again = await runtime.queue.defer("test.record", args)
    assert again.job_id is not None
    await runtime.run_until_idle()
    runs = Counter(words[1] for words in lines(queue_env.log))
    assert runs == {"same": 2, "other": 1}
    # Each is a job of its own: its first attempt, however many jobs shared the key before.
    assert {words[2] for words in lines(queue_env.log)} == {"1"}


async def test_lock_key_serialises_jobs_while_other_keys_run_in_parallel(
    queue_env: QueueEnv, runtime: JobRuntime
) -> None:
    log = str(queue_env.log)
    for index in range(3):
        for group in ("x", "y"):
            await runtime.queue.defer(
                "test.hold", {"log": log, "key": f"{group}{index}", "group": group, "seconds": 0.15}
            )
    await runtime.run_until_idle()

    inside: Counter[str] = Counter()
    most_per_group: Counter[str] = Counter()
    most_overall = 0
    for event, _key, group in lines(queue_env.log):
        inside[group] += 1 if event == "enter" else -1
        most_per_group[group] = max(most_per_group[group], inside[group])
        most_overall = max(most_overall, sum(inside.values()))
    assert sum(1 for words in lines(queue_env.log) if words[0] == "exit") == 6
    assert most_per_group == {"x": 1, "y": 1}  # never two of one lock at once
    assert most_overall == 2  # ...while the two locks did run side by side


async def test_a_failing_job_is_retried_until_it_succeeds(
    queue_env: QueueEnv, runtime: JobRuntime
) -> None:
    deferred = await runtime.queue.defer(
        "test.flaky", {"log": str(queue_env.log), "key": "f", "succeed_on": 3}
    )
    for _ in range(5):
        await runtime.run_until_idle()
    # The task sees each attempt's number, counted alike by every adapter.
    assert [(words[0], words[2]) for words in lines(queue_env.log)] == [
        ("try", "1"),
        ("try", "2"),
        ("try", "3"),
        ("done", "3"),
    ]
    assert deferred.job_id is not None
    info = await runtime.queue.get_job(deferred.job_id)
    assert info is not None
    assert (info.status, info.attempts) == ("succeeded", 3)


async def test_a_job_fails_for_good_after_max_attempts(
    queue_env: QueueEnv, runtime: JobRuntime
) -> None:
    deferred = await runtime.queue.defer(
        "test.flaky", {"log": str(queue_env.log), "key": "f", "succeed_on": 99}, max_attempts=2
    )
    for _ in range(4):
        await runtime.run_until_idle()
    assert [words[:3] for words in lines(queue_env.log)] == [["try", "f", "1"], ["try", "f", "2"]]
    assert deferred.job_id is not None
    info = await runtime.queue.get_job(deferred.job_id)
    assert info is not None
    assert (info.status, info.attempts) == ("failed", 2)


async def test_retry_later_reschedules_without_failing_the_job(
    queue_env: QueueEnv, runtime: JobRuntime
) -> None:
    deferred = await runtime.queue.defer(
        "test.later", {"log": str(queue_env.log), "key": "l", "times": 3}, max_attempts=2
    )
    for _ in range(6):
        await runtime.run_until_idle()
    events = [(words[0], words[2]) for words in lines(queue_env.log)]
    # Three pauses on a job allowed two attempts: pauses are not failures, and every run of
    # it is still its first attempt, on every adapter.
    assert events == [("later", "1"), ("later", "1"), ("later", "1"), ("done", "1")]
    assert deferred.job_id is not None
    info = await runtime.queue.get_job(deferred.job_id)
    assert info is not None
    assert (info.status, info.attempts) == ("succeeded", 1)


async def test_enqueue_is_sent_with_the_commit_and_dropped_on_rollback(
    queue_env: QueueEnv, runtime: JobRuntime
) -> None:
    engine = create_engine(queue_env.database_url)
    try:
        sessions = create_sessionmaker(engine)
        async with sessions() as session:
            await runtime.queue.enqueue(
                session, "test.record", {"log": str(queue_env.log), "key": "kept"}
            )
            await session.commit()
        async with sessions() as session:
            await runtime.queue.enqueue(
                session, "test.record", {"log": str(queue_env.log), "key": "dropped"}
            )
            await session.rollback()
        async with sessions() as session:
            # A failed request: the session closes without a commit.
            await runtime.queue.enqueue(
                session, "test.record", {"log": str(queue_env.log), "key": "abandoned"}
            )
        async with sessions() as session:
            # A later commit on a fresh transaction must not resurrect the dropped jobs.
            await session.execute(text("SELECT 1"))
            await session.commit()
    finally:
        await engine.dispose()

    await runtime.run_until_idle()
    assert [words[1] for words in lines(queue_env.log)] == ["kept"]


async def test_jobs_are_not_run_before_their_time(queue_env: QueueEnv, runtime: JobRuntime) -> None:
    await runtime.queue.defer("test.record", {"log": str(queue_env.log), "key": "soon"}, delay=3600)
    assert await runtime.run_until_idle() == 0
    assert lines(queue_env.log) == []


async def test_unknown_tasks_are_refused_at_enqueue(runtime: JobRuntime) -> None:
    from somna.jobs import TaskNotFound

    with pytest.raises(TaskNotFound):
        await runtime.queue.defer("test.nope", {})


async def test_a_background_worker_runs_jobs_until_stopped(
    queue_env: QueueEnv, runtimes: Any
) -> None:
    runtime: JobRuntime = await runtimes()
    stop = asyncio.Event()
    worker = asyncio.create_task(runtime.run_worker(2, stop))
    for key in ("a", "b", "c"):
        await runtime.queue.defer("test.record", {"log": str(queue_env.log), "key": key})
    async with asyncio.timeout(30):
        while len(lines(queue_env.log)) < 3:  # noqa: ASYNC110 - the log is written by the worker
            await asyncio.sleep(0.05)
    stop.set()
    async with asyncio.timeout(30):
        await worker
    assert sorted(words[1] for words in lines(queue_env.log)) == ["a", "b", "c"]


async def _drive(runtime: JobRuntime, job_id: str | None, rounds: int = 12) -> None:
    assert job_id is not None
    for _ in range(rounds):
        await runtime.run_until_idle()
        info = await runtime.queue.get_job(job_id)
        if info is not None and info.status in ("succeeded", "failed"):
            return


async def test_pauses_never_spend_attempts_only_errors_do(
    queue_env: QueueEnv, runtime: JobRuntime
) -> None:
    log = str(queue_env.log)
    deferred = await runtime.queue.defer(
        "test.pauses", {"log": log, "key": "p", "pauses": 4, "fails": 1}
    )
    await _drive(runtime, deferred.job_id)
    assert [words[0::2] for words in lines(log)] == [
        ["pause", "1"],
        ["pause", "1"],
        ["pause", "1"],
        ["pause", "1"],
        ["fail", "1"],
        ["done", "2"],
    ]
    assert [words[3] for words in lines(log)] == ["more"] * 6
    assert deferred.job_id is not None
    info = await runtime.queue.get_job(deferred.job_id)
    assert info is not None
    assert (info.status, info.attempts) == ("succeeded", 2)


async def test_after_many_pauses_the_last_attempt_is_still_the_last_real_one(
    queue_env: QueueEnv, runtime: JobRuntime
) -> None:
    log = str(queue_env.log)
    deferred = await runtime.queue.defer(
        "test.pauses", {"log": log, "key": "q", "pauses": 7, "fails": 99}
    )
    await _drive(runtime, deferred.job_id, rounds=20)
    events = [(words[0], words[2], words[3]) for words in lines(log)]
    assert events == [("pause", "1", "more")] * 7 + [
        ("fail", "1", "more"),
        ("fail", "2", "more"),
        ("fail", "3", "last"),
    ]
    assert deferred.job_id is not None
    info = await runtime.queue.get_job(deferred.job_id)
    assert info is not None
    assert (info.status, info.attempts) == ("failed", 3)


async def test_a_background_worker_counts_attempts_like_run_until_idle(
    queue_env: QueueEnv, runtimes: Any
) -> None:
    runtime: JobRuntime = await runtimes()
    log = str(queue_env.log)
    stop = asyncio.Event()
    worker = asyncio.create_task(runtime.run_worker(2, stop))
    await runtime.queue.defer("test.pauses", {"log": log, "key": "w", "pauses": 3, "fails": 1})
    async with asyncio.timeout(60):
        while not any(words[0] == "done" for words in lines(log)):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    stop.set()
    async with asyncio.timeout(30):
        await worker
    assert [(words[0], words[2]) for words in lines(log)] == [
        ("pause", "1"),
        ("pause", "1"),
        ("pause", "1"),
        ("fail", "1"),
        ("done", "2"),
    ]
