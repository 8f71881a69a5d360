"""What every command that names an organisation or a person shares: one way to open the
database, one way to find them, one message and exit code (2, a usage error) when not found."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from somna.cli._output import abort

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from somna.auth.principal import Principal
    from somna.config import Settings
    from somna.models import Organization, Person

USAGE_ERROR = 2
T = TypeVar("T")


class NotFoundOnCommandLine(Exception):
    """An organisation or person named on the command line does not exist."""


def as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@asynccontextmanager
async def database(
    settings: Settings | None = None,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the configured database; the engine is closed afterwards."""
    from somna.config import get_settings
    from somna.db import create_engine, create_sessionmaker

    engine = create_engine((settings or get_settings()).database_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def database_session() -> AsyncIterator[AsyncSession]:
    """A session on the configured database; the engine is closed afterwards."""
    async with database() as sessionmaker, sessionmaker() as session:
        yield session


async def record_cli(
    session: AsyncSession,
    organization_id: uuid.UUID,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    person_id: uuid.UUID | None = None,
) -> None:
    """Audit an admin command that works on the database directly, in its transaction (the
    command commits both or neither)."""
    from somna.audit.service import record_cli as record

    await record(
        session,
        organization_id,
        action,
        resource_type=resource_type,
        resource_id=resource_id,
        person_id=person_id,
    )


async def record_cli_people(
    session: AsyncSession, action: str, resource_type: str, person_ids: list[uuid.UUID]
) -> None:
    """Audit a command that reads or writes these people's data: one row per person."""
    from somna.audit.service import record_cli_people as record

    await record(session, action, resource_type=resource_type, person_ids=person_ids)


async def find_organization(session: AsyncSession, ref: str) -> Organization:
    """By id or slug."""
    from somna.orgs.repository import OrganizationRepository

    organizations = OrganizationRepository(session)
    as_id = as_uuid(ref)
    organization = await organizations.get_tenant(as_id) if as_id else None
    organization = organization or await organizations.get_by_slug(ref)
    if organization is None:
        raise NotFoundOnCommandLine(f"No organisation with id or slug {ref!r}.")
    return organization


async def find_person(session: AsyncSession, organization: Organization, ref: str) -> Person:
    """By id or email, in ``organization``."""
    from somna.people.repository import PersonRepository

    people = PersonRepository(session)
    as_id = as_uuid(ref)
    if as_id is not None:
        person = await people.get_in_organization(organization.id, as_id)
    else:
        person = await people.get_by_email(organization.id, ref)
    if person is None:
        raise NotFoundOnCommandLine(f"No person {ref!r} in organisation {organization.slug!r}.")
    return person


def owner_of(organization: Organization) -> Principal:
    """The operator acting with an owner's grants in ``organization``."""
    from somna.auth.principal import Principal
    from somna.auth.scopes import grants_for_role

    return Principal(
        kind="account",
        organization_id=organization.id,
        grants=grants_for_role("owner"),
        role="owner",
    )


def run_command(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's work on the database: exit 2 when it names an organisation or person
    that does not exist, 1 when Somna refuses the request."""
    from somna.cli.server import prepare_database
    from somna.errors import SomnaError

    prepare_database(migrate=False)
    try:
        return asyncio.run(work)
    except NotFoundOnCommandLine as exc:
        abort(str(exc), USAGE_ERROR)
    except SomnaError as exc:
        abort(exc.detail, 1)
