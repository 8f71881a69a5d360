"""A person's analytics through the API, on records inserted through the store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from somna.calculations.debt import DECAY
from somna.models import Person
from tests.analytics.support import TODAY, night, nights, pin_now, set_preferences, store
from tests.support.auth import Org, create_account, create_api_key, create_organization
from tests.support.auth import create_person as _create_person

BERLIN = ZoneInfo("Europe/Berlin")
STAGED = "W" * 20 + ("L" * 60 + "D" * 40 + "L" * 20 + "R" * 40) * 5 + "L" * 60  # 7 h 40 min


async def _person(db_session: AsyncSession, org: Org, timezone: str = "UTC") -> Person:
    person = await _create_person(db_session, org.id)
    person.timezone = timezone
    await db_session.commit()
    return person


async def test_average_stats_over_every_provider(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org
) -> None:
    person = await _person(db_session, org)
    records = nights("whoop", TODAY, 5, latency_seconds=600, waso_seconds=1200)
    records.append(night("whoop", TODAY - timedelta(days=20), hours=5, asleep_hours=4))
    await store(db_session, person, records)
    response = await client.get(
        f"/api/v1/users/{person.id}/stats/average",
        params={
            "start_date": (TODAY - timedelta(days=6)).isoformat(),
            "end_date": TODAY.isoformat(),
        },
        headers=org.owner.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["period"] == {
        "start_date": (TODAY - timedelta(days=6)).isoformat(),
        "end_date": TODAY.isoformat(),
        "days": 7,
        "timezone": "UTC",
    }
    average = body["average_stats"]
    assert average["time_in_sleep"] == 7.5 * 3600
    assert average["time_in_bed"] == 8 * 3600
    assert average["sleep_efficiency"] == 0.9375  # 7.5 / 8, as a 0-1 ratio like Asleep's
    assert average["sleep_latency"] == 600
    assert average["time_in_wake"] == 1200
    assert (average["start_time"], average["end_time"]) == ("23:00:00", "07:00:00")
    assert len(body["slept_sessions"]) == 5  # the short night 20 days ago is outside
    assert body["never_slept_sessions"] == []
    assert body["sources_used"] == ["whoop"]

    default = await client.get(
        f"/api/v1/users/{person.id}/stats/average",
        headers=org.owner.headers,
    )
    assert default.json()["period"]["days"] == 30
    assert len(default.json()["slept_sessions"]) == 6


async def test_periods_longer_than_100_days_or_reversed_are_422(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org
) -> None:
    person = await _person(db_session, org)
    path = f"/api/v1/users/{person.id}/stats/average"
    too_long = await client.get(
        path, params={"start_date": "2025-11-01", "end_date": "2026-03-01"},
        headers=org.owner.headers,
    )  # fmt: skip
    assert too_long.status_code == 422
    assert too_long.json()["error"] == "validation_error"
    assert too_long.json()["errors"][0]["field"] == "end_date"
    assert too_long.json()["max_days"] == 100
    exactly = await client.get(
        path, params={"start_date": "2025-11-22", "end_date": "2026-03-01"},
        headers=org.owner.headers,
    )  # fmt: skip
    assert exactly.status_code == 200
    reversed_ = await client.get(
        path, params={"start_date": "2026-03-02", "end_date": "2026-03-01"},
        headers=org.owner.headers,
    )  # fmt: skip
    assert reversed_.status_code == 422
    assert reversed_.json()["errors"][0]["type"] == "reversed_period"
    ignored = await client.get(path, params={"start": "2026-02-01"}, headers=org.owner.headers)
    assert ignored.status_code == 422
    assert ignored.json()["errors"][0] == {
        "field": "start",
        "location": "query",
        "message": "This route takes no such query parameter.",
        "type": "unknown_parameter",
    }
    nonsense = await client.get(path, params={"start_date": "soon"}, headers=org.owner.headers)
    assert nonsense.status_code == 422
    assert nonsense.json()["errors"][0]["field"] == "start_date"
    assert nonsense.json()["errors"][0]["location"] == "query"


async def test_every_answer_with_no_data(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org
) -> None:
    person = await _person(db_session, org)
    base = f"/api/v1/users/{person.id}"
    h = org.owner.headers
    average = (await client.get(f"{base}/stats/average", headers=h)).json()
    assert average["average_stats"] is None
    assert average["slept_sessions"] == []
    assert average["sources_used"] == []
    score = (await client.get(f"{base}/sleep-score", headers=h)).json()
    assert score["score"]["overall"] is None
    assert score["session_count"] == 0
    weekly = (await client.get(f"{base}/reports/weekly", headers=h)).json()
    assert weekly["week"] == "2026-W11"
    assert weekly["session_count"] == 0
    assert [i["kind"] for i in weekly["insights"]] == ["not_enough_data"]
    monthly = (await client.get(f"{base}/trends/monthly", headers=h)).json()
    assert [m["month"] for m in monthly["months"]] == [
        "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03",
    ]  # fmt: skip
    assert all(m["empty"] for m in monthly["months"])
    burnout = (await client.get(f"{base}/burnout", headers=h)).json()
    assert burnout["level"] == "insufficient_data"
    assert burnout["risk"] is None
    assert len(burnout["missing"]) == 5
    insights = (await client.get(f"{base}/insights", headers=h)).json()
    assert [i["kind"] for i in insights["insights"]] == ["not_enough_data"]


async def test_one_night_and_naps_only(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org
) -> None:
    one = await _person(db_session, org)
    await store(db_session, one, [night("whoop", TODAY)])
    score = (
        await client.get(
            f"/api/v1/users/{one.id}/sleep-score",
            headers=org.owner.headers,
        )
    ).json()
    assert score["session_count"] == 1
    # One night in 30 days is too few for a score: null, with the reason.
    assert score["sufficient"] is False
    assert score["score"]["overall"] is None
    assert "overall_score" not in score  # each value once
    assert score["reason"] == (
        "Too few nights: a score over 30 days needs at least 10 recorded nights and has 1."
    )
    assert score["regularity"]["consistency"] is None
    one_day = (
        await client.get(
            f"/api/v1/users/{one.id}/sleep-score",
            params={"days": 1},
            headers=org.owner.headers,
        )
    ).json()
    # Over one day, one night is enough; it has no consistency, so its weight goes to the
    # other components.
    assert one_day["sufficient"] is True
    assert one_day["reason"] is None
    assert one_day["score"]["consistency"]["score"] is None
    assert one_day["score"]["consistency"]["weight"] == 0
    assert one_day["score"]["overall"] == 100.0

    napper = await _person(db_session, org)
    naps = [night("whoop", TODAY - timedelta(days=k), bed="14:00", hours=0.5,
                  asleep_hours=0.4, is_nap=True) for k in range(3)]  # fmt: skip
    await store(db_session, napper, naps)
    path = f"/api/v1/users/{napper.id}/stats/average"
    without = (await client.get(path, headers=org.owner.headers)).json()
    assert without["average_stats"] is None
    assert without["slept_sessions"] == []
    with_naps = (
        await client.get(path, params={"include_naps": True}, headers=org.owner.headers)
    ).json()
    assert len(with_naps["slept_sessions"]) == 3
    assert with_naps["average_stats"]["time_in_sleep"] == 0.4 * 3600
    nap_score = (
        await client.get(
            f"/api/v1/users/{napper.id}/sleep-score",
            headers=org.owner.headers,
        )
    ).json()
    assert nap_score["score"]["overall"] is None


async def test_whoop_and_asleep_on_the_same_night_count_once(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org
) -> None:
    person = await _person(db_session, org)
    whoop = nights("whoop", TODAY, 5, asleep_hours=6.0)
    asleep = [night("asleep", TODAY - timedelta(days=k), bed="23:10", hypnogram=STAGED)
              for k in range(1, 5)]  # fmt: skip
    await store(db_session, person, whoop + asleep)
    base = f"/api/v1/users/{person.id}"
    h = org.owner.headers
    listed = (await client.get(f"{base}/sleep", headers=h)).json()["data"]
    assert len(listed) == 9  # both records stay stored and listed with their source

    body = (await client.get(f"{base}/stats/average", headers=h)).json()
    providers = [s["provider"] for s in body["slept_sessions"]]
    # By default the record with a hypnogram wins; today's night only WHOOP recorded.
    assert sorted(providers) == ["asleep"] * 4 + ["whoop"]
    assert body["sources_used"] == ["asleep", "whoop"]
    score = (await client.get(f"{base}/sleep-score", headers=h)).json()
    assert score["session_count"] == 5

    await set_preferences(db_session, person, source_priority=["whoop"])
    body = (await client.get(f"{base}/stats/average", headers=h)).json()
    assert [s["provider"] for s in body["slept_sessions"]] == ["whoop"] * 5
    assert body["sources_used"] == ["whoop"]
    assert body["average_stats"]["time_in_sleep"] == 6 * 3600
    weekly = (await client.get(f"{base}/reports/weekly", headers=h)).json()
    assert weekly["session_count"] == 4
    assert weekly["sources_used"] == ["whoop"]


async def test_a_night_across_the_dst_change_and_a_traveller(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    # Berlin moves from CET (+1) to CEST (+2) at 02:00 on Sunday 2026-03-29.
    pin_now(app, datetime(2026, 4, 1, 10, 0, tzinfo=UTC))
    org = await create_organization(db_session, client)
    person = await _person(db_session, org, "Europe/Berlin")
    dst_night = night("whoop", date(2026, 3, 29), zone=BERLIN, hours=7, asleep_hours=6.5)
    assert dst_night.end_at.astimezone(BERLIN).hour == 7
    tokyo = ZoneInfo("Asia/Tokyo")
    away = [night("whoop", date(2026, 3, d), zone=tokyo) for d in (31, 30)]
    await store(db_session, person, [dst_night, *away])
    body = (
        await client.get(
            f"/api/v1/users/{person.id}/stats/average",
            params={"start_date": "2026-03-29", "end_date": "2026-03-31"},
            headers=org.owner.headers,
        )
    ).json()
    sessions = {s["local_date"]: s for s in body["slept_sessions"]}
    assert sorted(sessions) == ["2026-03-29", "2026-03-30", "2026-03-31"]
    across = sessions["2026-03-29"]
    assert across["time_in_bed"] == 7 * 3600
    assert across["start_time"].startswith("2026-03-28T23:00:00+01:00")
    assert across["end_time"].startswith("2026-03-29T07:00:00+02:00")
    # In Tokyo the person wakes at 07:00 local, 22:00 UTC the day before: a Tokyo date.
    travelled = sessions["2026-03-31"]
    assert travelled["end_time"].startswith("2026-03-31T07:00:00+09:00")
    assert body["average_stats"]["start_time"] == "23:00:00"
    assert body["average_stats"]["end_time"] == "07:00:00"


async def test_weekly_reports_by_iso_week(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org
) -> None:
    person = await _person(db_session, org)
    await store(db_session, person, nights("whoop", TODAY, 14, asleep_hours=6.0))
    await set_preferences(db_session, person, sleep_goal_hours=8.0)
    path = f"/api/v1/users/{person.id}/reports/weekly"
    h = org.owner.headers
    last_week = (await client.get(path, params={"week": "2026-W10"}, headers=h)).json()
    assert (last_week["start_date"], last_week["end_date"]) == ("2026-03-02", "2026-03-08")
    assert last_week["session_count"] == 7
    assert last_week["sufficient"] is True
    # The running debt on Sunday 8 March: 10 nights (27 Feb on) 2 h short of the 8 h goal,
    # each decayed by 0.5 ** (1/7) per day since.
    debt = sum(2.0 * DECAY**k for k in range(10))
    assert last_week["sleep_debt_hours"] == round(debt, 1)  # served to one decimal
    assert "short_sleep" in [i["kind"] for i in last_week["insights"]]
    assert last_week["sources_used"] == ["whoop"]
    by_date = (await client.get(path, params={"week": "2026-03-04"}, headers=h)).json()
    assert by_date["week"] == "2026-W10"
    current = (await client.get(path, headers=h)).json()
    assert current["week"] == "2026-W11"
    assert current["session_count"] == 4
    assert current["sufficient"] is True
    bad = await client.get(path, params={"week": "2026-W99"}, headers=h)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "week"


async def test_monthly_trends_are_calendar_months_with_empty_ones_present(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org
) -> None:
    person = await _person(db_session, org)
    january = [night("whoop", date(2026, 1, d)) for d in range(10, 20)]
    await store(db_session, person, january + nights("whoop", TODAY, 5))
    body = (
        await client.get(
            f"/api/v1/users/{person.id}/trends/monthly",
            params={"months": 3},
            headers=org.owner.headers,
        )
    ).json()
    months = {m["month"]: m for m in body["months"]}
    assert list(months) == ["2026-01", "2026-02", "2026-03"]
    assert months["2026-01"]["summary"]["nights"] == 10
    assert months["2026-01"]["complete"]
    assert months["2026-02"]["empty"] is True
    assert months["2026-02"]["end_date"] == "2026-02-28"
    assert months["2026-03"]["summary"]["nights"] == 5
    assert months["2026-03"]["complete"] is False
    too_many = await client.get(
        f"/api/v1/users/{person.id}/trends/monthly",
        params={"months": 25},
        headers=org.owner.headers,
    )
    assert too_many.status_code == 422


async def test_members_reach_their_analytics_through_me_only(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org
) -> None:
    member = await create_account(db_session, client, org.id, "member")
    other = await _person(db_session, org)
    me_person = await db_session.get(Person, member.person_id)
    assert me_person is not None
    await store(db_session, me_person, nights("whoop", TODAY, 3))
    mine = await client.get("/api/v1/me/sleep-score", headers=member.headers)
    assert mine.status_code == 200
    assert mine.json()["session_count"] == 3
    assert mine.json()["user_id"] == str(member.person_id)
    for path in ("sleep-score", "stats/average", "burnout", "insights"):
        theirs = await client.get(
            f"/api/v1/users/{other.id}/{path}",
            headers=member.headers,
        )
        assert theirs.status_code == 404
    statistics = await client.get(
        f"/api/v1/organizations/{org.id}/statistics", headers=member.headers
    )
    assert statistics.status_code == 403
    sleep_only = await create_api_key(
        client, org.owner.headers, scopes=["sleep"], permissions=["read"]
    )
    refused = await client.get(
        f"/api/v1/users/{other.id}/sleep-score",
        headers=sleep_only.headers,
    )
    assert refused.status_code == 403
    assert refused.json()["required_scopes"] == ["analytics:read"]
