"""The batch route: per-event results, the 1-100 envelope, duplicates and the hourly budget."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.app import create_app
from somna.config import Settings
from somna.models import UsageEvent
from tests.conftest import make_settings
from tests.events.conftest import (
    BATCH,
    SINGLE,
    Publisher,
    make_event,
    make_publisher,
    stored_count,
)
from tests.support.server import serve_in_thread


async def test_the_documents_batch_gets_the_documents_answer(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    events = [
        make_event(session_id="550e8400-e29b-41d4-a716-446655440000"),
        make_event(
            session_id="550e8400-e29b-41d4-a716-446655440001",
            python_version="3.10.0",
            os_type="Windows",
            event_timestamp="2024-01-15T10:31:00Z",
        ),
    ]
    response = await http.post(BATCH, json={"events": events}, headers=publisher.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    created = [{k: e[k] for k in ("index", "session_id", "package_name")} for e in body.pop(
        "created_events"
    )]  # fmt: skip
    assert created == [
        {"index": 0, "session_id": events[0]["session_id"], "package_name": "my-package"},
        {"index": 1, "session_id": events[1]["session_id"], "package_name": "my-package"},
    ]
    assert body == {
        "success": True,
        "created_count": 2,
        "failed_count": 0,
        "failed_events": None,
        "message": "Batch processed: 2 events created",
        "duplicate_count": 0,
        "duplicate_events": None,
    }
    assert response.headers["X-RateLimit-Remaining"] == "998"
    assert await stored_count(db_session) == 2


async def test_invalid_events_fail_alone_and_the_rest_are_stored(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    good = [make_event(entry_point=f"pkg.step{i}") for i in range(3)]
    bad_version = make_event(python_version="3")
    other_package = make_event(package_name="someone-else")
    not_an_object = "hello"
    events: list[Any] = [good[0], bad_version, good[1], other_package, not_an_object, good[2]]
    response = await http.post(BATCH, json={"events": events}, headers=publisher.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert (body["created_count"], body["failed_count"]) == (3, 3)
    assert [e["index"] for e in body["created_events"]] == [0, 2, 5]
    assert body["message"] == "Batch processed: 3 events created"
    failed = {item["index"]: item for item in body["failed_events"]}
    assert set(failed) == {1, 3, 4}
    assert failed[1]["session_id"] == bad_version["session_id"]
    assert failed[1]["errors"] == [
        {"loc": ["python_version"], "msg": "Invalid Python version format", "type": "value_error"}
    ]
    assert "python_version" in failed[1]["error"]
    assert failed[3]["errors"][0]["msg"] == (
        "API key is not authorized for package 'someone-else'. This key is for package 'my-package'"
    )
    assert failed[4]["session_id"] is None
    assert await stored_count(db_session) == 3
    await db_session.commit()
    entry_points = set((await db_session.scalars(select(UsageEvent.entry_point))).all())
    assert entry_points == {"pkg.step0", "pkg.step1", "pkg.step2"}
    # The answer's event ids are the stored rows'.
    ids = {uuid.UUID(e["event_id"]) for e in body["created_events"]}
    assert set((await db_session.scalars(select(UsageEvent.id))).all()) == ids


async def test_empty_oversized_and_malformed_envelopes_are_422(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    payloads: list[Any] = [
        {"events": []},
        {"events": [make_event() for _ in range(101)]},
        {"events": "nope"},
        {},
        [make_event()],
    ]
    for payload in payloads:
        response = await http.post(BATCH, json=payload, headers=publisher.headers)
        assert response.status_code == 422, payload
        assert all(set(e) == {"loc", "msg", "type"} for e in response.json()["detail"])
    # Nothing was charged for a malformed envelope.
    ok = await http.post(BATCH, json={"events": [make_event()]}, headers=publisher.headers)
    assert ok.headers["X-RateLimit-Remaining"] == "999"
    assert await stored_count(db_session) == 1


async def test_a_batch_of_exactly_100_is_accepted(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    events = [make_event(event_id=f"e-{i}") for i in range(100)]
    response = await http.post(BATCH, json={"events": events}, headers=publisher.headers)
    assert response.status_code == 200
    assert response.json()["created_count"] == 100
    assert response.headers["X-RateLimit-Remaining"] == "900"  # a batch of 100 costs 100
    assert await stored_count(db_session) == 100


async def test_when_no_event_is_valid_the_batch_answers_like_a_single_event(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    invalid = [make_event(python_version="x"), make_event(package_name="other")]
    response = await http.post(BATCH, json={"events": invalid}, headers=publisher.headers)
    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["detail"]]
    assert locs == [["events", 0, "python_version"], ["events", 1, "package_name"]]

    foreign = [make_event(package_name="other"), make_event(package_name="other")]
    response = await http.post(BATCH, json={"events": foreign}, headers=publisher.headers)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "API key is not authorized for package 'other'. "
        "This key is for package 'my-package'"
    }
    assert await stored_count(db_session) == 0


async def test_duplicates_by_event_id_within_and_across_batches(
    http: httpx.AsyncClient, publisher: Publisher, db_session: AsyncSession
) -> None:
    first = [make_event(event_id="a"), make_event(event_id="b"), make_event(event_id="a")]
    body = (await http.post(BATCH, json={"events": first}, headers=publisher.headers)).json()
    assert (body["created_count"], body["duplicate_count"]) == (2, 1)
    assert [d["index"] for d in body["duplicate_events"]] == [2]
    assert body["duplicate_events"][0]["client_event_id"] == "a"

    # A retried batch (the SDK's case) stores nothing new; new events in it still count.
    retry = [*first[:2], make_event(event_id="c"), make_event()]
    response = await http.post(BATCH, json={"events": retry}, headers=publisher.headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["created_count"], body["duplicate_count"], body["failed_count"]) == (2, 2, 0)
    assert [e["index"] for e in body["created_events"]] == [2, 3]
    assert [d["index"] for d in body["duplicate_events"]] == [0, 1]
    assert body["success"] is True

    all_known = [make_event(event_id="a"), make_event(event_id="c")]
    body = (await http.post(BATCH, json={"events": all_known}, headers=publisher.headers)).json()
    assert (body["success"], body["created_count"], body["duplicate_count"]) == (True, 0, 2)
    assert await stored_count(db_session) == 4
    single = await http.post(SINGLE, json=make_event(event_id="b"), headers=publisher.headers)
    assert single.json()["duplicate"] is True
    assert await stored_count(db_session) == 4


async def test_a_batch_crossing_the_hourly_limit_is_refused_whole(
    http: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    publisher = await make_publisher(db_session, http, events_per_hour=5)
    three = {"events": [make_event() for _ in range(3)]}
    response = await http.post(BATCH, json=three, headers=publisher.headers)
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Limit"] == "5"
    assert response.headers["X-RateLimit-Remaining"] == "2"

    refused = await http.post(BATCH, json=three, headers=publisher.headers)
    assert refused.status_code == 429
    body = refused.json()
    assert set(body) == {"error", "limit", "window_seconds", "reset_time", "current_usage"}
    assert body["error"] == "Rate limit exceeded"
    assert (body["limit"], body["window_seconds"], body["current_usage"]) == (5, 3600, 6)
    reset = datetime.fromisoformat(body["reset_time"].replace("Z", "+00:00"))
    assert reset.timestamp() == int(refused.headers["X-RateLimit-Reset"])
    assert reset > datetime.now(UTC)
    assert reset.minute == 0
    assert reset.second == 0
    assert refused.headers["X-RateLimit-Remaining"] == "2"
    assert int(refused.headers["Retry-After"]) > 0
    assert await stored_count(db_session) == 3  # nothing of the refused batch

    # Nothing was counted for the refusal: the two events left still fit.
    two = {"events": [make_event() for _ in range(2)]}
    assert (await http.post(BATCH, json=two, headers=publisher.headers)).status_code == 200
    last = await http.post(SINGLE, json=make_event(), headers=publisher.headers)
    assert last.status_code == 429
    assert last.json()["current_usage"] == 6
    assert await stored_count(db_session) == 5


async def test_the_default_limit_comes_from_the_settings_and_keys_are_separate(
    database_url: str, tmp_path: Path, db_session: AsyncSession
) -> None:
    settings: Settings = make_settings(database_url, tmp_path, events_per_hour=2)
    with serve_in_thread(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            one = await make_publisher(db_session, http)
            two = await make_publisher(db_session, http, org=one.org)
            batch = {"events": [make_event(), make_event()]}
            assert (await http.post(BATCH, json=batch, headers=one.headers)).status_code == 200
            refused = await http.post(SINGLE, json=make_event(), headers=one.headers)
            assert refused.status_code == 429
            assert refused.json()["limit"] == 2
            other_key = await http.post(BATCH, json=batch, headers=two.headers)
            assert other_key.status_code == 200
            assert other_key.headers["X-RateLimit-Limit"] == "2"


async def test_the_limit_holds_with_the_redis_limiter(
    database_url: str, redis_test_url: str, tmp_path: Path, db_session: AsyncSession
) -> None:
    settings = make_settings(database_url, tmp_path, redis_url=redis_test_url)
    with serve_in_thread(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            publisher = await make_publisher(db_session, http, events_per_hour=150)
            hundred = {"events": [make_event() for _ in range(100)]}
            first = await http.post(BATCH, json=hundred, headers=publisher.headers)
            assert first.status_code == 200
            assert first.headers["X-RateLimit-Remaining"] == "50"
            second = await http.post(BATCH, json=hundred, headers=publisher.headers)
            assert second.status_code == 429
            assert second.json()["current_usage"] == 200
    assert await stored_count(db_session) == 100


async def test_a_batch_is_stored_with_one_insert_statement(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    publisher = await make_publisher(db_session, client)
    inserts: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO USAGE_EVENTS"):
            inserts.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        events = [make_event(event_id=f"id-{i}") for i in range(100)]
        response = await client.post(BATCH, json={"events": events}, headers=publisher.headers)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.json()["created_count"] == 100
    assert len(inserts) == 1
    assert "ON CONFLICT" in inserts[0].upper()
