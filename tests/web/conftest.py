"""Fixtures of the dashboard tests without a browser: a seeded organisation and a client."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.web.support import Seeded, seed


@pytest.fixture
async def seeded(db_session: AsyncSession) -> Seeded:
    return await seed(db_session, datetime.now(UTC).date(), nights=21)
