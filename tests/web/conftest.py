"""Fixtures of the dashboard tests: a seeded organisation, a served dashboard and Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy.ext.asyncio import AsyncSession

from tests.web.browser import Dashboard, launch_args, serve_dashboard
from tests.web.support import Seeded, seed


@pytest.fixture
async def seeded(db_session: AsyncSession) -> Seeded:
    return await seed(db_session, datetime.now(UTC).date(), nights=21)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, never a downloaded browser, for one module at a time.

    Playwright's sync API marks this thread's event loop as running for as long as it lives,
    and pytest-asyncio cannot start a test's loop beside it: it stops when the browser
    module ends, so the async tests after it run as they would alone.
    """
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**launch_args())
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    yield from serve_dashboard(tmp_path_factory.mktemp("dashboard"))
