"""One executing run per connection, whoever starts it: the run row is the lock.

A CLI sync and runs requested through the API (executed by a worker) start on the same
connections at once, against the WHOOP sandbox over real HTTP. Every provider request is
recorded with its start and end, per connection.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.kit.time import utc_now
from somna.models import SyncCheckpoint, SyncRun
from somna.models.job import Job
from somna.pacing import BudgetExhausted, MemoryPacer, PacedTransport, provider_budgets
from somna.sandbox import WhoopSandbox
from somna.sync.batch import sync_connections
from somna.sync.engine import MAX_RUN_ATTEMPTS, ConnectionBusy, SyncServices, execute_run
from tests.connections.support import (
    asleep,
    assert_whoop_complete,
    queue_run,
    run_jobs,
    stored_ids,
    sync_app,
    sync_client,
    sync_settings,
    whoop,
    whoop_connection,
)
from tests.support.auth import create_organization, create_person

__all__ = ["asleep", "sync_app", "sync_client", "sync_settings", "whoop"]


@dataclass(frozen=True)
class Fetch:
    connection: str
    url: str
    start: float
    end: float


@pytest.fixture
def fetches(monkeypatch: pytest.MonkeyPatch) -> list[Fetch]:
    """Every provider request a sync makes (CLI or worker: both go through PacedTransport)."""
    seen: list[Fetch] = []
    original = PacedTransport.handle_async_request

    async def recording(self: PacedTransport, request: httpx.Request) -> httpx.Response:
        start = time.monotonic()
        response = await original(self, request)
        await response.aread()
        seen.append(Fetch(self.connection_key, str(request.url), start, time.monotonic()))
        return response

    monkeypatch.setattr(PacedTransport, "handle_async_request", recording)
    return seen


def assert_never_concurrent(fetches: list[Fetch]) -> None:
    by_connection: dict[str, list[Fetch]] = defaultdict(list)
    for fetch in fetches:
        by_connection[fetch.connection].append(fetch)
    for connection, requests in by_connection.items():
        ordered = sorted(requests, key=lambda fetch: fetch.start)
        for before, after in itertools.pairwise(ordered):
            assert after.start >= before.end, f"{connection}: {before.url} and {after.url} overlap"


async def _worker_until_done(app: FastAPI, session: AsyncSession, ids: list[uuid.UUID]) -> None:
    """A background worker of the app, stopped once no run of these connections is pending."""
    stop = asyncio.Event()
    worker = asyncio.create_task(app.state.job_runtime.run_worker(2, stop))
    try:
        async with asyncio.timeout(120):
            while True:
                session.expire_all()
                pending = await session.scalar(
                    select(SyncRun.id).where(
                        SyncRun.connection_id.in_(ids),
                        SyncRun.status.in_(("queued", "running", "waiting_for_budget")),
                    )
                )
                if pending is None:
                    return
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await worker


async def test_cli_and_api_runs_on_the_same_connections_never_run_at_once(
    sync_client: httpx.AsyncClient,
    sync_app: FastAPI,
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
    fetches: list[Fetch],
) -> None:
    org = await create_organization(db_session, sync_client)
    people = [await create_person(db_session, org.id) for _ in whoop.members]
    connections = [
        await whoop_connection(db_session, sync_settings, whoop, member, person=person)
        for member, person in zip(whoop.members, people, strict=True)
    ]
    ids = [connection.id for connection in connections]
    services = SyncServices(sync_settings, sync_app.state.sessionmaker, sync_app.state.pacer)
    # Whole past days: both runs list exactly the same window, page for page.
    first, last = utc_now().date() - timedelta(days=15), utc_now().date() - timedelta(days=1)
    dates = {"start_date": str(first), "end_date": str(last)}

    async def api_then_worker() -> None:
        for person in people:
            accepted = await sync_client.post(
                f"/api/v1/users/{person.id}/sync", json=dates, headers=org.owner.headers
            )
            assert accepted.status_code == 202, accepted.text
        await _worker_until_done(sync_app, db_session, ids)

    cli = sync_connections(
        services,
        ids,
        start_date=first,
        end_date=last,
        wait_busy=120,
        concurrency=2,
    )
    outcomes, _ = await asyncio.gather(cli, api_then_worker())

    assert [outcome.status for outcome in outcomes] == ["succeeded", "succeeded"]
    assert_never_concurrent(fetches)
    pages = Counter(
        (fetch.connection, fetch.url) for fetch in fetches if fetch.url.startswith(whoop.api_base)
    )
    assert pages, "the runs fetched nothing"
    assert max(pages.values()) == 2  # each page once per run: two runs asked for it
    db_session.expire_all()
    runs = list(await db_session.scalars(select(SyncRun).where(SyncRun.connection_id.in_(ids))))
    assert len(runs) == 4
    assert {run.status for run in runs} == {"succeeded"}
    assert {run.attempts for run in runs} == {1}
    for run in runs:
        assert run.connection_id is not None
        for collection, counted in run.counts.items():
            stored = await stored_ids(db_session, run.connection_id, collection)
            assert len(stored) == len(set(stored))
            # Both runs listed the same window: each counted every record stored.
            assert counted["records"] == len(stored), (collection, counted)
    for connection_id in ids:
        mine = [run for run in runs if run.connection_id == connection_id]
        for collection in mine[0].counts:
            inserted = sum(run.counts[collection]["inserted"] for run in mine)
            assert inserted == len(await stored_ids(db_session, connection_id, collection))


async def test_incremental_cli_and_api_runs_leave_the_newest_checkpoint(
    sync_client: httpx.AsyncClient,
    sync_app: FastAPI,
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
    fetches: list[Fetch],
) -> None:
    org = await create_organization(db_session, sync_client)
    person = await create_person(db_session, org.id)
    connection = await whoop_connection(
        db_session, sync_settings, whoop, whoop.members[0], person=person
    )
    connection_id = connection.id
    services = SyncServices(sync_settings, sync_app.state.sessionmaker, sync_app.state.pacer)

    async def api_then_worker() -> None:
        for _ in range(2):  # the second asks while the first waits: the same run comes back
            accepted = await sync_client.post(
                f"/api/v1/users/{person.id}/sync", headers=org.owner.headers
            )
            assert accepted.status_code == 202, accepted.text
        await _worker_until_done(sync_app, db_session, [connection_id])

    cli = sync_connections(services, [connection_id], wait_busy=120)
    (outcome,), _ = await asyncio.gather(cli, api_then_worker())

    assert outcome.status == "succeeded"
    assert_never_concurrent(fetches)
    db_session.expire_all()
    runs = list(
        await db_session.scalars(select(SyncRun).where(SyncRun.connection_id == connection_id))
    )
    assert {run.status for run in runs} == {"succeeded"}
    assert 1 <= len(runs) <= 2
    for collection in runs[0].counts:
        newest = max(run.counts[collection]["window"][1] for run in runs)
        checkpoint = await db_session.get(SyncCheckpoint, (connection_id, collection))
        assert checkpoint is not None
        assert checkpoint.synced_until is not None
        assert checkpoint.synced_until.isoformat() == newest


async def test_a_live_run_is_never_adopted_and_a_dead_one_is(
    sync_client: httpx.AsyncClient,
    sync_settings: Settings,
    sync_app: FastAPI,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
) -> None:
    services = SyncServices(sync_settings, sync_app.state.sessionmaker, sync_app.state.pacer)
    connection = await whoop_connection(db_session, sync_settings, whoop, whoop.members[0])
    held = await queue_run(db_session, connection)
    held.status, held.owner, held.attempts = "running", "job:elsewhere", 1
    held.leased_until = utc_now() + timedelta(minutes=5)
    held_id, connection_id = held.id, connection.id
    await db_session.commit()
    queued_id = (await queue_run(db_session, connection)).id
    with pytest.raises(ConnectionBusy):
        await execute_run(services, held_id, owner="cli:me")
    with pytest.raises(ConnectionBusy):
        await execute_run(services, queued_id, owner="cli:me")
    outcomes = await sync_connections(services, [connection_id])
    assert [(o.status, o.error, o.run_id) for o in outcomes] == [("skipped", "busy", None)]

    # Its executor died: the lease runs out, and the next claimant adopts and finishes it.
    await db_session.execute(
        update(SyncRun)
        .where(SyncRun.id == held_id)
        .values(leased_until=utc_now() - timedelta(seconds=1))
    )
    await db_session.commit()
    assert await execute_run(services, held_id, owner="cli:me") == "succeeded"
    assert await execute_run(services, queued_id, owner="cli:me") == "succeeded"
    db_session.expire_all()
    adopted = await db_session.get(SyncRun, held_id)
    assert adopted is not None
    assert (adopted.owner, adopted.attempts, adopted.leased_until) == ("cli:me", 2, None)


class StingyPacer(MemoryPacer):
    """Refuses three of every four requests as a spent budget does (the job waits and comes
    back); the fifth refusal asks for an hour."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(provider_budgets(settings), max_wait=30.0)
        self.calls = 0
        self.refusals = 0

    async def acquire(self, provider: str, connection_key: str) -> float:
        self.calls += 1
        if self.calls % 4:
            self.refusals += 1
            raise BudgetExhausted(3600.0 if self.refusals == 5 else 0.0, "test budget spent")
        return await super().acquire(provider, connection_key)


async def test_budget_waits_never_fail_a_run_and_show_when_it_goes_on(
    sync_client: httpx.AsyncClient,
    sync_app: FastAPI,
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
) -> None:
    org = await create_organization(db_session, sync_client)
    person = await create_person(db_session, org.id)
    member = whoop.members[0]
    connection = await whoop_connection(db_session, sync_settings, whoop, member, person=person)
    connection_id = connection.id
    pacer = StingyPacer(sync_settings)
    sync_app.state.job_runtime.services.pacer = pacer

    accepted = await sync_client.post(f"/api/v1/users/{person.id}/sync", headers=org.owner.headers)
    run_id = accepted.json()["data"][0]["id"]
    await run_jobs(sync_app)
    waiting = await sync_client.get(f"/api/v1/sync-runs/{run_id}", headers=org.owner.headers)
    body = waiting.json()
    assert (body["status"], body["attempts"], pacer.refusals) == ("waiting_for_budget", 1, 5)
    resume = datetime.fromisoformat(body["next_attempt_at"])
    assert resume > utc_now() + timedelta(minutes=59)
    listed = await sync_client.get(
        "/api/v1/sync-runs", params={"status": "waiting_for_budget"}, headers=org.owner.headers
    )
    assert [run["id"] for run in listed.json()["data"]] == [run_id]

    # The hour has passed (the job is due now): the run goes on where it stopped.
    if sync_settings.job_backend == "procrastinate":
        await db_session.execute(
            text("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'")
        )
    else:
        await db_session.execute(update(Job).values(run_at=utc_now()))
    await db_session.commit()
    await run_jobs(sync_app)
    done = await sync_client.get(f"/api/v1/sync-runs/{run_id}", headers=org.owner.headers)
    body = done.json()
    assert pacer.refusals > MAX_RUN_ATTEMPTS  # many more waits than attempts a run may take
    assert (body["status"], body["attempts"], body["next_attempt_at"]) == ("succeeded", 1, None)
    await assert_whoop_complete(db_session, whoop, member, connection_id)
