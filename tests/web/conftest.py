"""Fixtures of the dashboard tests: a seeded organisation, a served dashboard and Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.web.browser import Dashboard, launch_args, serve_dashboard
from tests.web.support import Seeded, seed


@pytest.fixture
async def seeded(db_session: AsyncSession) -> Seeded:
    return await seed(db_session, datetime.now(UTC).date(), nights=21)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright launches Debian's Chromium, never a downloaded browser."""
    return {**browser_type_launch_args, **launch_args()}


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    yield from serve_dashboard(tmp_path_factory.mktemp("dashboard"))
