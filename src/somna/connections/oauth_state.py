"""OAuth ``state``: random, single use, bound to one person and provider, ten-minute life.

Only the SHA-256 of a state is stored, so a leaked table cannot complete anyone's consent.
The caller's session owns the transaction: these functions flush, never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from somna.connections.repository import OAuthStateRepository
from somna.kit.crypto import sha256_hex
from somna.kit.time import utc_now
from somna.models.oauth_state import OAuthState
from somna.providers.exceptions import InvalidOAuthState
from somna.providers.oauth import MIN_STATE_LENGTH, new_state

STATE_TTL = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class ConsumedState:
    """Who started the authorization that a callback completes, and where to send them."""

    person_id: uuid.UUID
    provider: str
    return_to: str | None


async def issue_state(
    session: AsyncSession,
    *,
    person_id: uuid.UUID,
    provider: str,
    return_to: str | None = None,
    ttl: timedelta = STATE_TTL,
    now: datetime | None = None,
) -> str:
    """Store a new state for ``person_id`` and return it (the only time it is seen in clear)."""
    now = now or utc_now()
    state = new_state()
    await OAuthStateRepository(session).add(
        OAuthState(
            state_hash=sha256_hex(state),
            person_id=person_id,
            provider=provider,
            return_to=return_to,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return state


async def consume_state(
    session: AsyncSession,
    *,
    state: str,
    provider: str,
    person_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> ConsumedState:
    """Use a state once. Unknown, reused, expired, another provider's, or (when
    ``person_id`` is given) another person's: :class:`InvalidOAuthState`."""
    if not state or len(state) < MIN_STATE_LENGTH or len(state) > 512:
        raise InvalidOAuthState("The state parameter is missing or malformed.")
    # The person is part of the match, so a callback for someone else does not burn the state.
    row = await OAuthStateRepository(session).consume(
        sha256_hex(state), provider, now or utc_now(), person_id
    )
    if row is None:
        raise InvalidOAuthState(
            "This authorization link is unknown, expired, already used or not yours; "
            "start connecting again."
        )
    return ConsumedState(person_id=row.person_id, provider=row.provider, return_to=row.return_to)
