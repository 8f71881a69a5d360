"""``Somna.login``: a JWT client that refreshes with rotation and never reuses a token."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from somna_client import AsyncSomna, AuthenticationError, Somna
from tests.support.auth import DEFAULT_PASSWORD, Org

REFRESH = "/api/v1/auth/refresh"


async def _refresh_refused(http: httpx.AsyncClient, token: str) -> bool:
    answer = await http.post(REFRESH, json={"refresh_token": token})
    return answer.status_code == 401


async def test_login_refresh_rotates_and_spends_each_token(
    live_url: str, http: httpx.AsyncClient, org: Org
) -> None:
    client = Somna.login(live_url, org.owner.email, DEFAULT_PASSWORD)
    with client:
        assert client.accounts.profile().email == org.owner.email
        spent: list[str] = []
        for _ in range(3):
            before = client.refresh_token
            assert before is not None
            client.refresh()
            assert client.refresh_token not in (None, before)
            spent.append(before)
            assert client.accounts.profile().role == "owner"
        # A stale access token is refreshed before the request, without being asked.
        assert client._tokens is not None
        client._tokens.expires_at = 0.0
        before = client.refresh_token
        assert client.users.list().data == []
        assert client.refresh_token != before
        current = client.refresh_token
    assert client._http.is_closed
    assert current is not None
    # The server accepted each spent token once; the current one still works, once.
    assert not await _refresh_refused(http, current)
    # Presenting a spent token revokes the session (reuse detection): the client never did.
    assert await _refresh_refused(http, spent[0])


async def test_a_401_refreshes_once_and_retries(
    live_url: str, http: httpx.AsyncClient, org: Org
) -> None:
    with Somna.login(live_url, org.owner.email, DEFAULT_PASSWORD) as client:
        assert client._tokens is not None
        client._tokens.access_token = "not-a-valid-token"  # rejected, though not yet stale
        before = client.refresh_token
        assert client.accounts.profile().email == org.owner.email
        assert client.refresh_token not in (None, before)


async def test_concurrent_requests_share_one_refresh(
    live_url: str, http: httpx.AsyncClient, org: Org
) -> None:
    async with await AsyncSomna.login(live_url, org.owner.email, DEFAULT_PASSWORD) as client:
        assert client._tokens is not None
        first_generation = client._tokens.generation
        client._tokens.expires_at = 0.0
        answers = await asyncio.gather(*(client.accounts.profile() for _ in range(8)))
        assert {answer.email for answer in answers} == {org.owner.email}
        assert client._tokens.generation == first_generation + 1
        # Had two tasks sent the same refresh token, the server would have revoked the
        # session and this would fail.
        assert (await client.accounts.profile()).role == "owner"
        await client.logout()
        assert client.refresh_token is None


async def test_wrong_password_is_an_authentication_error(live_url: str, org: Org) -> None:
    with pytest.raises(AuthenticationError) as raised:
        Somna.login(live_url, org.owner.email, "not the password")
    assert raised.value.code == "invalid_credentials"
