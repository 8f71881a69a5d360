"""The arrangement most analytics endpoint tests share: the app's clock at ``NOW`` (Thursday
2026-03-12, 10:00 UTC), an organisation with its owner logged in, and one tracked person."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import Person
from tests.analytics.support import pin_now
from tests.support.auth import Org, create_organization, create_person


@pytest.fixture
async def org(app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession) -> Org:
    """An organisation with its owner logged in, the app's clock pinned to ``NOW``."""
    pin_now(app)
    return await create_organization(db_session, client)


@pytest.fixture
async def person(db_session: AsyncSession, org: Org) -> Person:
    """A tracked person of ``org``, without records."""
    return await create_person(db_session, org.id)
