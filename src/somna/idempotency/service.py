"""The guard that runs before a creating endpoint when the request has an Idempotency-Key.

- First time (per organisation and key): a pending row is committed at once, so that a
  concurrent repeat is told ``idempotency_key_in_progress`` (409, ``Retry-After: 1``) instead
  of creating a second resource. The middleware stores the answer when it succeeds (2xx) and
  forgets the key otherwise, so a failed request may be retried under the same key.
- Same key, same request, same caller, within 24 h: the stored status and body are answered
  again with ``Idempotent-Replayed: true``. A replay of a signed request must be signed too.
- Same key with another method, path or body (or from another caller): 409
  ``idempotency_key_reused``.

If the process dies between committing the resource and storing its answer, the key stays
pending until it expires: a retry is refused rather than allowed to create a duplicate.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

from fastapi import Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth.dependencies import CurrentPrincipal, RequireSensitive
from somna.auth.principal import Principal
from somna.idempotency.exceptions import (
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    IdempotentReplay,
    InvalidIdempotencyKey,
)
from somna.idempotency.repository import IdempotencyKeyRepository
from somna.keys.signing import SIGNATURE_HEADER
from somna.kit.time import utc_now
from somna.models import IdempotencyKey
from somna.state import app_state

HEADER = "Idempotency-Key"
SCOPE_KEY = "somna.idempotency"
LIFETIME = timedelta(hours=24)
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    digest = hashlib.sha256(f"{method.upper()} {path}?".encode() + query + b"\n" + body)
    return digest.hexdigest()


def _principal_id(principal: Principal) -> str:
    return str(principal.api_key_id or principal.account_id)


async def idempotency_guard(request: Request, principal: CurrentPrincipal) -> None:
    """Router dependency: a no-op unless a POST carries ``Idempotency-Key``."""
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None:
        return
    if not _VALID_KEY.match(key):
        raise InvalidIdempotencyKey(
            f"{HEADER} must be 1 to 255 printable ASCII characters without spaces."
        )
    body = await request.body()
    seen = fingerprint(request.method, request.url.path, request.scope["query_string"], body)
    sessionmaker = app_state(request).sessionmaker
    async with sessionmaker() as session:
        record, created = await _claim(
            session, principal, key, seen, SIGNATURE_HEADER in request.headers
        )
    if created:
        request.scope[SCOPE_KEY] = record.id
        return
    if record.fingerprint != seen or record.principal_id != _principal_id(principal):
        raise IdempotencyKeyReused(
            f"This {HEADER} was already used for a different request; use a new key "
            "for each new request."
        )
    if record.response_status is None:
        raise IdempotencyKeyInProgress()
    if record.signed:
        await RequireSensitive()(request, principal)
    raise IdempotentReplay(record.response_status, json.loads(record.response_body or "null"))


async def _claim(
    session: AsyncSession, principal: Principal, key: str, seen: str, signed: bool
) -> tuple[IdempotencyKey, bool]:
    """The existing row for the key, or a new pending one (committed) and True."""
    keys = IdempotencyKeyRepository(session)
    now = utc_now()
    await keys.delete_expired(principal.organization_id, now)
    existing = await keys.find(principal.organization_id, key)
    if existing is not None:
        return existing, False
    pending = IdempotencyKey(
        organization_id=principal.organization_id,
        key=key,
        fingerprint=seen,
        principal_id=_principal_id(principal),
        signed=signed,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    try:
        await keys.add(pending)
        await session.commit()
    except IntegrityError as exc:
        # A concurrent request claimed the key between the read and the insert.
        await session.rollback()
        raise IdempotencyKeyInProgress() from exc
    return pending, True
