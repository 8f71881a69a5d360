"""JWT access tokens (HS256, short-lived) and opaque refresh-token material."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from somna.auth.exceptions import InvalidToken, TokenExpired
from somna.auth.principal import Principal
from somna.auth.scopes import grants_for_role
from somna.config import Settings
from somna.kit.crypto import derive_key, random_token, sha256_hex
from somna.kit.time import utc_now

ALGORITHM = "HS256"
ALGORITHMS = [ALGORITHM]  # fixed: never read the algorithm from the token itself
AUDIENCE = "somna-api"
TOKEN_TYPE = "at+jwt"  # RFC 9068 explicit typing, so no other JWT passes as an access token
REQUIRED_CLAIMS = ["exp", "iat", "sub", "aud", "iss"]


@dataclass(frozen=True, slots=True)
class AccessClaims:
    account_id: uuid.UUID
    organization_id: uuid.UUID
    role: str
    person_id: uuid.UUID | None
    is_operator: bool

    def principal(self) -> Principal:
        """The principal these claims stand for: a token's bearer, or a signed-in account."""
        return Principal(
            kind="account",
            organization_id=self.organization_id,
            grants=grants_for_role(self.role),
            account_id=self.account_id,
            role=self.role,
            person_id=self.person_id,
            is_operator=self.is_operator,
        )


JWT_PURPOSE = "somna.jwt.access.v1"


def _signing_key(settings: Settings) -> bytes:
    return derive_key(settings.secret_key_value(), JWT_PURPOSE)


def _verifying_keys(settings: Settings) -> list[bytes]:
    # The current key first, then earlier ones: tokens signed before a rotation stay valid
    # until they expire.
    secrets = [settings.secret_key_value(), *settings.secret_key_fallback_values()]
    return [derive_key(secret, JWT_PURPOSE) for secret in secrets]


def _decode(settings: Settings, token: str) -> dict[str, Any]:
    *earlier, last = _verifying_keys(settings)
    for key in earlier:
        try:
            return _decode_with(settings, token, key)
        except jwt.InvalidSignatureError:
            continue
    return _decode_with(settings, token, last)


def _decode_with(settings: Settings, token: str, key: bytes) -> dict[str, Any]:
    payload: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=ALGORITHMS,
        audience=AUDIENCE,
        issuer=issuer(settings),
        options={"require": REQUIRED_CLAIMS},
    )
    return payload


def issuer(settings: Settings) -> str:
    return settings.public_url.rstrip("/")


def issue_access_token(
    settings: Settings, claims: AccessClaims, *, now: datetime | None = None
) -> str:
    issued = now or utc_now()
    payload: dict[str, Any] = {
        "iss": issuer(settings),
        "aud": AUDIENCE,
        "sub": str(claims.account_id),
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(seconds=settings.access_token_ttl_seconds)).timestamp()),
        "jti": uuid.uuid4().hex,
        "org": str(claims.organization_id),
        "role": claims.role,
        "op": claims.is_operator,
    }
    if claims.person_id is not None:
        payload["pid"] = str(claims.person_id)
    return jwt.encode(
        payload, _signing_key(settings), algorithm=ALGORITHM, headers={"typ": TOKEN_TYPE}
    )


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    """The claims of a valid token; ``token_expired`` or ``invalid_token`` otherwise."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("typ") != TOKEN_TYPE:
            raise InvalidToken("The bearer token is not an access token.")
        payload = _decode(settings, token)
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired("The access token has expired; refresh it.") from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidToken("The access token is not valid.") from exc
    try:
        person = payload.get("pid")
        return AccessClaims(
            account_id=uuid.UUID(payload["sub"]),
            organization_id=uuid.UUID(payload["org"]),
            role=str(payload["role"]),
            person_id=uuid.UUID(person) if person else None,
            is_operator=bool(payload.get("op", False)),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidToken("The access token is not valid.") from exc


def new_refresh_token() -> tuple[str, str]:
    """A fresh opaque refresh token and the hash it rests as."""
    token = random_token(32)
    return token, sha256_hex(token)
