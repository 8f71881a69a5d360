"""Rotating the secret key: earlier keys keep working as fallbacks, ``somna admin reencrypt``
moves every stored secret to the new key, and a value no key reads fails fast."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from somna.app import create_app
from somna.auth.exceptions import InvalidToken
from somna.auth.tokens import AccessClaims, decode_access_token, issue_access_token
from somna.config import Settings
from somna.connections.clients import TOKEN_PURPOSE, token_box
from somna.db import create_engine, create_sessionmaker
from somna.kit.crypto import SecretBox
from somna.kit.repository import EncryptedColumn
from somna.models import ApiKey, Connection, SyncRun
from somna.pacing import MemoryPacer, provider_budgets
from somna.rotation import reencrypt_all
from somna.sandbox import WhoopSandbox
from somna.sync.engine import SyncServices, execute_run
from tests.conftest import TEST_SECRET
from tests.connections.support import asleep, queue_run, sync_settings, whoop, whoop_connection
from tests.support.auth import TestKey, create_api_key, create_organization, create_person
from tests.support.factories import make_connection, make_organization, make_person
from tests.support.server import app_client

__all__ = ["asleep", "sync_settings", "whoop"]

NEW_KEY = "rotated-secret-key-9876543210-ZYXWVUTSRQPONMLKJIHGFEDCBA"
STRANGER_KEY = "a-key-nobody-configured-0123456789-abcdefghijklmnop"


def _with_keys(settings: Settings, current: str, fallbacks: str = "") -> Settings:
    return settings.model_copy(
        update={"secret_key": SecretStr(current), "secret_key_fallbacks": SecretStr(fallbacks)}
    )


async def _sync(settings: Settings, session: AsyncSession, connection: Connection) -> SyncRun:
    engine = create_engine(settings.database_url)
    services = SyncServices(
        settings,
        create_sessionmaker(engine),
        MemoryPacer(provider_budgets(settings), max_wait=30.0),
    )
    try:
        run_id = (await queue_run(session, connection)).id
        await execute_run(services, run_id)
    finally:
        await engine.dispose()
    session.expire_all()
    run = await session.get(SyncRun, run_id)
    assert run is not None
    return run


async def _reencrypt(settings: Settings) -> dict[str, dict[str, object]]:
    engine = create_engine(settings.database_url)
    try:
        reports = await reencrypt_all(settings, create_sessionmaker(engine))
    finally:
        await engine.dispose()
    return {report.column: report.as_dict() for report in reports}


async def _signed_delete(settings: Settings, db_session: AsyncSession, key: TestKey) -> int:
    """A sensitive request signed with the key's signing secret (stored encrypted)."""
    async with app_client(create_app(settings)) as client:
        row = await db_session.get(ApiKey, key.id)
        assert row is not None
        person = await create_person(db_session, row.organization_id)
        await db_session.commit()
        path = f"/api/v1/users/{person.id}"
        unsigned = await client.delete(path, headers=key.headers)
        assert unsigned.status_code == 401, unsigned.text
        response = await client.delete(path, headers=key.signed("DELETE", path))
        return response.status_code


async def test_rotate_reencrypt_and_drop_the_old_key(
    sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    old = sync_settings
    old_key = old.secret_key_value()
    async with app_client(create_app(old)) as client:
        org = await create_organization(db_session, client)
        key = await create_api_key(client, org.owner.headers)
    connection = await whoop_connection(db_session, old, whoop, whoop.members[0])
    connection_id = connection.id
    stale_jwt = org.owner.access_token

    rotated = _with_keys(old, NEW_KEY, f" {old_key} ,")
    assert rotated.secret_key_fallback_values() == [old_key]
    # Before re-encryption the new key reads the old values through the fallback.
    assert decode_access_token(rotated, stale_jwt).account_id == org.owner.account_id
    first = await _reencrypt(rotated)
    assert first["connections.access_token_encrypted"]["rewritten"] == 1
    assert first["connections.refresh_token_encrypted"]["rewritten"] == 1
    assert first["api_keys.signing_secret_encrypted"]["rewritten"] == 1
    again = await _reencrypt(rotated)  # idempotent: nothing left to move
    assert all(report["rewritten"] == 0 for report in again.values())
    assert again["connections.access_token_encrypted"]["current"] == 1
    assert again["api_keys.signing_secret_encrypted"]["current"] == 1

    dropped = _with_keys(old, NEW_KEY)
    db_session.expire_all()
    stored = await db_session.get(Connection, connection_id)
    assert stored is not None
    assert stored.access_token_encrypted is not None
    assert token_box(dropped).decrypt(stored.access_token_encrypted)
    assert await _signed_delete(dropped, db_session, key) == 202  # deletion scheduled
    run = await _sync(dropped, db_session, stored)
    assert run.status == "succeeded", run.errors
    assert run.counts["sleep"]["inserted"] > 0
    # A token signed under the old key dies with the fallback.
    try:
        decode_access_token(dropped, stale_jwt)
        raise AssertionError("a token signed by a dropped key was accepted")
    except InvalidToken:
        pass
    fresh = issue_access_token(
        dropped, AccessClaims(org.owner.account_id, org.id, "owner", None, False)
    )
    assert decode_access_token(dropped, fresh).organization_id == org.id


async def test_tokens_no_key_reads_are_reported_and_fail_the_sync_at_once(
    sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    stranger = _with_keys(sync_settings, STRANGER_KEY)
    connection = await whoop_connection(db_session, stranger, whoop, whoop.members[0])
    connection_id, unreadable = connection.id, connection.access_token_encrypted
    requests_before = whoop.request_count()

    report = await _reencrypt(sync_settings)
    assert report["connections.access_token_encrypted"]["unreadable_ids"] == [str(connection_id)]
    db_session.expire_all()
    stored = await db_session.get(Connection, connection_id)
    assert stored is not None
    assert stored.access_token_encrypted == unreadable  # left as it was

    run = await _sync(sync_settings, db_session, stored)
    assert run.status == "failed"
    assert ["token_unreadable" in entry["error"] for entry in run.errors] == [True]
    assert run.attempts == 1
    await db_session.refresh(stored)
    assert stored.status == "reauthorization_required"
    assert stored.last_error is not None
    assert "token_unreadable" in stored.last_error
    assert whoop.request_count() == requests_before  # no provider call was spent on it


async def test_reencrypt_command_reports_counts(
    database_url: str, tmp_path: Path, db_session: AsyncSession
) -> None:
    old_box = SecretBox(TEST_SECRET, TOKEN_PURPOSE)
    organization = await make_organization(db_session)
    person = await make_person(db_session, organization)
    connection = await make_connection(db_session, person)
    connection.access_token_encrypted = old_box.encrypt("access-1")
    connection.refresh_token_encrypted = SecretBox(STRANGER_KEY, TOKEN_PURPOSE).encrypt("r-1")
    await db_session.commit()
    connection_id = connection.id
    env = {
        **os.environ,
        "SOMNA_DATABASE_URL": database_url,
        "SOMNA_DATA_DIR": str(tmp_path),
        "SOMNA_SECRET_KEY": NEW_KEY,
        "SOMNA_SECRET_KEY_FALLBACKS": TEST_SECRET,
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "somna", "admin", "reencrypt", "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # one value no key reads
    report = json.loads(result.stdout)
    columns = {column["column"]: column for column in report["columns"]}
    assert report["unreadable"] == 1
    assert columns["connections.access_token_encrypted"]["rewritten"] == 1
    assert columns["connections.refresh_token_encrypted"]["unreadable_ids"] == [str(connection_id)]
    db_session.expire_all()
    stored = await db_session.get(Connection, connection_id)
    assert stored is not None
    assert stored.access_token_encrypted is not None
    assert SecretBox(NEW_KEY, TOKEN_PURPOSE).decrypt(stored.access_token_encrypted) == "access-1"


async def test_a_signing_secret_no_key_reads_is_a_clear_401(
    sync_settings: Settings, db_session: AsyncSession
) -> None:
    async with app_client(create_app(sync_settings)) as client:
        org = await create_organization(db_session, client)
        key = await create_api_key(client, org.owner.headers)
    stranger = _with_keys(sync_settings, STRANGER_KEY)
    async with app_client(create_app(stranger)) as client:
        person = await create_person(db_session, org.id)
        await db_session.commit()
        path = f"/api/v1/users/{person.id}"
        response = await client.delete(path, headers=key.signed("DELETE", path))
    assert response.status_code == 401
    assert response.json()["error"] == "signing_secret_unreadable"


async def test_a_value_a_server_rewrote_meanwhile_is_left_to_it(
    settings: Settings, db_session: AsyncSession
) -> None:
    old_box, new_box = SecretBox(TEST_SECRET, TOKEN_PURPOSE), SecretBox(NEW_KEY, TOKEN_PURPOSE)
    person = await make_person(db_session, await make_organization(db_session))
    connection = await make_connection(db_session, person)
    connection.access_token_encrypted = old_box.encrypt("before-refresh")
    await db_session.commit()
    connection_id = connection.id
    engine = create_engine(settings.database_url)
    try:
        sessions = create_sessionmaker(engine)
        async with sessions() as session:
            [(row_id, read)] = await EncryptedColumn(
                session, Connection, "access_token_encrypted"
            ).batch(None, 10)
        # A server refreshes the tokens between the read and the rewrite.
        connection.access_token_encrypted = new_box.encrypt("after-refresh")
        await db_session.commit()
        async with sessions() as session, session.begin():
            column = EncryptedColumn(session, Connection, "access_token_encrypted")
            replaced = await column.replace(row_id, read, new_box.encrypt("before-refresh"))
    finally:
        await engine.dispose()
    assert row_id == connection_id
    assert replaced is False
    db_session.expire_all()
    stored = await db_session.get(Connection, connection_id)
    assert stored is not None
    assert stored.access_token_encrypted is not None
    assert new_box.decrypt(stored.access_token_encrypted) == "after-refresh"
