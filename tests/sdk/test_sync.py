"""Syncing through the SDK against the WHOOP sandbox: trigger, wait with progress, read."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.sandbox import WhoopSandbox
from somna_client import AsyncSomna, Somna
from tests.conftest import make_settings
from tests.connections.support import SYNC_SETTINGS, whoop, whoop_connection
from tests.support.auth import Org, create_person

__all__ = ["whoop"]


@pytest.fixture
def settings(database_url: str, tmp_path: Path, whoop: WhoopSandbox) -> Settings:
    return make_settings(
        database_url, tmp_path, job_queue="embedded", worker_in_app=True,
        **whoop.settings_overrides(), **SYNC_SETTINGS,
    )  # fmt: skip


async def test_trigger_then_wait_for_the_run(
    client: Somna, settings: Settings, db_session: AsyncSession, org: Org, whoop: WhoopSandbox
) -> None:
    person = await create_person(db_session, org.id)
    await whoop_connection(db_session, settings, whoop, whoop.members[0], person=person)
    [run] = client.sync.trigger(str(person.id), provider="whoop").data
    assert (run.status, run.provider) == ("queued", "whoop")
    states: list[str] = []
    done = client.sync_runs.wait(
        run.id, poll_interval=0.2, on_progress=lambda item: states.append(item.status)
    )
    assert done.status == "succeeded", done.errors
    assert done.records > 0
    assert states[-1] == "succeeded"
    assert [item.id for item in client.sync_runs.list(user_id=str(person.id))] == [run.id]
    assert len(client.sleep.list(str(person.id)).to_list()) > 0


async def test_trigger_all_with_the_async_client(
    aclient: AsyncSomna,
    settings: Settings,
    db_session: AsyncSession,
    org: Org,
    whoop: WhoopSandbox,
) -> None:
    for member in whoop.members:
        person = await create_person(db_session, org.id)
        await whoop_connection(db_session, settings, whoop, member, person=person)
    batch = await aclient.sync.trigger_all(provider="whoop")
    assert len(batch.data) == len(whoop.members)
    seen: list[str] = []

    async def progress(item: object) -> None:
        seen.append(getattr(item, "status", ""))

    for run in batch.data:
        done = await aclient.sync_runs.wait(run.id, poll_interval=0.2, on_progress=progress)
        assert done.status == "succeeded"
    assert seen.count("succeeded") == len(whoop.members)
