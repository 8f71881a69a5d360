"""OAuth against the sandbox: consent, code exchange, rotation, refresh during a listing, and
one refresh at a time per connection (in process and across PostgreSQL connections)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from somna.config import Settings
from somna.connections.refresh import (
    LocalRefreshCoordinator,
    ManagedToken,
    RefreshCoordinator,
)
from somna.kit.time import utc_now
from somna.providers.base import ConnectionContext, TimeWindow
from somna.providers.exceptions import OAuthError, ReauthorizationRequired
from somna.providers.oauth import OAuth2Client, TokenSet, new_state
from somna.providers.whoop.provider import SCOPES, WhoopProvider
from somna.records.canonical import AnyRecord
from somna.sandbox import WhoopSandbox
from tests.providers.conftest import MemoryTokenStore, token_set

REDIRECT = "https://somna.example/api/v1/oauth/whoop/callback"


@pytest.fixture
async def oauth(provider_settings: Settings) -> AsyncIterator[OAuth2Client]:
    settings = provider_settings.model_copy(update={"whoop_redirect_uri": REDIRECT})
    client = WhoopProvider.oauth_client(settings)
    yield client
    await client.http.aclose()


async def _consent(url: str) -> dict[str, str]:
    async with httpx.AsyncClient() as browser:
        response = await browser.get(url)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def test_authorization_code_flow(oauth: OAuth2Client, whoop: WhoopSandbox) -> None:
    state = new_state()
    url = oauth.authorization_url(state)
    query = parse_qs(urlsplit(url).query)
    assert query["scope"][0].split() == list(SCOPES)
    assert query["state"] == [state]
    member = whoop.members[1]
    answer = await _consent(url + f"&login_hint={member.user_id}")
    assert answer["state"] == state
    tokens = await oauth.exchange_code(answer["code"])
    assert tokens.refresh_token
    assert "offline" in tokens.scopes
    assert tokens.expires_at is not None
    assert timedelta(minutes=59) < tokens.expires_at - utc_now() <= timedelta(hours=1)
    assert whoop.world.access_tokens[tokens.access_token].user_id == member.user_id
    with pytest.raises(OAuthError) as reused:
        await oauth.exchange_code(answer["code"])
    assert reused.value.oauth_error == "invalid_grant"


async def test_without_login_hint_a_new_member_consents(
    oauth: OAuth2Client, whoop: WhoopSandbox
) -> None:
    before = len(whoop.members)
    answer = await _consent(oauth.authorization_url(new_state()))
    await oauth.exchange_code(answer["code"])
    assert len(whoop.members) == before + 1


async def test_no_offline_scope_means_no_refresh_token(oauth: OAuth2Client) -> None:
    answer = await _consent(oauth.authorization_url(new_state(), scopes=["read:sleep"]))
    tokens = await oauth.exchange_code(answer["code"])
    assert tokens.refresh_token is None
    with pytest.raises(ReauthorizationRequired):
        await oauth.refresh(tokens)


async def test_a_short_state_is_refused_by_us_and_by_the_sandbox(oauth: OAuth2Client) -> None:
    with pytest.raises(ValueError, match="8 characters"):
        oauth.authorization_url("short")
    url = oauth.authorization_url(new_state()).replace("state=", "state=x&ignored=")
    answer = await _consent(url)
    assert answer["error"] == "invalid_state"
    assert "code" not in answer


async def test_refresh_rotates_and_the_old_token_is_dead(
    oauth: OAuth2Client, whoop: WhoopSandbox
) -> None:
    first = token_set(whoop.issue_tokens(whoop.members[0].user_id))
    second = await oauth.refresh(first)
    assert second.refresh_token not in (None, first.refresh_token)
    assert second.access_token != first.access_token
    assert first.access_token not in whoop.world.access_tokens
    with pytest.raises(ReauthorizationRequired):
        await oauth.refresh(first)
    assert (await oauth.refresh(second)).access_token
    assert whoop.token_calls["refresh_token"] == 3


async def test_refresh_during_a_listing(provider_settings: Settings, whoop: WhoopSandbox) -> None:
    """Tokens die after two calls (early expiry); the listing refreshes and carries on."""
    member = whoop.members[0]
    store = MemoryTokenStore(token_set(whoop.issue_tokens(member.user_id)))
    oauth = WhoopProvider.oauth_client(provider_settings)
    token = ManagedToken("whoop:c1", oauth.refresh, store, LocalRefreshCoordinator())
    provider = WhoopProvider.from_settings(provider_settings, ConnectionContext(token=token))
    whoop.set_faults(token_lifetime_requests=2)
    records: list[AnyRecord] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await provider.fetch_page("sleep", TimeWindow(), cursor, limit=5)
        records.extend(page.records)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    await provider.aclose()
    await oauth.http.aclose()
    assert len(records) == len(whoop.world.sleeps(member))
    assert token.refreshes == (pages - 1) // 2
    assert whoop.token_calls["refresh_token"] == token.refreshes
    assert store.saves == token.refreshes


async def test_a_token_about_to_expire_is_refreshed_first(
    provider_settings: Settings, whoop: WhoopSandbox
) -> None:
    tokens = token_set(whoop.issue_tokens(whoop.members[0].user_id))
    almost = TokenSet(tokens.access_token, tokens.refresh_token, utc_now() + timedelta(minutes=4))
    store = MemoryTokenStore(almost)
    oauth = WhoopProvider.oauth_client(provider_settings)
    token = ManagedToken("whoop:c2", oauth.refresh, store, LocalRefreshCoordinator())
    fresh = await token.access_token()
    await oauth.http.aclose()
    assert fresh != tokens.access_token
    assert whoop.token_calls["refresh_token"] == 1


async def test_a_refused_refresh_is_reported(
    provider_settings: Settings, whoop: WhoopSandbox
) -> None:
    tokens = token_set(whoop.issue_tokens(whoop.members[0].user_id))
    whoop.world.refresh_tokens.clear()  # e.g. the person revoked us in the WHOOP app
    store = MemoryTokenStore(tokens)
    oauth = WhoopProvider.oauth_client(provider_settings)
    token = ManagedToken("whoop:c3", oauth.refresh, store, LocalRefreshCoordinator())
    with pytest.raises(ReauthorizationRequired):
        await token.refresh(stale_access_token=tokens.access_token)
    await oauth.http.aclose()
    assert len(store.failures) == 1
    assert store.failures[0].error_code == "reauthorization_required"


async def _race(
    settings: Settings, whoop: WhoopSandbox, coordinators: list[RefreshCoordinator]
) -> set[str]:
    tokens = token_set(whoop.issue_tokens(whoop.members[0].user_id))
    store = MemoryTokenStore(tokens)
    oauth = WhoopProvider.oauth_client(settings)
    # Every "worker" has its own ManagedToken; all saw the same token fail at once.
    workers = [
        ManagedToken("whoop:shared", oauth.refresh, store, coordinators[i % len(coordinators)])
        for i in range(8)
    ]
    results = await asyncio.gather(
        *(w.refresh(stale_access_token=tokens.access_token) for w in workers)
    )
    await oauth.http.aclose()
    return {r.access_token for r in results}


async def test_concurrent_refreshes_make_one_token_call(
    provider_settings: Settings, whoop: WhoopSandbox
) -> None:
    winners = await _race(provider_settings, whoop, [LocalRefreshCoordinator()])
    assert whoop.token_calls["refresh_token"] == 1
    assert len(winners) == 1
