"""Kill tests with real processes: a worker dies mid-job (SIGKILL of its whole process tree),
and every job still finishes exactly once."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from somna.jobs.distributed import libpq_url
from tests.jobs.conftest import QueueEnv
from tests.jobs.processes import kill_tree, start_worker, stop, wait_for, worker_env
from tests.jobs.sample_tasks import lines

PAGES, PAGE_SECONDS = 3, 0.4


def unfinished_starts(log: Path, pid: int) -> set[str]:
    started = {w[1] for w in lines(log) if w[0] == "start" and w[3] == str(pid)}
    done = {w[1] for w in lines(log) if w[0] == "done"}
    return started - done


def page_written(effects: Path, keys: set[str]) -> bool:
    return any((effects / f"{key}-0").exists() for key in keys)


def assert_each_finished_once(env: QueueEnv, keys: list[str]) -> None:
    done = Counter(w[1] for w in lines(env.log) if w[0] == "done")
    assert done == dict.fromkeys(keys, 1)
    assert sorted(p.name for p in env.effects.iterdir()) == sorted(
        f"{key}-{page}" for key in keys for page in range(PAGES)
    )


def defer_pages(env: QueueEnv, keys: list[str]) -> None:
    import asyncio

    from somna.db import create_engine, create_sessionmaker
    from somna.jobs.runtime import JobRuntime
    from tests.jobs.sample_tasks import registry

    async def defer() -> None:
        engine = create_engine(env.database_url)
        runtime = JobRuntime(env.settings, create_sessionmaker(engine), registry=registry)
        await runtime.start()
        try:
            for key in keys:
                args = {
                    "log": str(env.log),
                    "effects": str(env.effects),
                    "key": key,
                    "pages": PAGES,
                    "seconds": PAGE_SECONDS,
                }
                await runtime.queue.defer("test.pages", args)
        finally:
            await runtime.aclose()
            await engine.dispose()

    asyncio.run(defer())


@pytest.mark.parametrize("queue_env", ["embedded-sqlite", "embedded-postgresql"], indirect=True)
def test_embedded_worker_killed_mid_job_finishes_each_job_once_after_restart(
    queue_env: QueueEnv, tmp_path: Path
) -> None:
    keys = ["a", "b", "c"]
    defer_pages(queue_env, keys)
    env = worker_env(queue_env.settings, job_lease_seconds=1.5, job_poll_seconds=0.1)

    first = start_worker(env, tmp_path, "2")
    try:
        wait_for(
            lambda: (
                len(unfinished_starts(queue_env.log, first.pid)) == 2
                and page_written(queue_env.effects, unfinished_starts(queue_env.log, first.pid))
            ),
            60,
            "two jobs in flight with a page written",
        )
    finally:
        killed_keys = unfinished_starts(queue_env.log, first.pid)
        kill_tree(first)
    assert len(killed_keys) == 2

    second = start_worker(env, tmp_path, "2")
    try:
        wait_for(
            lambda: sum(1 for w in lines(queue_env.log) if w[0] == "done") == 3,
            60,
            "every job done after the restart",
        )
    finally:
        assert stop(second) == 0

    assert_each_finished_once(queue_env, keys)
    starts = Counter(w[1] for w in lines(queue_env.log) if w[0] == "start")
    for key in killed_keys:
        assert starts[key] == 2  # the killed attempt, then one more
        assert ["start", key, "2", str(second.pid)] in lines(queue_env.log)


def _procrastinate_attempts(url: str) -> dict[str, tuple[str, int]]:
    with psycopg.connect(libpq_url(url)) as connection:
        rows = connection.execute(
            "SELECT args->>'key', status::text, attempts FROM procrastinate_jobs"
            " WHERE task_name = 'test.pages'"
        ).fetchall()
    return {key: (status, attempts) for key, status, attempts in rows}


@pytest.mark.parametrize("queue_env", ["procrastinate-postgresql"], indirect=True)
def test_distributed_worker_killed_mid_job_is_recovered_by_the_other(
    queue_env: QueueEnv, tmp_path: Path
) -> None:
    keys = [f"k{index}" for index in range(6)]
    defer_pages(queue_env, keys)
    env = worker_env(queue_env.settings)

    workers: list[subprocess.Popen[bytes]] = []
    try:
        victim = start_worker(env, tmp_path, "2")
        workers.append(victim)
        wait_for(
            lambda: len(unfinished_starts(queue_env.log, victim.pid)) == 2,
            60,
            "the first worker running two jobs",
        )
        survivor = start_worker(env, tmp_path, "2")
        workers.append(survivor)
        wait_for(
            lambda: page_written(queue_env.effects, unfinished_starts(queue_env.log, victim.pid)),
            60,
            "a page written by the first worker",
        )
        killed_keys = unfinished_starts(queue_env.log, victim.pid)
        kill_tree(victim)
        assert killed_keys

        wait_for(
            lambda: sum(1 for w in lines(queue_env.log) if w[0] == "done") == len(keys),
            90,
            "every job done by the surviving worker",
        )
    finally:
        for process in workers:
            if process.poll() is None:
                assert stop(process) == 0

    assert_each_finished_once(queue_env, keys)
    jobs = _procrastinate_attempts(queue_env.database_url)
    assert {status for status, _ in jobs.values()} == {"succeeded"}
    for key in killed_keys:
        # Retried by the stalled-job recovery, and finished by the survivor.
        assert jobs[key][1] >= 1
        assert ["start", key, "2", str(survivor.pid)] in lines(queue_env.log)
