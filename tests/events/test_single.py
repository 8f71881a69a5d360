"""The document's health check, single-event route and error bodies, over real HTTP."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.app import create_app
from somna.models import UsageEvent
from tests.conftest import make_settings
from tests.events.conftest import (
    SINGLE,
    Publisher,
    make_event,
    make_publisher,
    stored_count,
)
from tests.support.auth import create_api_key
from tests.support.server import free_port, serve_in_thread

FULL_EVENT = {
    "session_id": "550e8400-e29b-41d4-a716-446655440000",
    "package_name": "my-package",
    "package_version": "1.0.0",
    "python_version": "3.11.5",
    "python_implementation": "CPython",
    "os_type": "Linux",
    "os_version": "5.15.0",
    "os_release": "Ubuntu 22.04",
    "architecture": "x86_64",
    "installation_method": "pip",
    "virtual_env": True,
    "virtual_env_type": "venv",
    "cpu_count": 8,
    "total_memory_gb": 16,
    "entry_point": "your_package.main",
    "event_timestamp": "2024-01-15T10:30:00Z",
    "extra_data": {"custom_field": "value"},
}


def _parse_z(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_health_answers_without_authentication(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/analytics/health")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "service", "timestamp"}
    assert body["status"] == "healthy"
    assert body["service"] == "analytics"
    assert abs((_parse_z(body["timestamp"]) - datetime.now(UTC)).total_seconds()) < 300


def test_health_is_503_unhealthy_when_the_database_is_unreachable(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"
    app = create_app(make_settings(url, tmp_path))
    with serve_in_thread(app) as base_url:
        response = httpx.get(f"{base_url}/api/analytics/health", timeout=15)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["service"] == "analytics"
    assert set(body) == {"status", "service", "timestamp"}


async def test_one_event_is_recorded_with_the_documented_answer(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    before = time.time()
    response = await http.post(SINGLE, json=FULL_EVENT, headers=publisher.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"success", "event_id", "received_at", "message"} <= set(body)
    assert body["success"] is True
    assert body["message"] == "Analytics event recorded successfully"
    assert body["duplicate"] is False
    received = _parse_z(body["received_at"])
    assert abs(received.timestamp() - before) < 300

    # The document's headers: the key's hourly event budget, one event spent.
    assert response.headers["X-RateLimit-Limit"] == "1000"
    assert response.headers["X-RateLimit-Remaining"] == "999"
    reset = int(response.headers["X-RateLimit-Reset"])
    assert before < reset <= before + 3600
    assert reset % 3600 == 0

    await db_session.commit()
    row = await db_session.scalar(
        select(UsageEvent).where(UsageEvent.id == uuid.UUID(body["event_id"]))
    )
    assert row is not None
    assert row.organization_id == publisher.org.id
    assert row.api_key_id == publisher.key.id
    assert str(row.session_id) == FULL_EVENT["session_id"]
    assert (row.python_version, row.os_type, row.os_release) == ("3.11.5", "Linux", "Ubuntu 22.04")
    assert (row.cpu_count, row.total_memory_gb, row.virtual_env) == (8, 16.0, True)
    assert row.entry_point == "your_package.main"
    assert row.extra_data == {"custom_field": "value"}
    assert row.event_timestamp == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    assert row.client_event_id is None


async def test_without_event_id_every_submission_is_a_new_event(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    event = make_event()
    first = await http.post(SINGLE, json=event, headers=publisher.headers)
    second = await http.post(SINGLE, json=event, headers=publisher.headers)
    assert first.json()["event_id"] != second.json()["event_id"]
    assert await stored_count(db_session) == 2


async def test_a_repeated_event_id_is_a_duplicate_and_not_stored_twice(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    event = make_event(event_id=str(uuid.uuid4()))
    first = (await http.post(SINGLE, json=event, headers=publisher.headers)).json()
    retry = await http.post(SINGLE, json=event, headers=publisher.headers)
    assert retry.status_code == 200
    again = retry.json()
    assert again["success"] is True
    assert again["duplicate"] is True
    assert "already recorded" in again["message"]
    assert (again["event_id"], again["received_at"]) == (first["event_id"], first["received_at"])
    assert await stored_count(db_session) == 1


async def test_event_ids_are_scoped_to_the_organisation(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    # Another organisation with a key for the same package name cannot pre-empt our event ids.
    rival = await make_publisher(db_session, http)
    event = make_event(event_id="shared-id-1")
    ours = (await http.post(SINGLE, json=event, headers=publisher.headers)).json()
    theirs = (await http.post(SINGLE, json=event, headers=rival.headers)).json()
    assert ours["duplicate"] is False
    assert theirs["duplicate"] is False
    assert await stored_count(db_session, organization_id=publisher.org.id) == 1
    assert await stored_count(db_session, organization_id=rival.org.id) == 1


async def test_401_without_a_key_has_the_documents_detail(http: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}):
        response = await http.post(SINGLE, json=make_event(), headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "detail": "API key required. Include 'Authorization: Bearer <api_key>' header."
        }


async def test_401_for_an_unknown_or_revoked_key(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    response = await http.post(
        SINGLE, json=make_event(), headers={"Authorization": "Bearer klyne_not_a_key"}
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key"}

    revoked = await http.delete(
        f"/api/v1/developer/keys/{publisher.key.id}", headers=publisher.org.owner.headers
    )
    assert revoked.status_code in (200, 204), revoked.text
    response = await http.post(SINGLE, json=make_event(), headers=publisher.headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key"}
    # A JWT is not an ingestion key.
    response = await http.post(SINGLE, json=make_event(), headers=publisher.org.owner.headers)
    assert response.json() == {"detail": "Invalid API key"}
    assert await stored_count(db_session) == 0


async def test_403_for_another_package_names_both(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    response = await http.post(
        SINGLE, json=make_event(package_name="other-package"), headers=publisher.headers
    )
    assert response.status_code == 403
    assert response.json() == {
        "detail": "API key is not authorized for package 'other-package'. "
        "This key is for package 'my-package'"
    }
    assert await stored_count(db_session) == 0


async def test_package_names_compare_as_pep_503_names(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    response = await http.post(
        SINGLE, json=make_event(package_name="My_Package"), headers=publisher.headers
    )
    assert response.status_code == 200, response.text
    assert await stored_count(db_session, package_name="my-package") == 1


async def test_403_for_keys_without_the_events_grant_or_a_package(
    http: httpx.AsyncClient, publisher: Publisher
) -> None:
    owner = publisher.org.owner.headers
    reader = await create_api_key(
        http, owner, scopes=["events"], permissions=["read"], package_name="my-package"
    )
    unbound = await create_api_key(http, owner, scopes=["events"], permissions=["write"])
    for key, words in ((reader, "events scope"), (unbound, "not bound to a package")):
        response = await http.post(SINGLE, json=make_event(), headers=key.headers)
        assert response.status_code == 403
        body = response.json()
        assert set(body) == {"detail"}
        assert words in body["detail"]


async def test_422_invalid_python_version_has_the_documents_body(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    response = await http.post(
        SINGLE, json=make_event(python_version="three.eleven"), headers=publisher.headers
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["python_version"],
                "msg": "Invalid Python version format",
                "type": "value_error",
            }
        ]
    }
    assert await stored_count(db_session) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("session_id", "not-a-uuid"),
        ("event_timestamp", "yesterday"),
        ("event_timestamp", "1999-12-31T23:59:59Z"),
        ("event_timestamp", "2999-01-01T00:00:00Z"),
        ("package_version", "1.0 beta"),
        ("os_type", ""),
        ("cpu_count", -1),
        ("cpu_count", "many"),
        ("total_memory_gb", -2),
        ("virtual_env", "perhaps"),
        ("entry_point", "/home/alice/run.py"),
        ("os_release", "Ubuntu\x0022.04"),
        ("extra_data", {"nested": {"a": 1}}),
        ("extra_data", {"user_email": "x"}),
        ("extra_data", {"contact": "alice@example.com"}),
        ("extra_data", {"origin": "192.168.1.20"}),
        ("extra_data", {"cwd": "anything"}),
        ("extra_data", {"where": "/Users/alice/project"}),
        ("extra_data", {f"k{i}": i for i in range(21)}),
        ("event_id", "has spaces"),
    ],
)
async def test_422_names_the_field_for_each_format(
    http: httpx.AsyncClient, publisher: Publisher, field: str, value: object
) -> None:
    response = await http.post(SINGLE, json=make_event(**{field: value}), headers=publisher.headers)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert errors
    assert all(set(error) == {"loc", "msg", "type"} for error in errors)
    assert errors[0]["loc"][0] == field


async def test_422_lists_every_missing_required_field(
    http: httpx.AsyncClient, publisher: Publisher
) -> None:
    response = await http.post(SINGLE, json={"extra_data": {}}, headers=publisher.headers)
    assert response.status_code == 422
    missing = {error["loc"][0] for error in response.json()["detail"]}
    assert missing == {
        "session_id",
        "package_name",
        "package_version",
        "python_version",
        "os_type",
        "event_timestamp",
    }
    assert {error["type"] for error in response.json()["detail"]} == {"missing"}


async def test_422_for_a_body_that_is_not_json_and_413_for_a_huge_one(
    http: httpx.AsyncClient, publisher: Publisher
) -> None:
    response = await http.post(SINGLE, content=b"{not json", headers=publisher.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    huge = make_event(extra_data={"pad": "x" * 200}) | {"padding": "y" * 70_000}
    response = await http.post(SINGLE, json=huge, headers=publisher.headers)
    assert response.status_code == 413
    assert set(response.json()) == {"detail"}


async def test_fields_outside_the_table_are_dropped_and_naive_times_are_utc(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    event = make_event(event_timestamp="2024-01-15T10:30:00")
    event |= {"hostname": "alice-laptop", "user_email": "alice@example.com", "ip": "10.0.0.7"}
    response = await http.post(SINGLE, json=event, headers=publisher.headers)
    assert response.status_code == 200, response.text
    await db_session.commit()
    row = await db_session.scalar(select(UsageEvent))
    assert row is not None
    assert row.event_timestamp == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    stored = repr({column.name: getattr(row, column.key) for column in UsageEvent.__mapper__.c})
    for secret in ("alice", "example.com", "10.0.0.7"):
        assert secret not in stored
