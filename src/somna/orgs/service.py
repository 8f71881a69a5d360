"""Creating organisations and their first owner."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth.exceptions import EmailTaken
from somna.auth.passwords import hash_password
from somna.auth.repository import AccountRepository
from somna.errors import NotFound
from somna.models import Account, Organization
from somna.nights.repository import CountedNights
from somna.orgs.exceptions import SlugTaken
from somna.orgs.repository import OrganizationRepository


def slugify(name: str) -> str:
    """A URL-safe slug: ASCII letters, digits and single hyphens."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:100] or "organization"


@dataclass(frozen=True)
class CreatedOrganization:
    organization: Organization
    owner: Account


async def create_organization(
    session: AsyncSession,
    *,
    name: str,
    owner_email: str,
    owner_password: str,
    slug: str | None = None,
    settings: dict[str, Any] | None = None,
) -> CreatedOrganization:
    """Create an organisation with its owner account.

    The first organisation on an empty database becomes the operator organisation, whose owners
    and admins may create and act in the others.
    """
    organizations = OrganizationRepository(session)
    accounts = AccountRepository(session)
    slug = slug or slugify(name)
    if await organizations.get_by_slug(slug) is not None:
        raise SlugTaken(f"An organisation with slug {slug!r} already exists.")
    if await accounts.get_by_email(owner_email) is not None:
        raise EmailTaken(f"An account with email {owner_email!r} already exists.")
    is_first = await organizations.count() == 0
    organization = await organizations.add(
        Organization(
            name=name,
            slug=slug,
            is_operator=is_first,
            settings={"timezone": "UTC", **(settings or {})},
        )
    )
    owner = await accounts.add(
        Account(
            organization_id=organization.id,
            email=owner_email.strip().lower(),
            password_hash=await hash_password(owner_password),
            role="owner",
        )
    )
    return CreatedOrganization(organization=organization, owner=owner)


async def update_settings(
    session: AsyncSession, organization_id: uuid.UUID, changes: dict[str, Any]
) -> Organization:
    """Merge ``changes`` into the organisation's settings (default time zone and so on)."""
    organization = await OrganizationRepository(session).get_tenant(organization_id)
    if organization is None:
        raise NotFound("No such organisation.")
    previous = organization.settings.get("source_priority")
    organization.settings = {**organization.settings, **changes}
    await session.flush()
    if organization.settings.get("source_priority") != previous:
        # Which record counts for a night shared by two providers follows the priority, the
        # organisation's for everyone without one of their own.
        counted = CountedNights(session)
        for person_id in await OrganizationRepository(session).people_ids(organization_id):
            await counted.refresh(person_id)
    return organization
