"""The sync engine against the WHOOP and Asleep sandboxes over real HTTP: backfill, incremental
windows, resuming from a checkpoint, faults, re-scored and deleted records, and the pacer."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.db import create_engine, create_sessionmaker
from somna.kit.http import new_transport
from somna.kit.time import utc_now
from somna.models import Connection, SleepSession, SyncCheckpoint, SyncRun
from somna.pacing import Budget, MemoryPacer, provider_budgets
from somna.providers.exceptions import ProviderUnavailable
from somna.sandbox import AsleepSandbox, WhoopSandbox
from somna.sync.batch import sync_connections
from somna.sync.engine import SyncProgress, SyncServices, execute_run
from tests.connections.support import (
    asleep,
    asleep_connection,
    asleep_expected,
    assert_whoop_complete,
    queue_run,
    stored_ids,
    sync_app,
    sync_settings,
    whoop,
    whoop_connection,
    whoop_expected,
)

__all__ = ["asleep", "sync_app", "sync_settings", "whoop"]


class CountingPacer(MemoryPacer):
    """The in-memory pacer, counting what the engine asked of it."""

    def __init__(self, budgets: dict[str, Budget]) -> None:
        super().__init__(budgets, max_wait=30.0)
        self.acquired: list[str] = []
        self.pauses: list[float] = []

    async def acquire(self, provider: str, connection_key: str) -> float:
        self.acquired.append(connection_key)
        return await super().acquire(provider, connection_key)

    async def pause(self, provider: str, seconds: float) -> None:
        self.pauses.append(seconds)
        await super().pause(provider, seconds)


def services_for(settings: Settings, pacer: MemoryPacer | None = None) -> SyncServices:
    engine = create_engine(settings.database_url)
    chosen = pacer or MemoryPacer(provider_budgets(settings), max_wait=30.0)
    return SyncServices(settings, create_sessionmaker(engine), chosen)


@pytest.fixture
async def services(sync_settings: Settings) -> AsyncIterator[SyncServices]:
    chosen = services_for(sync_settings)
    yield chosen
    await chosen.engine.dispose()


async def _run(session: AsyncSession, run_id: uuid.UUID) -> SyncRun:
    session.expire_all()
    run = await session.get(SyncRun, run_id)
    assert run is not None
    return run


async def test_first_sync_backfills_the_configured_history_then_reads_only_the_overlap(
    sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    settings = sync_settings.model_copy(update={"sync_backfill_days": 10})
    services = services_for(settings)
    member = whoop.members[0]
    connection = await whoop_connection(db_session, settings, whoop, member)
    connection_id = connection.id
    try:
        first_id = (await queue_run(db_session, connection)).id
        started = utc_now()
        assert await execute_run(services, first_id) == "succeeded"
        run = await _run(db_session, first_id)
        horizon = started - timedelta(days=10)
        with whoop.world.lock:
            touching = {s.id for s in whoop.world.sleeps(member) if s.end >= horizon}
            older = {s.id for s in whoop.world.sleeps(member) if s.end < horizon}
        assert older, "the sandbox must hold history beyond the backfill"
        assert set(await stored_ids(db_session, connection_id, "sleep")) == touching
        sleep = run.counts["sleep"]
        assert sleep["pages"] == math.ceil(len(touching) / 10)
        assert sleep["inserted"] == len(touching)
        assert run.requests >= sum(item["pages"] for item in run.counts.values())
        assert (run.attempts, run.pages) == (1, sum(i["pages"] for i in run.counts.values()))
        checkpoint = await db_session.get(SyncCheckpoint, (connection_id, "sleep"))
        assert checkpoint is not None
        assert checkpoint.synced_until is not None
        assert checkpoint.synced_until >= started
        assert (checkpoint.window_start, checkpoint.next_token) == (None, None)
        synced_until = checkpoint.synced_until

        second_id = (await queue_run(db_session, connection)).id
        assert await execute_run(services, second_id) == "succeeded"
        again = await _run(db_session, second_id)
        window_start = again.counts["sleep"]["window"][0]
        assert window_start == (synced_until - timedelta(hours=48)).isoformat()
        assert again.counts["sleep"]["inserted"] == 0
        assert again.counts["sleep"]["records"] < sleep["records"]
        assert len(await stored_ids(db_session, connection_id, "sleep")) == len(touching)
        db_session.expire_all()
        row = await db_session.get(Connection, connection_id)
        assert row is not None
        assert row.last_sync_at is not None
        assert row.next_sync_at is not None
        assert row.next_sync_at > row.last_sync_at + timedelta(minutes=59)
    finally:
        await services.engine.dispose()


async def test_a_failed_attempt_resumes_from_the_last_committed_page(
    sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    # Pages commit two at a time: the provider fails right after the first two committed.
    settings = sync_settings.model_copy(update={"sync_page_size": 5, "sync_pages_per_commit": 2})
    services = services_for(settings)
    member = whoop.members[0]
    connection = await whoop_connection(db_session, settings, whoop, member)
    connection_id = connection.id
    run_id = (await queue_run(db_session, connection)).id
    expected = whoop_expected(whoop, member)
    assert len(expected["sleep"]) > 10  # three pages of five at least

    def break_after_two_pages(event: SyncProgress) -> None:
        if event.collection == "sleep" and event.pages == 2:
            whoop.set_faults(errors_next=50)  # the provider goes down mid-listing

    with pytest.raises(ProviderUnavailable):
        await execute_run(services, run_id, progress=break_after_two_pages)
    broken = await _run(db_session, run_id)
    assert broken.status == "running"
    assert broken.counts["sleep"]["pages"] == 2
    assert broken.errors[-1]["retryable"] is True
    assert len(await stored_ids(db_session, connection_id, "sleep")) == 10
    checkpoint = await db_session.get(SyncCheckpoint, (connection_id, "sleep"))
    assert checkpoint is not None
    assert checkpoint.run_id == run_id
    assert checkpoint.next_token is not None  # the page after the second, committed with it

    whoop.reset_faults()
    before = whoop.request_count()
    assert await execute_run(services, run_id) == "succeeded"
    done = await _run(db_session, run_id)
    assert done.attempts == 2
    sleep_pages = math.ceil(len(expected["sleep"]) / 5)
    assert done.counts["sleep"]["pages"] == sleep_pages  # no page committed twice
    # The second attempt asked only for the pages the first did not commit (and the rest).
    other_pages = sum(item["pages"] for name, item in done.counts.items() if name != "sleep")
    assert whoop.request_count() - before == (sleep_pages - 2) + other_pages
    await assert_whoop_complete(db_session, whoop, member, connection_id)
    await services.engine.dispose()


class _FailAfterSleepPages(httpx.AsyncBaseTransport):
    """The real transport to the sandbox, which goes down once ``pages`` pages of sleep were
    served: what a provider outage in the middle of a listing looks like to the client."""

    def __init__(self, whoop: WhoopSandbox, pages: int) -> None:
        self.whoop, self.left = whoop, pages
        self.inner = new_transport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/activity/sleep") and self.left > 0:
            self.left -= 1
            if self.left == 0:
                self.whoop.set_faults(errors_next=50)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_pages_fetched_before_a_failure_are_committed_before_it_is_raised(
    sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    """Four pages a commit, and the provider fails on the fourth: the three fetched before it
    are committed with their checkpoint, not fetched again."""
    settings = sync_settings.model_copy(update={"sync_page_size": 4, "sync_pages_per_commit": 4})
    services = services_for(settings)
    services.transport = _FailAfterSleepPages(whoop, pages=3)
    member = whoop.members[0]
    connection = await whoop_connection(db_session, settings, whoop, member)
    connection_id = connection.id
    run_id = (await queue_run(db_session, connection)).id
    expected = whoop_expected(whoop, member)
    assert len(expected["sleep"]) > 16  # five pages of four at least

    with pytest.raises(ProviderUnavailable):
        await execute_run(services, run_id)
    broken = await _run(db_session, run_id)
    assert broken.status == "running"
    assert broken.counts["sleep"]["pages"] == 3
    assert len(await stored_ids(db_session, connection_id, "sleep")) == 12
    checkpoint = await db_session.get(SyncCheckpoint, (connection_id, "sleep"))
    assert checkpoint is not None
    assert checkpoint.next_token is not None  # the cursor after the third page

    whoop.reset_faults()
    before = whoop.request_count()
    assert await execute_run(services, run_id) == "succeeded"
    done = await _run(db_session, run_id)
    sleep_pages = math.ceil(len(expected["sleep"]) / 4)
    assert done.counts["sleep"]["pages"] == sleep_pages  # no page committed twice
    other_pages = sum(item["pages"] for name, item in done.counts.items() if name != "sleep")
    assert whoop.request_count() - before == (sleep_pages - 3) + other_pages
    await assert_whoop_complete(db_session, whoop, member, connection_id)
    await services.engine.dispose()


async def test_provider_faults_are_retried_and_every_record_lands_once(
    sync_app: FastAPI, sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    from asgi_lifespan import LifespanManager

    member = whoop.members[1]
    connection = await whoop_connection(db_session, sync_settings, whoop, member)
    connection_id = connection.id
    run_id = (await queue_run(db_session, connection)).id
    # A 429 burst, then more 5xx than one request's retries absorb, torn bodies, and access
    # tokens that die after a few calls (long before their advertised expiry).
    whoop.set_faults(rate_limit_next=2, errors_next=2, malformed_next=1, token_lifetime_requests=4)
    async with LifespanManager(sync_app):
        await sync_app.state.job_runtime.queue.defer(
            "sync.connection", {"connection_id": str(connection_id)}
        )
        await sync_app.state.job_runtime.run_until_idle()
    done = await _run(db_session, run_id)
    assert done.status == "succeeded", done.errors
    assert done.attempts == 2  # the 5xx outlasted one request's retries: the job retried
    assert done.retries >= 4
    assert any(error["retryable"] for error in done.errors)
    assert whoop.token_calls["refresh_token"] >= 2
    await assert_whoop_complete(db_session, whoop, member, connection_id)
    # The rotated refresh token was stored: the connection still works afterwards.
    db_session.expire_all()
    row = await db_session.get(Connection, connection_id)
    assert row is not None
    assert row.status == "active"


async def test_a_late_score_is_caught_even_without_overlap(
    sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    settings = sync_settings.model_copy(update={"sync_overlap_hours": 0})
    services = services_for(settings)
    member = whoop.members[0]
    now = whoop.world.now()
    with whoop.world.lock:
        latest = max(whoop.world.sleeps(member), key=lambda sleep: sleep.end)
        latest.scored_at = now + timedelta(hours=10)  # the strap synced late
    connection = await whoop_connection(db_session, settings, whoop, member)
    connection_id = connection.id
    try:
        first_id = (await queue_run(db_session, connection)).id
        await execute_run(services, first_id)

        async def state() -> str | None:
            db_session.expire_all()
            return await db_session.scalar(
                select(SleepSession.score_state).where(
                    SleepSession.provider_record_id == latest.id,
                    SleepSession.connection_id == connection_id,
                )
            )

        assert await state() == "PENDING_SCORE"
        whoop.score_pending()
        second_id = (await queue_run(db_session, connection)).id
        await execute_run(services, second_id)
        assert await state() == "SCORED"
        window = (await _run(db_session, second_id)).counts["sleep"]["window"]
        assert window[0] <= latest.start.isoformat()
    finally:
        await services.engine.dispose()


async def test_records_deleted_at_the_provider_are_removed(
    services: SyncServices, sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    member = whoop.members[0]
    connection = await whoop_connection(db_session, sync_settings, whoop, member)
    connection_id = connection.id
    await execute_run(services, (await queue_run(db_session, connection)).id)
    with whoop.world.lock:
        night = max(
            (s for s in whoop.world.sleeps(member) if not s.nap), key=lambda sleep: sleep.end
        )
    assert night.id in await stored_ids(db_session, connection_id, "sleep")
    assert str(night.cycle_id) in await stored_ids(db_session, connection_id, "recovery")
    whoop.delete_sleep(member.user_id, night.id)

    run_id = (await queue_run(db_session, connection)).id
    assert await execute_run(services, run_id) == "succeeded"
    assert night.id not in await stored_ids(db_session, connection_id, "sleep")
    assert (await _run(db_session, run_id)).counts["sleep"]["deleted"] == 2  # sleep + recovery
    await assert_whoop_complete(db_session, whoop, member, connection_id)


async def test_every_request_waits_for_the_pacer_and_a_429_pauses_it(
    sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    settings = sync_settings.model_copy(update={"whoop_requests_per_minute": 3000})
    pacer = CountingPacer(provider_budgets(settings))
    services = services_for(settings, pacer)
    member = whoop.members[0]
    connection = await whoop_connection(db_session, settings, whoop, member)
    whoop.set_faults(rate_limit_next=1, rate_limit_retry_after=1)
    try:
        run_id = (await queue_run(db_session, connection)).id
        assert await execute_run(services, run_id) == "succeeded"
    finally:
        await services.engine.dispose()
    # Every request the sandbox admitted, plus the one it refused, went through the pacer.
    assert len(pacer.acquired) == whoop.request_count() + 1
    assert set(pacer.acquired) == {str(connection.id)}
    assert pacer.pauses == [1.0]


async def test_asleep_sessions_sync_exactly(
    services: SyncServices, db_session: AsyncSession, asleep: AsleepSandbox
) -> None:
    connection, user_id = await asleep_connection(db_session, asleep)
    run_id = (await queue_run(db_session, connection)).id
    assert await execute_run(services, run_id) == "succeeded"
    stored = await stored_ids(db_session, connection.id, "sleep")
    assert len(stored) == len(set(stored))
    assert set(stored) == asleep_expected(asleep, user_id)
    assert (await _run(db_session, run_id)).counts.keys() == {"sleep"}


async def test_sync_connections_runs_in_process_and_reports_progress(
    services: SyncServices,
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
    asleep: AsleepSandbox,
) -> None:
    first = await whoop_connection(db_session, sync_settings, whoop, whoop.members[0])
    second = await whoop_connection(db_session, sync_settings, whoop, whoop.members[1])
    third, _ = await asleep_connection(db_session, asleep)
    ids = [first.id, second.id, third.id]
    events: list[SyncProgress] = []

    async def progress(event: SyncProgress) -> None:
        events.append(event)

    outcomes = await sync_connections(services, ids, concurrency=2, progress=progress)
    assert {o.connection_id: o.status for o in outcomes} == dict.fromkeys(ids, "succeeded")
    finals = [event for event in events if event.done]
    assert sorted(event.connection_id for event in finals) == sorted(ids)
    for connection_id in ids:
        steps = [e for e in events if e.connection_id == connection_id and not e.done]
        assert steps
        assert [e.pages for e in steps] == list(range(1, len(steps) + 1))
    await assert_whoop_complete(db_session, whoop, whoop.members[0], ids[0])
    run_ids = [outcome.run_id for outcome in outcomes if outcome.run_id is not None]
    triggers = [(await _run(db_session, run_id)).trigger for run_id in run_ids]
    assert triggers == ["cli"] * 3
