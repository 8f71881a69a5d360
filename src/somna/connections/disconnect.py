"""Disconnecting: withdraw the grant at the provider, forget the tokens, keep or delete data."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from somna.connections.clients import ConnectionRef, open_provider
from somna.connections.exceptions import ConnectionNotFound, ProviderBusy
from somna.connections.linking import announce, call_provider, paced
from somna.connections.ports import ConnectionServices
from somna.connections.repository import ConnectionRepository, OAuthStateRepository
from somna.connections.schemas import Disconnected
from somna.models import Connection, Person
from somna.nights.repository import CountedNights
from somna.providers.base import Provider
from somna.providers.exceptions import ProviderError

log = structlog.get_logger(__name__)


async def disconnect(
    session: AsyncSession,
    services: ConnectionServices,
    person: Person,
    provider_name: str,
    *,
    delete_data: bool,
) -> Disconnected:
    """Revoke at the provider (best effort), forget the tokens, keep or delete the records."""
    repository = ConnectionRepository(session)
    connection = await repository.for_person(person.id, provider_name)
    if connection is None:
        raise ConnectionNotFound(
            f"This user has no {provider_name} connection.", extra={"provider": provider_name}
        )
    revoked, problem = False, None
    if connection.status != "revoked":
        revoked, problem = await revoke_at_provider(services, connection, person)
    # After the provider call (no lock is held across HTTP), before any write: a sync page
    # committing now finishes first, and none commits after this without seeing the change.
    await repository.lock(connection)
    await services.cancel_runs(session, connection.id, "the connection was removed")
    await OAuthStateRepository(session).delete_for_person(person.id, provider_name)
    records = 0
    if delete_data:
        records = await services.count_records(session, connection.id)
        await repository.delete_connection(connection.id)
        # The cascade removed this provider's nights: another provider's record of the same
        # night may count now.
        await CountedNights(session).refresh(person.id)
    else:
        await repository.forget_tokens(connection)
    status = "deleted" if delete_data else "revoked"
    await announce(session, services.queue, connection, "connection.revoked", status)
    log.info(
        "connection.disconnected",
        provider=provider_name,
        connection_id=str(connection.id),
        data_deleted=delete_data,
    )
    return Disconnected(
        provider=provider_name,
        status=status,
        revoked_at_provider=revoked,
        provider_error=problem,
        data_deleted=delete_data,
        records_deleted=records,
    )


async def revoke_at_provider(
    services: ConnectionServices, connection: Connection, person: Person
) -> tuple[bool, str | None]:
    """Withdraw Somna's grant at the provider, best effort: ``(revoked, problem)``."""
    ref = ConnectionRef(
        connection.id, connection.provider, connection.provider_user_id, person.timezone
    )
    provider: Provider = open_provider(
        services.settings,
        services.sessionmaker,
        services.engine,
        ref,
        transport=paced(services, connection.provider, person.id),
    )
    try:
        return await call_provider(provider.revoke()), None
    except (ProviderError, ProviderBusy) as exc:
        error = f"{type(exc).__name__}: {exc.detail}"[:1000]  # as a sync run would log it
        log.warning("connection.revoke_failed", provider=connection.provider, error=error)
        return False, exc.detail
    finally:
        await provider.aclose()
