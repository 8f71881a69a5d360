"""The WHOOP client against the WHOOP sandbox over real HTTP: every endpoint, pagination to the
end, and each fault knob."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from somna.providers.exceptions import (
    ProviderBadRequest,
    ProviderNotFound,
    ProviderRateLimited,
    ProviderResponseError,
    ProviderUnavailable,
    ReauthorizationRequired,
)
from somna.providers.http import OutgoingRequest, RetryPolicy
from somna.providers.tokens import StaticToken
from somna.providers.whoop.client import WhoopClient, WhoopCollection
from somna.sandbox import WhoopSandbox
from somna.sandbox.whoop.state import Member
from tests.providers.conftest import FROZEN_AT, fast_http


@pytest.fixture
def member(whoop: WhoopSandbox) -> Member:
    return whoop.members[0]


@pytest.fixture
async def client(whoop: WhoopSandbox, member: Member) -> AsyncIterator[WhoopClient]:
    token = whoop.issue_tokens(member.user_id)["access_token"]
    whoop_client = WhoopClient(fast_http("whoop", whoop.api_base), StaticToken(token))
    yield whoop_client
    await whoop_client.http.aclose()


async def _all(client: WhoopClient, collection: WhoopCollection, **kwargs: object) -> list[dict]:  # type: ignore[type-arg]
    return [record async for record in client.iterate(collection, **kwargs)]  # type: ignore[arg-type]


async def test_profile_and_body_measurement(client: WhoopClient, member: Member) -> None:
    profile = await client.profile()
    body = await client.body_measurement()
    assert profile == {
        "user_id": member.user_id,
        "email": member.profile.email,
        "first_name": member.profile.first_name,
        "last_name": member.profile.last_name,
    }
    assert body["height_meter"] == member.profile.height_m
    assert body["max_heart_rate"] == member.profile.max_hr


@pytest.mark.parametrize(
    ("collection", "expected"),
    [
        ("activity/sleep", lambda w, m: len(w.world.sleeps(m))),
        ("cycle", lambda w, m: len(w.world.cycles(m))),
        ("recovery", lambda w, m: len(w.world.recoveries(m))),
        ("activity/workout", lambda w, m: len(w.world.workouts(m))),
    ],
)
async def test_each_collection_paginates_to_the_end_newest_first(
    client: WhoopClient,
    whoop: WhoopSandbox,
    member: Member,
    collection: WhoopCollection,
    expected: object,
) -> None:
    records = await _all(client, collection, limit=7)
    total = expected(whoop, member)  # type: ignore[operator]
    assert total > 7  # more than one page, so the token is exercised
    assert len(records) == total
    keys = [r.get("id", r.get("cycle_id")) for r in records]
    assert len(set(keys)) == total
    if collection != "recovery":
        starts = [r["start"] for r in records]
        assert starts == sorted(starts, reverse=True)
    assert client.http.stats.requests == -(-total // 7)


async def test_window_returns_records_touching_it(
    client: WhoopClient, whoop: WhoopSandbox, member: Member
) -> None:
    start, end = FROZEN_AT - timedelta(days=5), FROZEN_AT - timedelta(days=2)
    records = await _all(client, "activity/sleep", start=start, end=end)
    expected = [s for s in whoop.world.sleeps(member) if s.end >= start and s.start < end]
    assert {r["id"] for r in records} == {s.id for s in expected}
    assert 3 <= len(records) <= 6


async def test_records_by_id(client: WhoopClient, whoop: WhoopSandbox, member: Member) -> None:
    sleep = next(s for s in whoop.world.sleeps(member) if not s.nap)
    assert (await client.sleep(sleep.id))["id"] == sleep.id
    cycle = await client.cycle(sleep.cycle_id)
    assert cycle["id"] == sleep.cycle_id
    assert (await client.sleep_for_cycle(sleep.cycle_id))["id"] == sleep.id
    assert (await client.recovery_for_cycle(sleep.cycle_id))["sleep_id"] == sleep.id
    workout = whoop.world.workouts(member)[0]
    assert (await client.workout(workout.id))["sport_name"] == workout.sport_name
    assert await client.activity_mapping(workout.v1_id) == workout.id


async def test_unknown_and_malformed_ids_are_typed_errors(client: WhoopClient) -> None:
    with pytest.raises(ProviderNotFound):
        await client.sleep(str(uuid.uuid4()))
    with pytest.raises(ProviderNotFound):
        await client.cycle(1)
    with pytest.raises(ProviderBadRequest):
        await client.sleep("not-a-uuid")


async def test_revoke_access_ends_the_grant(client: WhoopClient) -> None:
    await client.revoke_access()
    with pytest.raises(ReauthorizationRequired):  # 401, and a static token cannot refresh
        await client.profile()


async def test_the_hook_is_awaited_before_every_request_including_retries(
    whoop: WhoopSandbox, member: Member
) -> None:
    seen: list[OutgoingRequest] = []

    async def hook(request: OutgoingRequest) -> None:
        seen.append(request)

    token = whoop.issue_tokens(member.user_id)["access_token"]
    http = fast_http("whoop", whoop.api_base, before_request=hook)
    client = WhoopClient(http, StaticToken(token))
    whoop.set_faults(errors_next=1)
    await client.profile()
    await http.aclose()
    assert [(r.path, r.attempt) for r in seen] == [
        ("/v2/user/profile/basic", 0),
        ("/v2/user/profile/basic", 1),
    ]


# -- fault knobs -----------------------------------------------------------------------------
async def test_server_errors_are_retried_then_succeed(
    client: WhoopClient, whoop: WhoopSandbox
) -> None:
    whoop.set_faults(errors_next=2)
    await client.profile()
    stats = client.http.stats
    assert (stats.requests, stats.retries, stats.server_errors) == (3, 2, 2)


async def test_persistent_server_errors_raise_unavailable(
    client: WhoopClient, whoop: WhoopSandbox
) -> None:
    whoop.set_faults(error_rate=1.0, error_status=502)
    with pytest.raises(ProviderUnavailable) as caught:
        await client.profile()
    assert caught.value.status == 502
    assert client.http.stats.requests == 4  # one try and max_retries=3 more


async def test_rate_limit_bursts_are_waited_out(client: WhoopClient, whoop: WhoopSandbox) -> None:
    whoop.set_faults(rate_limit_next=2, rate_limit_retry_after=0)
    records = await _all(client, "cycle", limit=25)
    assert len(records) == len(whoop.world.cycles(whoop.members[0]))
    assert client.http.stats.rate_limited == 2
    assert client.http.stats.retries == 2


async def test_a_long_rate_limit_wait_is_handed_back(whoop: WhoopSandbox, member: Member) -> None:
    token = whoop.issue_tokens(member.user_id)["access_token"]
    http = fast_http("whoop", whoop.api_base, retry=RetryPolicy(max_wait_seconds=5))
    client = WhoopClient(http, StaticToken(token))
    whoop.set_faults(rate_limit_next=1, rate_limit_retry_after=120)
    with pytest.raises(ProviderRateLimited) as caught:
        await client.profile()
    await http.aclose()
    assert caught.value.retry_after >= 120
    assert caught.value.retryable


async def test_the_real_window_limit_answers_429_with_headers(
    whoop: WhoopSandbox, member: Member
) -> None:
    whoop.set_rate_limits(per_minute=3, per_day=1000)
    token = whoop.issue_tokens(member.user_id)["access_token"]
    http = fast_http("whoop", whoop.api_base, retry=RetryPolicy(max_wait_seconds=1))
    client = WhoopClient(http, StaticToken(token))
    for _ in range(3):
        await client.profile()
    with pytest.raises(ProviderRateLimited) as caught:
        await client.profile()
    await http.aclose()
    assert 1 < caught.value.retry_after <= 61
    assert whoop.request_count() == 3
    assert whoop.max_requests_in_window(60) == 3


async def test_latency_beyond_the_timeout_is_a_typed_error(
    whoop: WhoopSandbox, member: Member
) -> None:
    token = whoop.issue_tokens(member.user_id)["access_token"]
    http = fast_http("whoop", whoop.api_base, timeout=httpx.Timeout(0.2))
    client = WhoopClient(http, StaticToken(token))
    whoop.set_faults(latency_seconds=1.0)
    with pytest.raises(ProviderUnavailable):
        await client.profile()
    assert http.stats.network_errors == 4
    whoop.set_faults(latency_seconds=0.05)
    assert (await client.profile())["user_id"] == member.user_id
    await http.aclose()


async def test_a_torn_body_is_read_again_once(client: WhoopClient, whoop: WhoopSandbox) -> None:
    whoop.set_faults(malformed_next=1)
    assert (await client.profile())["user_id"] == whoop.members[0].user_id
    whoop.set_faults(malformed_next=2)
    with pytest.raises(ProviderResponseError):
        await client.profile()


@pytest.mark.parametrize("style", ["null", "empty", "omit"])
async def test_every_last_page_form_ends_the_listing(
    client: WhoopClient, whoop: WhoopSandbox, style: str
) -> None:
    whoop.set_faults(next_token_style=style)
    records = await _all(client, "activity/workout", limit=25)
    assert len(records) == len(whoop.world.workouts(whoop.members[0]))
