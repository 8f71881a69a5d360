"""Connecting WHOOP: the OAuth authorization-code flow, from the consent URL to the stored link."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.connections import oauth_state
from somna.connections.clients import encrypted_tokens, provider_for_new_tokens, token_box
from somna.connections.exceptions import (
    AuthorizationDenied,
    ProviderAccountInUse,
    ProviderNotConfigured,
)
from somna.connections.linking import call_provider, connected, paced, store_link
from somna.connections.ports import ConnectionServices
from somna.connections.repository import ConnectionRepository
from somna.connections.return_to import check_return_to
from somna.connections.schemas import AuthorizationStart
from somna.errors import NotFound
from somna.jobs.port import JobQueue
from somna.kit.time import utc_now
from somna.models import Connection, Person
from somna.people.repository import PersonRepository
from somna.providers.base import ProviderIdentity
from somna.providers.exceptions import ProviderError
from somna.providers.oauth import TokenSet
from somna.providers.whoop.provider import WhoopProvider

CALLBACK_PATH = "/api/v1/oauth/whoop/callback"


def whoop_redirect_uri(settings: Settings) -> str:
    return settings.whoop_redirect_uri or f"{settings.public_url.rstrip('/')}{CALLBACK_PATH}"


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
    services: ConnectionServices,
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
    person = await PersonRepository(session).get_unscoped(consumed.person_id)
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
    services: ConnectionServices, person: Person, code: str
) -> tuple[TokenSet, ProviderIdentity]:
    settings = services.settings
    oauth = WhoopProvider.oauth_client(settings)
    try:
        tokens = await oauth.exchange_code(code, redirect_uri=whoop_redirect_uri(settings))
    finally:
        await oauth.http.aclose()
    provider = provider_for_new_tokens(
        settings, "whoop", tokens, transport=paced(services, "whoop", person.id)
    )
    try:
        identity = await call_provider(provider.fetch_identity())
    finally:
        await provider.aclose()
    return tokens, identity


async def _store_whoop(
    session: AsyncSession,
    services: ConnectionServices,
    queue: JobQueue,
    person: Person,
    tokens: TokenSet,
    identity: ProviderIdentity,
) -> Connection:
    other = await ConnectionRepository(session).linked_elsewhere(
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
    connection = await store_link(
        session, services, person, "whoop", identity.provider_user_id, values
    )
    await connected(session, services, queue, connection)
    return connection
