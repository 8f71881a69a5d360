from __future__ import annotations

from pathlib import Path

import pytest

from somna.config import Settings
from somna.sandbox import AsleepSandbox, WhoopSandbox
from tests.conftest import make_settings
from tests.connections.support import SYNC_SETTINGS, asleep, sync_app, sync_client, whoop

__all__ = ["asleep", "sync_app", "sync_client", "whoop"]


@pytest.fixture
def sync_settings(
    database_url: str, tmp_path: Path, whoop: WhoopSandbox, asleep: AsleepSandbox
) -> Settings:
    """The sandboxes' settings, and an outgoing-webhook endpoint on loopback allowed; its
    failed deliveries wait an hour, so running the jobs never loops on them."""
    return make_settings(
        database_url,
        tmp_path,
        **whoop.settings_overrides(),
        **asleep.settings_overrides(),
        **SYNC_SETTINGS,
        webhooks_allow_private=True,
        webhook_retry_schedule="3600",
    )
