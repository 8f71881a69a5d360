"""Sandboxes on loopback, settings pointing at them, and an in-memory token store."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from somna.config import Settings
from somna.providers.exceptions import ReauthorizationRequired
from somna.providers.http import ProviderHttp, RetryPolicy
from somna.providers.oauth import TokenSet
from somna.sandbox import AsleepConfig, AsleepSandbox, WhoopConfig, WhoopSandbox
from tests.conftest import make_settings

FROZEN_AT = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
END_DATE = date(2026, 11, 20)
# Fast, seeded retries: tests check counts and outcomes, never durations.
FAST_RETRY = RetryPolicy(max_retries=3, backoff_base_seconds=0.001, backoff_cap_seconds=0.01)


@pytest.fixture
def whoop() -> Iterator[WhoopSandbox]:
    sandbox = WhoopSandbox(WhoopConfig(seed=3, days=30, end_date=END_DATE), people=2)
    sandbox.freeze_clock(FROZEN_AT)
    with sandbox:
        yield sandbox


@pytest.fixture
def asleep() -> Iterator[AsleepSandbox]:
    sandbox = AsleepSandbox(AsleepConfig(seed=3, days=30, end_date=END_DATE))
    sandbox.freeze_clock(FROZEN_AT)
    with sandbox:
        yield sandbox


@pytest.fixture
def provider_settings(tmp_path: Path, whoop: WhoopSandbox, asleep: AsleepSandbox) -> Settings:
    """Settings whose provider URLs and credentials are the sandboxes' (no database used)."""
    return make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        tmp_path,
        **whoop.settings_overrides(),
        **asleep.settings_overrides(),
        provider_max_retries=3,
    )


def fast_http(provider: str, base_url: str, **kwargs: object) -> ProviderHttp:
    return ProviderHttp(
        provider,
        base_url,
        retry=kwargs.pop("retry", FAST_RETRY),  # type: ignore[arg-type]
        rng=random.Random(0),
        **kwargs,  # type: ignore[arg-type]
    )


class MemoryTokenStore:
    """A connection's token row, shared by several ManagedTokens (several "workers")."""

    def __init__(self, tokens: TokenSet | None) -> None:
        self.tokens = tokens
        self.saves = 0
        self.failures: list[ReauthorizationRequired] = []

    async def load(self) -> TokenSet | None:
        return self.tokens

    async def save(self, tokens: TokenSet) -> None:
        self.tokens = tokens
        self.saves += 1

    async def report_failure(self, error: ReauthorizationRequired) -> None:
        self.failures.append(error)


def token_set(body: dict[str, object], *, now: datetime | None = None) -> TokenSet:
    from somna.kit.time import utc_now
    from somna.providers.oauth import parse_token_response

    return parse_token_response("whoop", body, now=now or utc_now())
