"""The demo organisation, its owner and its API key: created once, refreshed on every run.

Nothing is kept in plain text, so a run cannot show an earlier run's password or key: it sets
a fresh owner password and issues a fresh key (revoking the previous demo key).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.auth.passwords import hash_password
from somna.auth.repository import AccountRepository
from somna.auth.scopes import RESOURCE_SCOPES
from somna.batchsync.targets import sync_targets
from somna.config import Settings
from somna.keys.repository import ApiKeyRepository
from somna.keys.service import create_api_key
from somna.kit.time import utc_now
from somna.orgs.repository import OrganizationRepository
from somna.orgs.service import create_organization
from somna.sync.repositories import SyncRunRepository

DEMO_ORG_NAME = "Somna Demo"
DEMO_ORG_SLUG = "somna-demo"
DEMO_OWNER_EMAIL = "owner@demo.example.com"
DEMO_KEY_NAME = "somna demo"


class DemoError(Exception):
    """The demo cannot go on; the message says why."""


@dataclass(frozen=True)
class DemoIdentity:
    organization_id: uuid.UUID
    created: bool  # False: an earlier run's organisation, reused
    owner_email: str
    owner_password: str
    api_key: str
    signing_secret: str
    keys_revoked: int = 0  # earlier demo keys revoked by this run


async def prepare_identity(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> DemoIdentity:
    """Create the demo organisation (or find it), set a fresh owner password, issue a key."""
    password = secrets.token_urlsafe(12)
    async with sessionmaker() as session, session.begin():
        organization = await OrganizationRepository(session).get_by_slug(DEMO_ORG_SLUG)
        created = organization is None
        if organization is None:
            made = await create_organization(
                session,
                name=DEMO_ORG_NAME,
                slug=DEMO_ORG_SLUG,
                owner_email=DEMO_OWNER_EMAIL,
                owner_password=password,
            )
            organization = made.organization
        else:
            owner = await AccountRepository(session).get_by_email(DEMO_OWNER_EMAIL)
            if owner is None or owner.organization_id != organization.id:
                raise DemoError(
                    f"an organisation with slug {DEMO_ORG_SLUG!r} exists but its owner is not "
                    f"{DEMO_OWNER_EMAIL}; it was not made by `somna demo`"
                )
            owner.password_hash = await hash_password(password)
        keys = ApiKeyRepository(session)
        now = utc_now()
        revoked = 0
        for old in await keys.list_for_organization(organization.id):
            if old.name == DEMO_KEY_NAME and old.revoked_at is None:
                old.revoked_at = now
                revoked += 1
        key = await create_api_key(
            session,
            settings,
            organization_id=organization.id,
            name=DEMO_KEY_NAME,
            permissions=["read", "write"],
            scopes=list(RESOURCE_SCOPES),
        )
        return DemoIdentity(
            organization.id, created, DEMO_OWNER_EMAIL, password, key.key, key.signing_secret,
            revoked,
        )  # fmt: skip


async def active_connections(
    sessionmaker: async_sessionmaker[AsyncSession],
    organization_id: uuid.UUID,
    person_ids: list[uuid.UUID],
) -> list[uuid.UUID]:
    """The active connections of these people, in their order."""
    async with sessionmaker() as session:
        targets = await sync_targets(
            session, organization_id=organization_id, person_ids=person_ids
        )
    return [target.connection_id for target in targets if target.status == "active"]


async def cancel_queued_runs(
    sessionmaker: async_sessionmaker[AsyncSession], connection_ids: list[uuid.UUID]
) -> None:
    """Connecting queued a first sync for a worker; the demo runs it here, with bars."""
    async with sessionmaker() as session, session.begin():
        runs = SyncRunRepository(session)
        for connection_id in connection_ids:
            await runs.cancel_pending(connection_id, "run in-process by `somna demo` instead")
