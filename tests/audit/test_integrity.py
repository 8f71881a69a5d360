"""Append-only and tamper-evident: PostgreSQL refuses UPDATE and DELETE, and
``somna admin audit verify`` (the real CLI) finds an edited and a removed row."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from somna.audit.chain import AuditDraft
from somna.audit.writer import AuditWriter
from somna.db import create_engine, create_sessionmaker
from somna.models import GENESIS_HASH, AuditChainHead
from tests.audit.chain_writer import READS_PER_ROUND
from tests.audit.support import audit_rows, audit_rows_without_flush
from tests.support.auth import create_organization, create_person
from tests.support.cli import run_somna
from tests.support.factories import make_organization
from tests.support.server import app_client


async def _some_rows(client: httpx.AsyncClient, db_session: AsyncSession) -> uuid.UUID:
    org = await create_organization(db_session, client)
    person_id = (await create_person(db_session, org.id)).id
    for path in ("", "/sleep", "/recovery", "/preferences"):
        response = await client.get(f"/api/v1/users/{person_id}{path}", headers=org.owner.headers)
        assert response.status_code == 200, response.text
    return org.id


async def test_postgresql_refuses_update_and_delete(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the trigger is PostgreSQL's; on SQLite no code path changes a row")
    organization_id = await _some_rows(client, db_session)
    assert await audit_rows(app, db_session, organization_id=organization_id)
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            await db_session.execute(text(statement))
        await db_session.rollback()


async def _tamper(db_session: AsyncSession, database_url: str, statement: str) -> None:
    """What someone with the database owner's rights could do behind Somna's back."""
    postgres = database_url.startswith("postgresql")
    if postgres:
        await db_session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    await db_session.execute(text(statement))
    if postgres:
        await db_session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
    await db_session.commit()


def _verify(database_url: str, tmp_path: Path, org: uuid.UUID) -> tuple[int, dict[str, object]]:
    result = run_somna(database_url, tmp_path, "admin", "audit", "verify", "--org", str(org),
                       "--json")  # fmt: skip
    return result.returncode, json.loads(result.stdout)


async def test_verify_finds_an_edited_and_a_removed_row(
    app: FastAPI,
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    database_url: str,
    tmp_path: Path,
) -> None:
    organization_id = await _some_rows(client, db_session)
    rows = await audit_rows(app, db_session, organization_id=organization_id)
    assert [row.seq for row in rows] == list(range(1, len(rows) + 1))
    code, report = _verify(database_url, tmp_path, organization_id)
    assert (code, report["intact"]) == (0, True), report

    edited = rows[1].id.hex if database_url.startswith("sqlite") else str(rows[1].id)
    await _tamper(
        db_session, database_url, f"UPDATE audit_events SET action = 'x' WHERE id = '{edited}'"
    )
    code, report = _verify(database_url, tmp_path, organization_id)
    assert code == 1
    assert "seq 2: hash does not match its contents (edited row)" in str(report)

    await _tamper(db_session, database_url, f"DELETE FROM audit_events WHERE id = '{edited}'")
    code, report = _verify(database_url, tmp_path, organization_id)
    assert code == 1
    assert "seq 2..2 missing (removed rows)" in str(report)
    assert "edited row" not in str(report)


async def test_the_buffered_writer_flushes_on_shutdown(
    db_session: AsyncSession, database_url: str
) -> None:
    organization_id = uuid.uuid4()
    engine = create_engine(database_url)
    # A timer that never fires in this test: only the shutdown can write the drafts.
    writer = AuditWriter(create_sessionmaker(engine), interval=3600, batch_size=10_000)
    writer.start()
    for _ in range(25):
        writer.record(AuditDraft(organization_id, "cli", None, "cli", "person.read"))
    assert writer.pending == 25
    await writer.aclose()
    await engine.dispose()
    assert await audit_rows_of(db_session, organization_id) == list(range(1, 26))


async def test_the_writer_closes_after_the_flush_it_is_in(
    db_session: AsyncSession, database_url: str
) -> None:
    """Shutting down while the timer's flush waits on the database: that flush ends, then the
    last one writes the rest; every draft once, in order. (The writer used to cancel the flush
    in flight: in the privacy tests this left the final flush on SQLite waiting forever, the
    lifespan timing out. That hang depends on where the cancel lands and is not reproduced
    here; what is checked is that closing waits for the flush and loses or repeats nothing.)"""
    organization_id = uuid.uuid4()
    # The test's own transaction holds the chain head (SQLite: the write lock) until it commits.
    db_session.add(
        AuditChainHead(organization_id=organization_id, last_seq=0, last_hash=GENESIS_HASH)
    )
    await db_session.flush()
    engine = create_engine(database_url)
    # A batch of one wakes the timer at once.
    writer = AuditWriter(create_sessionmaker(engine), interval=3600, batch_size=1)
    writer.start()
    writer.record(AuditDraft(organization_id, "cli", None, "cli", "person.read"))
    # Until the timer takes the draft, its flush begun (the writer has no event to wait on).
    while writer.pending:  # noqa: ASYNC110
        await asyncio.sleep(0)
    for _ in range(9):
        writer.record(AuditDraft(organization_id, "cli", None, "cli", "person.read"))
    closing = asyncio.create_task(writer.aclose())
    await asyncio.sleep(0)  # aclose has begun, the flush still waits on the head
    await db_session.commit()
    await closing
    await engine.dispose()
    assert writer.pending == 0
    assert await audit_rows_of(db_session, organization_id) == list(range(1, 11))


async def audit_rows_of(db_session: AsyncSession, organization_id: uuid.UUID) -> list[int]:
    rows = await audit_rows_without_flush(db_session, organization_id=organization_id)
    return [row.seq for row in rows]


async def test_the_app_writes_buffered_reads_when_it_stops(
    app: FastAPI, db_session: AsyncSession
) -> None:
    async with app_client(app) as client:
        organization_id = await _some_rows(client, db_session)
    # The lifespan has ended: every read is in the table, none left in memory.
    assert app.state.audit_writer.pending == 0
    assert len(await audit_rows_of(db_session, organization_id)) == 4


async def test_two_processes_appending_to_one_chain_keep_it_intact(
    database_url: str, db_session: AsyncSession, tmp_path: Path
) -> None:
    """Each process locks the chain head before it appends, so their rows interleave in
    commit order with consecutive ``seq`` values, and ``verify`` accepts the chain."""
    organization_id = (await make_organization(db_session)).id
    await db_session.commit()
    rounds, go = 20, tmp_path / "go"
    writers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.audit.chain_writer",
            database_url,
            str(organization_id),
            name,
            str(rounds),
            str(go),
        )
        for name in ("left", "right")
    ]
    go.touch()
    codes = [await asyncio.wait_for(writer.wait(), 120) for writer in writers]
    assert codes == [0, 0]

    rows = await audit_rows_without_flush(db_session, organization_id=organization_id)
    per_writer = rounds * (READS_PER_ROUND + 1)
    assert [row.seq for row in rows] == list(range(1, 2 * per_writer + 1))
    for name in ("left", "right"):
        assert sum((row.request_id or "").startswith(f"{name}-") for row in rows) == per_writer
    head = await db_session.get(AuditChainHead, organization_id)
    assert head is not None
    assert (head.last_seq, head.last_hash) == (rows[-1].seq, rows[-1].hash)
    code, report = _verify(database_url, tmp_path, organization_id)
    assert (code, report["intact"]) == (0, True), report
