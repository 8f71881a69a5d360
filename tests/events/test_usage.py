"""The publisher's usage report: counts, distinct sessions, groups, and tenant scoping."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.events.conftest import BATCH, Publisher, make_event, make_publisher
from tests.support.auth import create_account, create_api_key, create_organization

USAGE = "/api/v1/analytics/packages/{}/usage"


async def _arrange(http: httpx.AsyncClient, publisher: Publisher) -> None:
    """Six events in four sessions over two days (and one outside the window)."""
    s1, s2, s3, s4 = (str(uuid.uuid4()) for _ in range(4))
    events = [
        make_event(session_id=s1, event_timestamp="2024-03-01T08:00:00Z", package_version="1.0"),
        make_event(session_id=s1, event_timestamp="2024-03-01T09:00:00Z", package_version="1.0"),
        make_event(
            session_id=s2,
            event_timestamp="2024-03-01T23:59:59+00:00",
            package_version="1.1",
            installation_method="uv",
        ),
        make_event(
            session_id=s3,
            event_timestamp="2024-03-03T01:00:00+02:00",  # 2024-03-02 23:00 UTC
            package_version="1.1",
            python_version="3.12.1",
            os_type="Darwin",
            installation_method="pip",
        ),
        make_event(
            session_id=s3,
            event_timestamp="2024-03-02T10:00:00Z",
            package_version="1.1",
            python_version="3.12.1",
            os_type="Darwin",
            installation_method="pip",
        ),
        make_event(session_id=s4, event_timestamp="2024-03-02T12:00:00Z", package_version="1.1"),
        make_event(session_id=s4, event_timestamp="2024-03-05T12:00:00Z", package_version="1.1"),
    ]
    response = await http.post(BATCH, json={"events": events}, headers=publisher.headers)
    assert response.json()["created_count"] == 7


async def test_usage_by_day_counts_events_and_distinct_sessions(
    http: httpx.AsyncClient, publisher: Publisher
) -> None:
    await _arrange(http, publisher)
    response = await http.get(
        USAGE.format("my-package"),
        params={"start": "2024-03-01", "end": "2024-03-03"},
        headers=publisher.org.owner.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["package_name"] == "my-package"
    assert body["group_by"] == "day"
    assert (body["total_events"], body["unique_sessions"]) == (6, 4)
    assert body["groups"] == [
        {"key": "2024-03-01", "events": 3, "sessions": 2},
        {"key": "2024-03-02", "events": 3, "sessions": 2},
        {"key": "2024-03-03", "events": 0, "sessions": 0},
    ]
    assert body["start"].startswith("2024-03-01T00:00:00")
    assert body["end"].startswith("2024-03-04T00:00:00")  # a date as end counts its whole day


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ("package_version", [("1.1", 4, 3), ("1.0", 2, 1)]),
        ("python_version", [("3.11.5", 4, 3), ("3.12.1", 2, 1)]),
        ("os_type", [("Linux", 4, 3), ("Darwin", 2, 1)]),
        ("installation_method", [(None, 3, 2), ("pip", 2, 1), ("uv", 1, 1)]),
    ],
)
async def test_usage_by_dimension(
    http: httpx.AsyncClient,
    publisher: Publisher,
    group_by: str,
    expected: list[tuple[str | None, int, int]],
) -> None:
    await _arrange(http, publisher)
    response = await http.get(
        USAGE.format("my-package"),
        params={
            "start": "2024-03-01T00:00:00Z",
            "end": "2024-03-04T00:00:00Z",
            "group_by": group_by,
        },
        headers=publisher.org.owner.headers,
    )
    assert response.status_code == 200, response.text
    groups = [(g["key"], g["events"], g["sessions"]) for g in response.json()["groups"]]
    assert groups == expected


async def test_usage_window_is_half_open_and_defaults_to_the_last_30_days(
    http: httpx.AsyncClient, publisher: Publisher
) -> None:
    await _arrange(http, publisher)
    owner = publisher.org.owner.headers
    response = await http.get(
        USAGE.format("My_Package"),
        params={"start": "2024-03-01T09:00:00Z", "end": "2024-03-02T10:00:00Z"},
        headers=owner,
    )
    # 09:00 (start included) and 23:59:59 on the 1st; 10:00 on the 2nd is the excluded end.
    assert response.json()["total_events"] == 2
    recent = await http.get(USAGE.format("my-package"), headers=owner)
    assert recent.status_code == 200
    assert recent.json()["total_events"] == 0
    assert len(recent.json()["groups"]) in (30, 31)


async def test_usage_is_scoped_to_the_organisations_own_packages(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    await _arrange(http, publisher)
    # Another organisation with a key for the same name sees only its own events.
    rival = await make_publisher(db_session, http)
    await http.post(BATCH, json={"events": [make_event()]}, headers=rival.headers)
    params = {"start": "2024-01-01", "end": "2024-12-31"}
    ours = await http.get(
        USAGE.format("my-package"), params=params, headers=publisher.org.owner.headers
    )
    theirs = await http.get(
        USAGE.format("my-package"), params=params, headers=rival.org.owner.headers
    )
    assert (ours.json()["total_events"], theirs.json()["total_events"]) == (7, 1)
    # An organisation without a key for the package: 404, as for a package nobody has.
    stranger = await create_organization(db_session, http)
    for name in ("my-package", "no-such-package"):
        response = await http.get(USAGE.format(name), headers=stranger.owner.headers)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


async def test_usage_needs_the_events_read_grant(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    path = USAGE.format("my-package")
    assert (await http.get(path)).status_code == 401
    ingest_only = await http.get(path, headers=publisher.headers)  # events:write implies read
    assert ingest_only.status_code == 200
    sleep_key = await create_api_key(
        http, publisher.org.owner.headers, scopes=["sleep"], permissions=["read"]
    )
    assert (await http.get(path, headers=sleep_key.headers)).status_code == 403
    analyst = await create_account(db_session, http, publisher.org.id, "analyst")
    assert (await http.get(path, headers=analyst.headers)).status_code == 200
    member = await create_account(db_session, http, publisher.org.id, "member")
    assert (await http.get(path, headers=member.headers)).status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {"group_by": "hostname"},
        {"start": "last week"},
        {"start": "2024-03-05", "end": "2024-03-01"},
        {"start": "2020-01-01", "end": "2024-01-01"},
    ],
)
async def test_usage_rejects_bad_parameters(
    http: httpx.AsyncClient, publisher: Publisher, params: dict[str, str]
) -> None:
    response = await http.get(
        USAGE.format("my-package"), params=params, headers=publisher.org.owner.headers
    )
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
