from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from somna.config import Settings
from somna.sandbox import AsleepSandbox, WhoopSandbox
from tests.conftest import make_settings
from tests.connections.support import SYNC_SETTINGS, asleep, sync_app, sync_client, whoop
from tests.outgoing.receiver import Receiver, serve_receiver

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
