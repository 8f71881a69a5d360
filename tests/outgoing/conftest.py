from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from somna.config import Settings
from tests.conftest import make_settings
from tests.outgoing.receiver import Receiver, serve_receiver

# Compressed: three retries at once, so a test drains the whole schedule in one worker run.
RETRY_SCHEDULE = "0,0,0"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        webhooks_allow_private=True,
        webhook_retry_schedule=RETRY_SCHEDULE,
        # Well under the slow endpoint's 3 s, and room for an answer on a loaded machine (at
        # 0.5 s a first attempt once timed out before the receiver saw it).
        webhook_timeout_seconds=1.5,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as running:
        yield running
