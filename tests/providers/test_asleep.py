"""The Asleep client and provider against the Asleep sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from somna.config import Settings
from somna.providers.asleep.client import AsleepClient, is_rate_limited
from somna.providers.asleep.provider import AsleepProvider
from somna.providers.base import ConnectionContext, TimeWindow
from somna.providers.exceptions import (
    InvalidWebhook,
    ProviderBadRequest,
    ProviderNotFound,
    ProviderQuotaExceeded,
    ProviderRateLimited,
    ProviderResponseError,
    ProviderUnauthorized,
    ProviderUnavailable,
)
from somna.records.canonical import AnyRecord, ScoreState, SleepSessionRecord
from somna.sandbox import AsleepConfig, AsleepSandbox
from tests.providers.conftest import END_DATE, FROZEN_AT, fast_http


@pytest.fixture
async def client(asleep: AsleepSandbox) -> AsyncIterator[AsleepClient]:
    http = fast_http("asleep", asleep.base_url, is_rate_limited=is_rate_limited)
    yield AsleepClient(http, asleep.api_key)
    await http.aclose()


async def test_user_lifecycle(client: AsleepClient) -> None:
    metadata = {"birth_year": 1990, "gender": "female", "height": 171.5, "weight": 63.2, "x": 1}
    user_id = await client.create_user(metadata)
    assert user_id.startswith("G-")
    user = await client.get_user(user_id)
    assert user["user_id"] == user_id
    assert user["metadata"] == {k: v for k, v in metadata.items() if k != "x"}
    assert user["last_session_info"]["state"] in ("CLOSED", "COMPLETE")
    await client.delete_user(user_id)
    with pytest.raises(ProviderNotFound):
        await client.get_user(user_id)


async def test_invalid_metadata_is_refused(client: AsleepClient) -> None:
    with pytest.raises(ProviderBadRequest):
        await client.create_user({"birth_month": 13})


async def test_sessions_page_by_offset_to_the_end(
    client: AsleepClient, asleep: AsleepSandbox
) -> None:
    user = asleep.add_person()
    listed = [s async for s in client.iterate_sessions(user.user_id, page_size=7)]
    assert len(listed) == len(asleep.world.visible(user)) > 30
    starts = [s["session_start_time"] for s in listed]
    assert starts == sorted(starts, reverse=True)
    ascending = await client.list_sessions(user.user_id, order_by="ASC", limit=3)
    assert [s["session_id"] for s in ascending] == [s["session_id"] for s in listed[::-1][:3]]


async def test_date_filters_use_the_requested_timezone(
    client: AsleepClient, asleep: AsleepSandbox
) -> None:
    user = asleep.add_person()
    day = END_DATE - timedelta(days=3)
    seoul = await client.list_sessions(
        user.user_id, date_gte=day, date_lte=day, timezone="Asia/Seoul"
    )
    assert seoul
    for item in seoul:
        assert item["session_start_time"].startswith(day.isoformat())
        assert item["session_start_time"].endswith("+09:00")


async def test_session_v3_with_stages_and_stat(client: AsleepClient, asleep: AsleepSandbox) -> None:
    user = asleep.add_person()
    [item] = await client.list_sessions(user.user_id, limit=1, order_by="ASC")
    result = await client.get_session(user.user_id, item["session_id"])
    session, stat = result["session"], result["stat"]
    assert session["state"] == "COMPLETE"
    assert len(session["sleep_stages"]) * 30 == stat["time_in_bed"]
    assert set(session["sleep_stages"]) <= {0, 1, 2, 3}
    assert (
        stat["time_in_bed"]
        == stat["sleep_latency"] + stat["time_in_sleep_period"] + stat["wakeup_latency"]
    )
    assert stat["time_in_sleep_period"] == stat["time_in_sleep"] + stat["time_in_wake"]
    assert stat["sleep_efficiency"] == round(stat["time_in_sleep"] / stat["time_in_bed"], 2)


async def test_delete_session(client: AsleepClient, asleep: AsleepSandbox) -> None:
    user = asleep.add_person(days=3)
    [first, *_] = await client.list_sessions(user.user_id)
    await client.delete_session(user.user_id, first["session_id"])
    with pytest.raises(ProviderNotFound):
        await client.get_session(user.user_id, first["session_id"])


async def test_average_stats(client: AsleepClient, asleep: AsleepSandbox) -> None:
    user = asleep.add_person()
    start = END_DATE - timedelta(days=6)
    stats = await client.average_stats(user.user_id, start, END_DATE, timezone="Europe/Berlin")
    assert stats["period"] == {
        "timezone": "Europe/Berlin",
        "start_date": start.isoformat(),
        "end_date": END_DATE.isoformat(),
    }
    average = stats["average_stats"]
    assert len(average["sleep_time"]) == 8
    assert average["sleep_time"][2] == ":"
    assert 0 < average["sleep_efficiency"] <= 1
    assert len(stats["slept_sessions"]) >= 5
    for session in stats["slept_sessions"]:
        assert start <= date.fromisoformat(session["start_time"][:10]) <= END_DATE
    with pytest.raises(ProviderBadRequest, match="100 days"):
        await client.average_stats(user.user_id, END_DATE - timedelta(days=100), END_DATE)
    with pytest.raises(ProviderNotFound):
        await client.average_stats("G-nobody", start, END_DATE)


async def test_the_sandbox_refuses_what_asleep_refuses(asleep: AsleepSandbox) -> None:
    user = asleep.add_person(days=2)
    key = {"x-api-key": asleep.api_key}
    async with httpx.AsyncClient(base_url=asleep.base_url) as raw:
        assert (await raw.get(f"/ai/v1/users/{user.user_id}")).status_code == 401
        missing = await raw.get("/data/v1/sessions", headers=key)
        assert (missing.status_code, missing.json()) == (401, {"detail": "x-user-id is invalid"})
        bad_zone = await raw.get(
            "/data/v1/sessions", headers={**key, "x-user-id": user.user_id, "timezone": "Mars/Base"}
        )
        assert bad_zone.status_code == 400
        too_many = await raw.get(
            "/data/v1/sessions", params={"limit": 101}, headers={**key, "x-user-id": user.user_id}
        )
        assert too_many.status_code == 422
        long = await raw.get(
            f"/data/v1/users/{user.user_id}/average-stats",
            params={"start_date": "2026-01-01", "end_date": "2026-04-11"},
            headers=key,
        )
        assert (long.status_code, long.json()["detail"]) == (
            400,
            "The period should be less than or equal to 100 days",
        )
        created = await raw.post("/ai/v1/users", headers=key)
        assert created.status_code == 201
        assert created.json()["detail"] == "success"


async def test_a_wrong_key_is_unauthorized(asleep: AsleepSandbox) -> None:
    http = fast_http("asleep", asleep.base_url)
    with pytest.raises(ProviderUnauthorized):
        await AsleepClient(http, "wrong").create_user()
    await http.aclose()


# -- fault knobs and Asleep's 403s -------------------------------------------------------------
async def test_403_rate_limit_is_retried(client: AsleepClient, asleep: AsleepSandbox) -> None:
    asleep.set_faults(rate_limit_next=2)
    assert await client.create_user()
    assert (client.http.stats.rate_limited, client.http.stats.retries) == (2, 2)


async def test_persistent_pace_refusal_and_quota(asleep: AsleepSandbox) -> None:
    with AsleepSandbox(AsleepConfig(days=1, per_minute=2, daily_quota=1000)) as paced:
        http = fast_http("asleep", paced.base_url, is_rate_limited=is_rate_limited)
        client = AsleepClient(http, paced.api_key)
        await client.create_user()
        await client.create_user()
        with pytest.raises(ProviderRateLimited):
            await client.create_user()
        await http.aclose()
        assert paced.request_count() == 2
    with AsleepSandbox(AsleepConfig(days=1, daily_quota=1)) as quota:
        http = fast_http("asleep", quota.base_url, is_rate_limited=is_rate_limited)
        client = AsleepClient(http, quota.api_key)
        await client.create_user()
        with pytest.raises(ProviderQuotaExceeded):
            await client.create_user()
        await http.aclose()
        assert http.stats.requests == 2  # a quota is not retried


async def test_server_errors_latency_and_torn_bodies(
    client: AsleepClient, asleep: AsleepSandbox
) -> None:
    user = asleep.add_person(days=2)
    asleep.set_faults(errors_next=1, latency_seconds=0.01)
    assert await client.get_user(user.user_id)
    assert client.http.stats.server_errors == 1
    asleep.set_faults(error_rate=1.0)
    with pytest.raises(ProviderUnavailable):
        await client.get_user(user.user_id)
    asleep.set_faults(error_rate=0.0, malformed_next=1)
    assert await client.get_user(user.user_id)
    asleep.set_faults(malformed_next=2)
    with pytest.raises(ProviderResponseError):
        await client.get_user(user.user_id)


# -- the provider --------------------------------------------------------------------------
@pytest.fixture
async def provider(
    provider_settings: Settings, asleep: AsleepSandbox
) -> AsyncIterator[AsleepProvider]:
    user = asleep.add_person()
    context = ConnectionContext(provider_user_id=user.user_id, zone=ZoneInfo("America/New_York"))
    provider = AsleepProvider.from_settings(provider_settings, context)
    yield provider
    await provider.aclose()


async def test_provider_pages_a_window_into_canonical_sessions(
    provider: AsleepProvider, asleep: AsleepSandbox
) -> None:
    window = TimeWindow(FROZEN_AT - timedelta(days=10), FROZEN_AT)
    records: list[AnyRecord] = []
    cursor: str | None = None
    while True:
        page = await provider.fetch_page("sleep", window, cursor, limit=4)
        records.extend(page.records)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert 10 <= len(records) <= 14
    night = next(
        r
        for r in records
        if isinstance(r, SleepSessionRecord) and not r.is_nap and r.score_state is ScoreState.SCORED
    )
    assert night.hypnogram is not None
    assert night.hypnogram_epoch_seconds == 30
    assert len(night.hypnogram) * 30 == night.in_bed_seconds
    assert night.timezone_offset_minutes == -300
    assert night.asleep_seconds is not None
    assert night.asleep_seconds == sum(30 for c in night.hypnogram if c in "LDR")
    identity = await provider.fetch_identity()
    assert identity.provider_user_id == provider.context.provider_user_id
    assert await provider.fetch_record("sleep", "20200101000000_nope0") is None


async def test_provider_webhooks_check_the_echoed_key(
    provider_settings: Settings, asleep: AsleepSandbox
) -> None:
    user = asleep.add_person(days=2)
    session_id = asleep.world.visible(user)[0][0]
    body, headers = asleep.session_complete_request(user.user_id, session_id)
    [event] = AsleepProvider.verify_webhook(provider_settings, headers, body)
    assert (event.event_type, event.record_id, event.provider_user_id) == (
        "SESSION_COMPLETE",
        session_id,
        user.user_id,
    )
    assert event.event_id == f"{session_id}:SESSION_COMPLETE"
    with pytest.raises(InvalidWebhook):
        AsleepProvider.verify_webhook(provider_settings, {**headers, "x-api-key": "other"}, body)
    with pytest.raises(InvalidWebhook):
        AsleepProvider.verify_webhook(provider_settings, headers, b'{"event": "NOPE", "data": {}}')


async def test_open_sessions_are_pending(provider: AsleepProvider, asleep: AsleepSandbox) -> None:
    user_id = provider.context.provider_user_id
    assert user_id is not None
    sleep = asleep.world.users[user_id].sessions
    last = max(sleep.values(), key=lambda s: s.start)
    asleep.freeze_clock(last.start + (last.end - last.start) / 2)
    listed = await provider.client.list_sessions(user_id, limit=1)
    assert listed[0]["state"] == "OPEN"
    record = await provider.fetch_record("sleep", listed[0]["session_id"])
    assert isinstance(record, SleepSessionRecord)
    assert record.score_state is ScoreState.PENDING_SCORE
    assert record.asleep_seconds is None
    assert date(2026, 11, 1) < record.local_date
