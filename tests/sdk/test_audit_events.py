"""``client.audit_events`` (sync and async) against the live app: a person's reads come back
through ``list`` (newest first, across pages) and ``export`` (NDJSON and CSV, oldest first)."""

from __future__ import annotations

import asyncio
import csv
import json
import time
from pathlib import Path

from somna_client import AsyncSomna, Somna
from somna_client.models import AuditEventRead
from tests.support.auth import unique_email

READS = 3
WAIT_SECONDS = 30.0  # a bound on the server's buffered writer (it flushes within a second)


def _settled(client: Somna, person_id: str) -> list[AuditEventRead]:
    """The person's ``person.read`` rows, once the server's writer has written all of them."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        events = list(client.audit_events.list(person_id=person_id, action="person.read"))
        if len(events) >= READS or time.monotonic() > deadline:
            return events
        time.sleep(0.1)


def test_list_and_export_a_persons_trail(client: Somna, tmp_path: Path) -> None:
    person = client.users.create(unique_email())
    for _ in range(READS):
        client.users.retrieve(person.id)

    events = _settled(client, person.id)
    assert len(events) == READS
    for event in events:
        assert (event.channel, event.actor_type, event.outcome) == ("api", "api_key", "allowed")
        assert event.route == "GET /api/v1/users/{user_id}"
        assert event.person_id == person.id
    assert [event.seq for event in events] == sorted((e.seq for e in events), reverse=True)
    # One event a page: the iterator follows the cursors to the same events.
    paged = list(client.audit_events.list(person_id=person.id, action="person.read", limit=1))
    assert [event.id for event in paged] == [event.id for event in events]

    ndjson = client.audit_events.export(tmp_path / "trail.ndjson", person_id=person.id,
                                        action="person.read")  # fmt: skip
    lines = [json.loads(line) for line in ndjson.read_text().splitlines()]
    assert [line["id"] for line in lines] == [event.id for event in reversed(events)]
    assert [line["hash"] for line in lines] == [event.hash for event in reversed(events)]

    table = client.audit_events.export(tmp_path / "trail.csv", format="csv",
                                       person_id=person.id, action="person.read")  # fmt: skip
    with table.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["id"] for row in rows] == [event.id for event in reversed(events)]
    assert {row["person_id"] for row in rows} == {person.id}


async def test_the_async_client_lists_and_exports_the_same(
    aclient: AsyncSomna, tmp_path: Path
) -> None:
    person = await aclient.users.create(unique_email())
    await asyncio.gather(*(aclient.users.retrieve(person.id) for _ in range(READS)))

    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        events = [
            event
            async for event in aclient.audit_events.list(person_id=person.id, limit=2)
            if event.action == "person.read"
        ]
        if len(events) >= READS or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert len(events) == READS
    assert {event.person_id for event in events} == {person.id}

    path = await aclient.audit_events.export(tmp_path / "trail.ndjson", person_id=person.id)
    exported = [json.loads(line) for line in path.read_text().splitlines()]
    reads = [line["id"] for line in exported if line["action"] == "person.read"]
    assert reads == [event.id for event in reversed(events)]
    assert [line["seq"] for line in exported] == sorted(line["seq"] for line in exported)
