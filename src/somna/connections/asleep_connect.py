"""Connecting Asleep: create an Asleep user for the person, or link one that exists."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from somna.connections.exceptions import (
    AlreadyConnected,
    ProviderAccountInUse,
    ProviderNotConfigured,
)
from somna.connections.linking import call_provider, connected, paced, store_link
from somna.connections.ports import ConnectionServices
from somna.connections.repository import ConnectionRepository
from somna.connections.schemas import AsleepConnectRequest
from somna.errors import NotFound
from somna.jobs.port import JobQueue
from somna.kit.time import zone_or_utc
from somna.models import Connection, Person
from somna.providers.asleep.provider import AsleepProvider
from somna.providers.base import ConnectionContext
from somna.providers.exceptions import ProviderNotFound


async def connect_asleep(
    session: AsyncSession,
    services: ConnectionServices,
    queue: JobQueue,
    person: Person,
    payload: AsleepConnectRequest,
) -> tuple[Connection, bool]:
    """Link an Asleep user (created now unless an id is given); ``True`` when newly linked."""
    settings = services.settings
    if not settings.asleep_api_key.get_secret_value():
        raise ProviderNotConfigured(
            "Asleep is not configured on this server (SOMNA_ASLEEP_API_KEY).",
            extra={"provider": "asleep"},
        )
    repository = ConnectionRepository(session)
    existing = await repository.for_person(person.id, "asleep")
    if existing is not None and existing.status == "active":
        if payload.asleep_user_id in (None, existing.provider_user_id) and (
            payload.asleep_user_id is not None or payload.metadata is None
        ):
            return existing, False
        raise AlreadyConnected(
            "This user already has an active Asleep connection; disconnect it first.",
            extra={"provider": "asleep"},
        )
    user_id = await _asleep_user(services, person, payload)
    if await repository.linked_elsewhere(person.organization_id, "asleep", user_id, person.id):
        raise ProviderAccountInUse(
            "This Asleep user is already connected to another user of the organisation.",
            extra={"provider": "asleep"},
        )
    connection = await store_link(session, services, person, "asleep", user_id, {"scopes": []})
    await connected(session, services, queue, connection)
    return connection, True


async def _asleep_user(
    services: ConnectionServices, person: Person, payload: AsleepConnectRequest
) -> str:
    context = ConnectionContext(
        provider_user_id=payload.asleep_user_id, zone=zone_or_utc(person.timezone)
    )
    provider = AsleepProvider.from_settings(
        services.settings, context, transport=paced(services, "asleep", person.id)
    )
    try:
        if payload.asleep_user_id is None:
            return await call_provider(provider.create_user(payload.metadata))
        try:
            identity = await call_provider(provider.fetch_identity())
        except ProviderNotFound:
            raise NotFound(
                f"Asleep has no user {payload.asleep_user_id!r}.",
                extra={"provider": "asleep", "field": "asleep_user_id"},
            ) from None
        return identity.provider_user_id
    finally:
        await provider.aclose()
