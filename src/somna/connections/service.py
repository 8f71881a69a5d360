"""Connect, list and disconnect a person's providers.

Provider calls happen before this request's own writes: a token refresh commits through its
own session (so other workers see the rotated token at once), and it must never wait for a row
this request has locked.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode, urlsplit

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.connections.clients import (
    ConnectionRef,
    encrypted_tokens,
    open_provider,
    provider_for_new_tokens,
    token_box,
    zone_of,
)
from somna.connections.exceptions import (
    AlreadyConnected,
    AuthorizationDenied,
    ConnectionNotFound,
    ProviderAccountInUse,
    ProviderBusy,
    ProviderNotConfigured,
    ReturnToNotAllowed,
)
from somna.connections.repository import ConnectionRepository
from somna.connections.schemas import (
    AsleepConnectRequest,
    AuthorizationStart,
    ConnectionRead,
    Disconnected,
    LastSync,
)
from somna.errors import NotFound
from somna.jobs.port import JobQueue, RetryLater
from somna.kit.time import utc_now
from somna.models import Connection, Person, SyncRun
from somna.outgoing import emit
from somna.providers import oauth_state
from somna.providers.asleep.provider import AsleepProvider
from somna.providers.base import ConnectionContext, Provider, ProviderIdentity
from somna.providers.exceptions import ProviderError, ProviderNotFound
from somna.providers.oauth import TokenSet
from somna.providers.repository import OAuthStateRepository
from somna.providers.whoop.provider import WhoopProvider
from somna.records.counted_nights import CountedNights
from somna.sync.engine import SyncServices, describe
from somna.sync.repository import StoredRecords, SyncRunRepository
from somna.sync.service import forget_progress, request_sync
from somna.sync.transport import PacedTransport

log = structlog.get_logger(__name__)
T = TypeVar("T")

CALLBACK_PATH = "/api/v1/oauth/whoop/callback"


def whoop_redirect_uri(settings: Settings) -> str:
    return settings.whoop_redirect_uri or f"{settings.public_url.rstrip('/')}{CALLBACK_PATH}"


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_return_to(settings: Settings, return_to: str | None) -> str | None:
    """A path on this server, or a URL on an allowed origin; anything else is refused."""
    if return_to is None:
        return None
    value = return_to.strip()
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    allowed = {
        origin
        for origin in (
            _origin(item.strip()) for item in settings.connect_return_to_origins.split(",")
        )
        if origin
    }
    public = _origin(settings.public_url)
    if public:
        allowed.add(public)
    if _origin(value) not in allowed:
        raise ReturnToNotAllowed(
            "return_to must be a path on this server or a URL on an allowed origin "
            "(SOMNA_CONNECT_RETURN_TO_ORIGINS).",
            field="return_to",
        )
    return value


def with_query(url: str, **params: str) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}{urlencode(params)}"


def _paced(services: SyncServices, provider: str, person_id: uuid.UUID) -> PacedTransport:
    return PacedTransport(services.pacer, provider, f"connect:{person_id}", services.transport)


# --- WHOOP: authorization code flow ---------------------------------------------------------


def _require_whoop(settings: Settings) -> None:
    if not settings.whoop_client_id or not settings.whoop_client_secret.get_secret_value():
        raise ProviderNotConfigured(
            "WHOOP is not configured on this server (SOMNA_WHOOP_CLIENT_ID and _SECRET).",
            extra={"provider": "whoop"},
        )


async def start_whoop(
    session: AsyncSession, settings: Settings, person: Person, return_to: str | None
) -> AuthorizationStart:
    """A consent URL with a fresh state bound to ``person``."""
    _require_whoop(settings)
    target = check_return_to(settings, return_to)
    now = utc_now()
    state = await oauth_state.issue_state(
        session, person_id=person.id, provider="whoop", return_to=target, now=now
    )
    oauth = WhoopProvider.oauth_client(settings)
    try:
        url = oauth.authorization_url(state, redirect_uri=whoop_redirect_uri(settings))
    finally:
        await oauth.http.aclose()
    return AuthorizationStart(
        authorization_url=url, state=state, expires_at=now + oauth_state.STATE_TTL
    )


@dataclass(frozen=True)
class CallbackResult:
    connection: Connection | None
    return_to: str | None
    error: str | None = None
    error_detail: str | None = None


async def complete_whoop(
    session: AsyncSession,
    services: SyncServices,
    queue: JobQueue,
    *,
    code: str | None,
    state: str | None,
    error: str | None,
) -> CallbackResult:
    """The redirect back from WHOOP: use the state, exchange the code, store the connection."""
    settings = services.settings
    _require_whoop(settings)
    consumed = await oauth_state.consume_state(session, state=state or "", provider="whoop")
    person = await session.get(Person, consumed.person_id)
    if person is None:
        raise NotFound("The person this authorization was for no longer exists.")
    if error or not code:
        reason = error or "missing_code"
        if consumed.return_to:
            return CallbackResult(None, consumed.return_to, reason, "WHOOP did not grant access.")
        raise AuthorizationDenied(
            f"WHOOP did not grant access ({reason}).", extra={"provider": "whoop"}
        )
    try:
        tokens, identity = await _exchange(services, person, code)
    except ProviderError as exc:
        if consumed.return_to:
            return CallbackResult(None, consumed.return_to, exc.error_code, exc.detail)
        raise
    connection = await _store_whoop(session, services, queue, person, tokens, identity)
    return CallbackResult(connection, consumed.return_to)


async def _exchange(
    services: SyncServices, person: Person, code: str
) -> tuple[TokenSet, ProviderIdentity]:
    settings = services.settings
    oauth = WhoopProvider.oauth_client(settings)
    try:
        tokens = await oauth.exchange_code(code, redirect_uri=whoop_redirect_uri(settings))
    finally:
        await oauth.http.aclose()
    provider = provider_for_new_tokens(
        settings, "whoop", tokens, transport=_paced(services, "whoop", person.id)
    )
    try:
        identity = await _call(provider.fetch_identity())
    finally:
        await provider.aclose()
    return tokens, identity


async def _store_whoop(
    session: AsyncSession,
    services: SyncServices,
    queue: JobQueue,
    person: Person,
    tokens: TokenSet,
    identity: ProviderIdentity,
) -> Connection:
    repository = ConnectionRepository(session)
    other = await repository.linked_elsewhere(
        person.organization_id, "whoop", identity.provider_user_id, person.id
    )
    if other is not None:
        raise ProviderAccountInUse(
            "This WHOOP account is already connected to another user of the organisation.",
            extra={"provider": "whoop"},
        )
    values = {
        **encrypted_tokens(token_box(services.settings), tokens),
        "scopes": list(tokens.scopes),
    }
    connection = await _upsert(session, person, "whoop", identity.provider_user_id, values)
    await request_sync(session, queue, connection, trigger="connect")
    await _announce(session, queue, connection, "connection.connected")
    log.info("connection.connected", provider="whoop", connection_id=str(connection.id))
    return connection


async def _upsert(
    session: AsyncSession,
    person: Person,
    provider: str,
    provider_user_id: str,
    values: dict[str, object],
) -> Connection:
    """Create the person's connection to ``provider``, or bring a previous one back to life."""
    repository = ConnectionRepository(session)
    connection = await repository.for_person(person.id, provider)
    if connection is None:
        connection = Connection(
            organization_id=person.organization_id, person_id=person.id, provider=provider
        )
        session.add(connection)
    elif connection.provider_user_id not in (None, provider_user_id):
        await forget_progress(session, connection.id)  # another vendor account: backfill it
    connection.provider_user_id = provider_user_id
    connection.status = "active"
    connection.last_error = None
    connection.next_sync_at = None
    for name, value in values.items():
        setattr(connection, name, value)
    await session.flush()
    return connection


async def _announce(
    session: AsyncSession,
    queue: JobQueue | None,
    connection: Connection,
    event_type: str,
    status: str | None = None,
) -> None:
    """The outgoing-webhook event of a connection change, in the caller's transaction."""
    await emit.connection_changed(
        session, queue, connection.organization_id, event_type,
        person_id=connection.person_id, connection_id=connection.id,
        provider=connection.provider, status=status or connection.status,
    )  # fmt: skip


# --- Asleep: create or link a user ----------------------------------------------------------


async def connect_asleep(
    session: AsyncSession,
    services: SyncServices,
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
    connection = await _upsert(session, person, "asleep", user_id, {"scopes": []})
    await request_sync(session, queue, connection, trigger="connect")
    await _announce(session, queue, connection, "connection.connected")
    log.info("connection.connected", provider="asleep", connection_id=str(connection.id))
    return connection, True


async def _asleep_user(
    services: SyncServices, person: Person, payload: AsleepConnectRequest
) -> str:
    context = ConnectionContext(
        provider_user_id=payload.asleep_user_id, zone=zone_of(person.timezone)
    )
    provider = AsleepProvider.from_settings(
        services.settings, context, transport=_paced(services, "asleep", person.id)
    )
    try:
        if payload.asleep_user_id is None:
            return await _call(provider.create_user(payload.metadata))
        try:
            identity = await _call(provider.fetch_identity())
        except ProviderNotFound:
            raise NotFound(
                f"Asleep has no user {payload.asleep_user_id!r}.",
                extra={"provider": "asleep", "field": "asleep_user_id"},
            ) from None
        return identity.provider_user_id
    finally:
        await provider.aclose()


# --- list and disconnect --------------------------------------------------------------------


def _last_sync(run: SyncRun | None) -> LastSync | None:
    if run is None:
        return None
    error = None
    if run.errors:
        last = run.errors[-1]
        error = str(last.get("error")) if isinstance(last, dict) else str(last)
    return LastSync(
        id=run.id,
        status=run.status,
        trigger=run.trigger,
        created_at=run.created_at,
        finished_at=run.finished_at,
        error=error,
    )


def connection_read(connection: Connection, last: SyncRun | None) -> ConnectionRead:
    return ConnectionRead(
        id=connection.id,
        user_id=connection.person_id,
        provider=connection.provider,
        provider_user_id=connection.provider_user_id,
        status=connection.status,
        scopes=list(connection.scopes or []),
        connected_at=connection.created_at,
        token_expires_at=connection.token_expires_at,
        last_sync_at=connection.last_sync_at,
        next_sync_at=connection.next_sync_at,
        last_error=connection.last_error,
        last_sync=_last_sync(last),
    )


async def list_connections(session: AsyncSession, person: Person) -> list[ConnectionRead]:
    connections = await ConnectionRepository(session).list_for_person(person.id)
    latest = await SyncRunRepository(session).latest_for_connections([c.id for c in connections])
    return [connection_read(c, latest.get(c.id)) for c in connections]


async def organization_status_counts(
    session: AsyncSession, organization_id: uuid.UUID
) -> dict[tuple[str, str], int]:
    """Connections of the organisation per (provider, status), for its overview."""
    return await ConnectionRepository(session).status_counts(organization_id)


async def get_connection_read(session: AsyncSession, connection: Connection) -> ConnectionRead:
    latest = await SyncRunRepository(session).latest_for_connections([connection.id])
    return connection_read(connection, latest.get(connection.id))


async def disconnect(
    session: AsyncSession,
    services: SyncServices,
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
    await SyncRunRepository(session).cancel_pending(connection.id, "the connection was removed")
    await OAuthStateRepository(session).delete_for_person(person.id, provider_name)
    records = 0
    if delete_data:
        records = await StoredRecords(session).count_for_connection(connection.id)
        await repository.delete_connection(connection.id)
        # The cascade removed this provider's nights: another provider's record of the same
        # night may count now.
        await CountedNights(session).refresh(person.id)
    else:
        connection.status = "revoked"
        connection.access_token_encrypted = connection.refresh_token_encrypted = None
        connection.token_expires_at = connection.next_sync_at = None
        connection.last_error = None
        await session.flush()
    status = "deleted" if delete_data else "revoked"
    await _announce(session, services.queue, connection, "connection.revoked", status)
    log.info(
        "connection.disconnected",
        provider=provider_name,
        connection_id=str(connection.id),
        data_deleted=delete_data,
    )
    return Disconnected(
        provider=provider_name,
        status="deleted" if delete_data else "revoked",
        revoked_at_provider=revoked,
        provider_error=problem,
        data_deleted=delete_data,
        records_deleted=records,
    )


async def revoke_at_provider(
    services: SyncServices, connection: Connection, person: Person
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
        transport=_paced(services, connection.provider, person.id),
    )
    try:
        return await _call(provider.revoke()), None
    except (ProviderError, ProviderBusy) as exc:
        log.warning("connection.revoke_failed", provider=connection.provider, error=describe(exc))
        return False, exc.detail
    finally:
        await provider.aclose()


async def _call(awaitable: Awaitable[T]) -> T:
    """A provider call inside a request: a budget wait becomes a 503, never a 500."""
    try:
        return await awaitable
    except RetryLater as later:
        raise ProviderBusy(
            "The provider's request budget is spent for now; try again shortly.",
            extra={"retry_after": round(later.seconds, 1)},
            headers={"Retry-After": str(max(1, int(later.seconds)))},
        ) from later
