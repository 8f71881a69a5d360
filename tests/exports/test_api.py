"""The exports API on both backends: 202, the job, status, downloads, and who may export."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from somna.app import create_app
from somna.config import Settings
from somna.db import create_engine, create_sessionmaker
from somna.exports.service import prune_exports
from somna.kit.time import utc_now
from somna.models import Export
from tests.conftest import make_settings
from tests.exports.support import Arranged, arrange
from tests.support.auth import Org, create_account, create_api_key, create_organization
from tests.support.server import app_client

EXPORTS = "/api/v1/exports"


async def _setup(db_session: AsyncSession, client: httpx.AsyncClient) -> tuple[Org, Arranged]:
    await create_organization(db_session, client, name="Operator")  # the first org operates
    org = await create_organization(db_session, client, name="Night Owls")
    return org, await arrange(db_session, organization_id=org.id)


async def _run_jobs(app: FastAPI) -> None:
    await app.state.job_runtime.run_until_idle()


def _post(key: Any, path: str, payload: dict[str, Any], *, signed: bool) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    headers = key.signed("POST", path, body) if signed else key.headers
    return {"content": body, "headers": {**headers, "Content-Type": "application/json"}}


async def test_the_whole_flow_202_job_status_download(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org, arranged = await _setup(db_session, client)
    created = await client.post(
        EXPORTS, json={"format": ["json", "csv"]}, headers=org.owner.headers
    )
    assert created.status_code == 202, created.text
    body = created.json()
    assert body["status"] == "queued"
    assert body["formats"] == ["json", "csv"]
    assert body["files"] == []
    assert body["download_url"] is None
    export_url = f"{EXPORTS}/{body['id']}"

    early = await client.get(f"{export_url}/download", headers=org.owner.headers)
    assert early.status_code == 409
    assert early.json()["error"] == "export_not_ready"

    await _run_jobs(app)
    done = (await client.get(export_url, headers=org.owner.headers)).json()
    assert done["status"] == "succeeded", done
    assert done["counts"]["people"] == 2
    assert done["counts"]["sleep_sessions"] == 5
    names = [item["name"] for item in done["files"]]
    assert len(names) == 4
    assert sum(name.startswith("json/sleep_data_batch_") for name in names) == 2
    assert any(name.startswith("combined_csv/daily_") for name in names)
    assert any(name.startswith("combined_csv/combined_sleep_data_expanded_") for name in names)
    assert done["download_url"] == f"{export_url}/download"
    assert done["finished_at"] is not None

    archive = await client.get(done["download_url"], headers=org.owner.headers)
    assert archive.status_code == 200
    assert archive.headers["content-type"] == "application/zip"
    assert "attachment" in archive.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        assert sorted(zipped.namelist()) == sorted(names)
        csv_name = next(name for name in names if name.endswith(".csv"))
        from_zip = zipped.read(csv_name)
    csv_item = next(item for item in done["files"] if item["name"] == csv_name)
    single = await client.get(csv_item["url"], headers=org.owner.headers)
    assert single.status_code == 200
    assert single.content == from_zip
    assert len(from_zip) == csv_item["bytes"]
    assert single.headers["content-type"].startswith("text/csv")
    whoop_item = next(item for item in done["files"] if "wanda" in item["name"])
    person = (await client.get(whoop_item["url"], headers=org.owner.headers)).json()
    assert person["user"]["id"] == str(arranged.whoop_person.id)

    missing = await client.get(f"{export_url}/files/json/nope.json", headers=org.owner.headers)
    assert missing.status_code == 404
    assert missing.json()["error"] == "export_file_not_found"
    listed = (await client.get(EXPORTS, headers=org.owner.headers)).json()
    assert [item["id"] for item in listed["data"]] == [body["id"]]


async def test_organisation_exports_are_sensitive(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org, arranged = await _setup(db_session, client)
    key = await create_api_key(client, org.owner.headers, scopes=["exports"])
    unsigned = await client.post(EXPORTS, **_post(key, EXPORTS, {}, signed=False))
    assert unsigned.status_code == 401
    assert unsigned.json()["error"] == "invalid_signature"
    signed = await client.post(EXPORTS, **_post(key, EXPORTS, {}, signed=True))
    assert signed.status_code == 202, signed.text

    analyst = await create_account(db_session, client, org.id, "analyst")
    refused = await client.post(EXPORTS, json={}, headers=analyst.headers)
    assert refused.status_code == 403
    assert refused.json()["error"] == "insufficient_permissions"
    assert refused.json()["required_roles"] == ["owner", "admin"]
    # Chosen people are an ordinary export: analysts may, and keys need no signature.
    some = {"user_ids": [str(arranged.whoop_person.id)], "format": ["json"]}
    assert (await client.post(EXPORTS, json=some, headers=analyst.headers)).status_code == 202
    by_key = await client.post(EXPORTS, **_post(key, EXPORTS, some, signed=False))
    assert by_key.status_code == 202, by_key.text

    read_only = await create_api_key(client, org.owner.headers, scopes=["sleep"])
    no_grant = await client.post(EXPORTS, **_post(read_only, EXPORTS, {}, signed=True))
    assert no_grant.status_code == 403
    assert no_grant.json()["required_scopes"] == ["exports:write"]

    await _run_jobs(app)
    chosen = (await client.get(f"{EXPORTS}/{by_key.json()['id']}", headers=key.headers)).json()
    assert chosen["status"] == "succeeded"
    assert chosen["counts"]["people"] == 1
    assert chosen["user_ids"] == [str(arranged.whoop_person.id)]


async def test_members_export_their_own_data_only(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org, arranged = await _setup(db_session, client)
    member = await create_account(
        db_session, client, org.id, "member", person_id=arranged.asleep_person.id
    )
    organisation = await client.post(EXPORTS, json={}, headers=org.owner.headers)
    assert organisation.status_code == 202

    refused = await client.post(
        EXPORTS, json={"user_ids": [str(arranged.whoop_person.id)]}, headers=member.headers
    )
    assert refused.status_code == 403
    own = await client.post(
        "/api/v1/me/exports", json={"format": ["json", "parquet"]}, headers=member.headers
    )
    assert own.status_code == 202, own.text
    await _run_jobs(app)

    mine = (await client.get(f"{EXPORTS}/{own.json()['id']}", headers=member.headers)).json()
    assert mine["status"] == "succeeded"
    assert mine["counts"]["people"] == 1
    assert mine["counts"]["sleep_sessions"] == 2
    assert all("wanda" not in item["name"] for item in mine["files"])
    other = await client.get(f"{EXPORTS}/{organisation.json()['id']}", headers=member.headers)
    assert other.status_code == 404
    listed = (await client.get(EXPORTS, headers=member.headers)).json()
    assert [item["id"] for item in listed["data"]] == [own.json()["id"]]
    # The owner sees both.
    everything = (await client.get(EXPORTS, headers=org.owner.headers)).json()
    assert len(everything["data"]) == 2


async def test_another_organisation_gets_404(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org, arranged = await _setup(db_session, client)
    created = (await client.post(EXPORTS, json={}, headers=org.owner.headers)).json()
    await _run_jobs(app)
    stranger = await create_organization(db_session, client, name="Early Birds")
    export_url = f"{EXPORTS}/{created['id']}"
    done = (await client.get(export_url, headers=org.owner.headers)).json()
    for path in (export_url, f"{export_url}/download", done["files"][0]["url"]):
        response = await client.get(path, headers=stranger.owner.headers)
        assert response.status_code == 404, path
        assert response.json()["error"] == "export_not_found"
    assert (await client.get(EXPORTS, headers=stranger.owner.headers)).json()["data"] == []
    foreign = await client.post(
        EXPORTS, json={"user_ids": [str(arranged.whoop_person.id)]},
        headers=stranger.owner.headers,
    )  # fmt: skip
    assert foreign.status_code == 404
    assert foreign.json()["error"] == "user_not_found"


async def test_bad_requests_are_refused_clearly(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org, _ = await _setup(db_session, client)
    bad = [
        {"format": ["xml"]},
        {"format": []},
        {"start_date": "2026-03-05", "end_date": "2026-03-01"},
        {"start": "2026-03-01"},
        {"user_ids": []},
        {"surprise": 1},
    ]
    fields = ["format.0", "format", "end_date", "start", "user_ids", "surprise"]
    for payload, field in zip(bad, fields, strict=True):
        response = await client.post(EXPORTS, json=payload, headers=org.owner.headers)
        assert response.status_code == 422, payload
        assert response.json()["error"] == "validation_error"
        assert [error["field"] for error in response.json()["errors"]] == [field], payload
    unknown = await client.post(
        EXPORTS, json={"user_ids": [str(uuid.uuid4())]}, headers=org.owner.headers
    )
    assert unknown.status_code == 404
    assert (await client.get(f"{EXPORTS}/not-a-uuid", headers=org.owner.headers)).status_code == 422


async def test_old_exports_are_pruned_and_then_gone(
    app: FastAPI,
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
) -> None:
    org, _ = await _setup(db_session, client)
    created = (await client.post(EXPORTS, json={}, headers=org.owner.headers)).json()
    await _run_jobs(app)
    folder = settings.exports_path / created["id"]
    assert any(folder.rglob("*.parquet"))
    engine = create_engine(settings.database_url)
    try:
        sessionmaker = create_sessionmaker(engine)
        assert await prune_exports(sessionmaker, settings) == 0  # young exports stay
        old = utc_now() - timedelta(days=settings.export_retention_days + 1)
        async with sessionmaker() as session:
            await session.execute(update(Export).values(created_at=old))
            await session.commit()
        assert await prune_exports(sessionmaker, settings) == 1
    finally:
        await engine.dispose()
    assert not folder.exists()
    gone = await client.get(f"{EXPORTS}/{created['id']}/download", headers=org.owner.headers)
    assert gone.status_code == 410
    assert gone.json()["error"] == "export_expired"
    status = (await client.get(f"{EXPORTS}/{created['id']}", headers=org.owner.headers)).json()
    assert status["status"] == "expired"
    assert status["files"] == []


async def test_a_build_that_keeps_failing_ends_failed(
    database_url: str, tmp_path: Path, db_session: AsyncSession
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the export folder should go")
    settings = make_settings(
        database_url, tmp_path, export_dir=blocker, job_retry_base_seconds=0,
        job_retry_max_seconds=0,
    )  # fmt: skip
    app = create_app(settings)
    async with app_client(app) as client:
        org, _ = await _setup(db_session, client)
        created = (await client.post(EXPORTS, json={}, headers=org.owner.headers)).json()
        for _ in range(3):
            await _run_jobs(app)
        status = (await client.get(f"{EXPORTS}/{created['id']}", headers=org.owner.headers)).json()
    assert status["status"] == "failed"
    assert status["error"].startswith("The export could not be built")
    assert status["files"] == []
    assert status["download_url"] is None
    assert str(blocker) not in status["error"]  # no server paths in the answer
