"""Fixtures and helpers shared by the connections and sync tests: sandboxes on loopback, app
settings pointing at them, connections arranged straight in the database, and the sandbox's own
view of what every member holds (what a complete sync must have stored, exactly once)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.app import create_app
from somna.config import Settings
from somna.connections.clients import encrypted_tokens, token_box
from somna.kit.time import utc_now
from somna.models import Connection, Organization, Person, SyncRun
from somna.providers.oauth import parse_token_response
from somna.records.repository import COLLECTION_MODELS
from somna.sandbox import AsleepConfig, AsleepSandbox, WhoopConfig, WhoopSandbox
from somna.sandbox.whoop.state import Member
from tests.conftest import make_settings
from tests.support.factories import make_organization, make_person
from tests.support.server import app_client

WHOOP_DAYS = 20
CALLBACK = "http://somna.test/api/v1/oauth/whoop/callback"
# Small pages make several pages per collection out of a few weeks of data.
SYNC_SETTINGS: dict[str, Any] = {
    "sync_page_size": 10,
    "provider_max_retries": 3,
    "whoop_requests_per_minute": 0,  # unpaced unless a test paces on purpose
    "job_retry_base_seconds": 0.0,
    "job_retry_max_seconds": 0.0,
    "whoop_redirect_uri": CALLBACK,
}


@pytest.fixture
def whoop() -> Iterator[WhoopSandbox]:
    sandbox = WhoopSandbox(WhoopConfig(seed=7, days=WHOOP_DAYS, per_minute=100_000), people=2)
    # A still world: nothing appears or gets scored while a test runs.
    sandbox.freeze_clock(utc_now())
    with sandbox:
        yield sandbox


@pytest.fixture
def asleep() -> Iterator[AsleepSandbox]:
    sandbox = AsleepSandbox(AsleepConfig(seed=7, days=WHOOP_DAYS))
    sandbox.freeze_clock(utc_now())
    with sandbox:
        yield sandbox


@pytest.fixture
def sync_settings(
    database_url: str, tmp_path: Path, whoop: WhoopSandbox, asleep: AsleepSandbox
) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        **whoop.settings_overrides(),
        **asleep.settings_overrides(),
        **SYNC_SETTINGS,
    )


@pytest.fixture
def sync_app(sync_settings: Settings) -> FastAPI:
    return create_app(sync_settings)


@pytest.fixture
async def sync_client(sync_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(sync_app) as http:
        yield http


async def run_jobs(app: FastAPI) -> int:
    """Run every due job in the app's own runtime (the test's worker)."""
    ran: int = await app.state.job_runtime.run_until_idle()
    return ran


async def whoop_connection(
    session: AsyncSession,
    settings: Settings,
    whoop: WhoopSandbox,
    member: Member,
    *,
    person: Person | None = None,
    organization: Organization | None = None,
) -> Connection:
    """An active WHOOP connection holding fresh sandbox tokens, as a consent would leave it."""
    if person is None:
        organization = organization or await make_organization(session)
        person = await make_person(session, organization)
    tokens = parse_token_response("whoop", whoop.issue_tokens(member.user_id), now=utc_now())
    connection = Connection(
        organization_id=person.organization_id,
        person_id=person.id,
        provider="whoop",
        provider_user_id=str(member.user_id),
        status="active",
        scopes=list(tokens.scopes),
        **encrypted_tokens(token_box(settings), tokens),
    )
    session.add(connection)
    await session.commit()
    return connection


async def asleep_connection(
    session: AsyncSession, asleep: AsleepSandbox, *, person: Person | None = None
) -> tuple[Connection, str]:
    if person is None:
        person = await make_person(session, await make_organization(session))
    user = asleep.add_person()
    connection = Connection(
        organization_id=person.organization_id,
        person_id=person.id,
        provider="asleep",
        provider_user_id=user.user_id,
        status="active",
        scopes=[],
    )
    session.add(connection)
    await session.commit()
    return connection, user.user_id


async def queue_run(session: AsyncSession, connection: Connection, **fields: Any) -> SyncRun:
    """A queued run row (as the API would create it, without sending a job)."""
    await session.refresh(connection)  # tests expire their session between steps
    run = SyncRun(
        organization_id=connection.organization_id,
        connection_id=connection.id,
        person_id=connection.person_id,
        provider=connection.provider,
        status="queued",
        trigger="manual",
        counts={},
        errors=[],
        **fields,
    )
    session.add(run)
    await session.commit()
    return run


def whoop_expected(whoop: WhoopSandbox, member: Member) -> dict[str, set[str]]:
    """Every record id the sandbox shows this member, per canonical collection."""
    world = whoop.world
    with world.lock:
        return {
            "sleep": {sleep.id for sleep in world.sleeps(member)},
            "cycles": {str(cycle.id) for cycle in world.cycles(member)},
            "recovery": {str(recovery.cycle_id) for recovery, _ in world.recoveries(member)},
            "workouts": {workout.id for workout in world.workouts(member)},
        }


def asleep_expected(asleep: AsleepSandbox, user_id: str) -> set[str]:
    world = asleep.world
    with world.lock:
        return {session_id for session_id, _ in world.visible(world.users[user_id])}


async def stored_ids(session: AsyncSession, connection_id: uuid.UUID, collection: str) -> list[str]:
    """Stored provider ids of one collection (a list: duplicates would show)."""
    model = COLLECTION_MODELS[collection]
    rows = await session.scalars(
        select(model.provider_record_id).where(model.connection_id == connection_id)
    )
    return list(rows)


async def count_rows(session: AsyncSession, collection: str, *criteria: Any) -> int:
    model = COLLECTION_MODELS[collection]
    return int(await session.scalar(select(func.count()).select_from(model).where(*criteria)) or 0)


async def assert_whoop_complete(
    session: AsyncSession, whoop: WhoopSandbox, member: Member, connection_id: uuid.UUID
) -> None:
    """Every record the sandbox holds for the member is stored, exactly once."""
    session.expire_all()
    for collection, expected in whoop_expected(whoop, member).items():
        stored = await stored_ids(session, connection_id, collection)
        assert len(stored) == len(set(stored)), f"{collection}: duplicates"
        assert set(stored) == expected, f"{collection}: {len(stored)} vs {len(expected)}"
