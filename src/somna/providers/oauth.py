"""OAuth 2.0 authorization-code pieces shared by OAuth providers: token sets, the
authorization URL, code exchange and refresh against a token endpoint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from somna.kit.crypto import random_token
from somna.kit.time import utc_now
from somna.providers.exceptions import (
    OAuthError,
    ProviderResponseError,
    ProviderUnavailable,
    ReauthorizationRequired,
)
from somna.providers.http import ProviderHttp

# WHOOP (and ORY Hydra behind it) refuse a state shorter than 8 characters; ours are 43.
MIN_STATE_LENGTH = 8
REFRESH_MARGIN = timedelta(minutes=5)


def new_state() -> str:
    """A fresh, unguessable ``state``: 32 random bytes, URL-safe (43 characters)."""
    return random_token(32)


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What a token endpoint gave us. ``refresh_token`` rotates on every refresh at WHOOP."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime | None
    scopes: tuple[str, ...] = ()
    token_type: str = "bearer"

    def expires_within(self, margin: timedelta, now: datetime | None = None) -> bool:
        """True when the access token is gone or will be within ``margin``."""
        if self.expires_at is None:
            return False
        return (now or utc_now()) + margin >= self.expires_at


@dataclass(frozen=True, slots=True)
class OAuthEndpoints:
    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    scopes: Sequence[str]


def authorization_url(
    endpoints: OAuthEndpoints,
    state: str,
    *,
    redirect_uri: str | None = None,
    scopes: Sequence[str] | None = None,
    extra: Mapping[str, str] | None = None,
) -> str:
    """The URL of the provider's consent page for this ``state``."""
    if len(state) < MIN_STATE_LENGTH:
        raise ValueError(f"state must be at least {MIN_STATE_LENGTH} characters")
    query = {
        "response_type": "code",
        "client_id": endpoints.client_id,
        "redirect_uri": redirect_uri or endpoints.redirect_uri,
        "scope": " ".join(scopes if scopes is not None else endpoints.scopes),
        "state": state,
        **dict(extra or {}),
    }
    return f"{endpoints.authorize_url}?{urlencode(query)}"


def parse_token_response(
    provider: str, body: Any, *, now: datetime, previous: TokenSet | None = None
) -> TokenSet:
    """A :class:`TokenSet` from a token endpoint's JSON; keeps the old refresh token if the
    answer has none (some servers rotate only sometimes)."""
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise ProviderResponseError(provider, f"{provider} token endpoint sent no access_token")
    expires_in = body.get("expires_in")
    expires_at = (
        now + timedelta(seconds=float(expires_in))
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool)
        else None
    )
    refresh = body.get("refresh_token")
    if not isinstance(refresh, str) or not refresh:
        refresh = previous.refresh_token if previous else None
    scope = body.get("scope")
    scopes = (
        tuple(scope.split()) if isinstance(scope, str) else (previous.scopes if previous else ())
    )
    return TokenSet(
        access_token=body["access_token"],
        refresh_token=refresh,
        expires_at=expires_at,
        scopes=scopes,
        token_type=str(body.get("token_type") or "bearer"),
    )


def _oauth_error(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = str(body.get("error") or f"http_{response.status_code}")
        text = str(body.get("error_description") or body.get("detail") or code)
        return code, text
    return f"http_{response.status_code}", f"token endpoint answered {response.status_code}"


class OAuth2Client:
    """Code exchange and refresh (client credentials in the form body, as WHOOP expects)."""

    def __init__(self, provider: str, endpoints: OAuthEndpoints, http: ProviderHttp) -> None:
        self.provider = provider
        self.endpoints = endpoints
        self.http = http
        self.token_calls = 0

    def authorization_url(
        self, state: str, *, redirect_uri: str | None = None, scopes: Sequence[str] | None = None
    ) -> str:
        return authorization_url(self.endpoints, state, redirect_uri=redirect_uri, scopes=scopes)

    async def exchange_code(self, code: str, *, redirect_uri: str | None = None) -> TokenSet:
        """Trade an authorization code for tokens; a refused code raises :class:`OAuthError`."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri or self.endpoints.redirect_uri,
            "client_id": self.endpoints.client_id,
            "client_secret": self.endpoints.client_secret,
        }
        response = await self._post(form)
        if response.status_code >= 500:
            raise ProviderUnavailable(
                self.provider,
                f"{self.provider} token endpoint answered {response.status_code}",
                status=response.status_code,
            )
        if response.status_code >= 400:
            error, text = _oauth_error(response)
            raise OAuthError(self.provider, error, f"{self.provider} refused the code: {text}")
        return parse_token_response(self.provider, self._json(response), now=utc_now())

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        """Use the refresh token once. A refused one raises :class:`ReauthorizationRequired`."""
        if not tokens.refresh_token:
            raise ReauthorizationRequired(
                self.provider, "no refresh token (was the offline scope granted?)", status=None
            )
        form = {
            "grant_type": "refresh_token",
            "refresh_token": tokens.refresh_token,
            "client_id": self.endpoints.client_id,
            "client_secret": self.endpoints.client_secret,
            "scope": "offline",
        }
        response = await self._post(form)
        if response.status_code in (400, 401, 403):
            error, text = _oauth_error(response)
            raise ReauthorizationRequired(
                self.provider,
                f"{self.provider} refused the refresh token ({error}): {text}",
                status=response.status_code,
            )
        if response.status_code >= 400:
            raise ProviderUnavailable(
                self.provider,
                f"{self.provider} token endpoint answered {response.status_code}",
                status=response.status_code,
            )
        return parse_token_response(
            self.provider, self._json(response), now=utc_now(), previous=tokens
        )

    async def _post(self, form: Mapping[str, str]) -> httpx.Response:
        self.token_calls += 1
        return await self.http.request(
            "POST",
            self.endpoints.token_url,
            data=form,
            headers={"Accept": "application/json"},
        )

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise ProviderResponseError(
                self.provider, f"{self.provider} token endpoint sent a body that is not JSON"
            ) from exc
