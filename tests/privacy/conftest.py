from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.sandbox import AsleepSandbox, WhoopSandbox
from tests.conftest import make_settings
from tests.connections.support import SYNC_SETTINGS, asleep, sync_app, sync_client, whoop
from tests.outgoing.receiver import Receiver, serve_receiver
from tests.privacy.support import World, arrange

__all__ = ["asleep", "sync_app", "sync_client", "whoop"]


@pytest.fixture
def sync_settings(
    database_url: str, tmp_path: Path, whoop: WhoopSandbox, asleep: AsleepSandbox
) -> Settings:
    """The sandboxes' settings, and outgoing-webhook endpoints on loopback allowed."""
    return make_settings(
        database_url,
        tmp_path,
        **whoop.settings_overrides(),
        **asleep.settings_overrides(),
        **SYNC_SETTINGS,
        webhooks_allow_private=True,
        webhook_retry_schedule="0",
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """Where the organisation's outgoing webhooks go (it answers 200)."""
    with serve_receiver() as running:
        yield running


@pytest.fixture
async def world(
    sync_app: FastAPI,
    sync_client: httpx.AsyncClient,
    db_session: AsyncSession,
    sync_settings: Settings,
    whoop: WhoopSandbox,
    receiver: Receiver,
) -> World:
    """Two tracked people of one organisation, with an endpoint taking its events."""
    return await arrange(sync_app, sync_client, db_session, sync_settings, whoop, receiver)
