"""Fidelity check: a WHOOP client from PyPI (whoop-client 0.1.0, which speaks v2 and takes a
base URL) lists sleep and cycles from the sandbox without error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from whoop_client import WhoopClient

from somna.sandbox import WhoopConfig, WhoopSandbox
from tests.providers.conftest import END_DATE, FROZEN_AT


@pytest.fixture
def sandbox() -> Iterator[WhoopSandbox]:
    with WhoopSandbox(WhoopConfig(seed=4, days=40, end_date=END_DATE), people=1) as whoop:
        whoop.freeze_clock(FROZEN_AT)
        yield whoop


def test_whoop_client_lists_sleep_and_cycles(sandbox: WhoopSandbox) -> None:
    member = sandbox.members[0]
    token = sandbox.issue_tokens(member.user_id)["access_token"]
    with WhoopClient(token, base_url=sandbox.api_base) as client:
        sleeps = list(client.iter_sleeps())
        cycles = list(client.iter_cycles())
        first = client.get_sleeps(limit=5, start=FROZEN_AT - timedelta(days=10))
        recoveries = list(client.iter_recoveries())
        workouts = list(client.iter_workouts())
        profile = client.get_profile()
    assert len(sleeps) == len(sandbox.world.sleeps(member))
    assert len(cycles) == len(sandbox.world.cycles(member))
    assert len(recoveries) == len(sandbox.world.recoveries(member))
    assert len(workouts) == len(sandbox.world.workouts(member))
    assert len(first.records) == 5
    assert first.next_token
    assert any(s.score is not None for s in sleeps)
    assert profile.user_id == member.user_id
