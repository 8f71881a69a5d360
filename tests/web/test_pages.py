"""Every page renders for those who may see it and refuses those who may not, as the API
does; sign-in, sessions and CSRF behave; no browser needed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from somna import __version__
from somna.app import create_app
from somna.auth.repository import RefreshTokenRepository
from somna.kit.crypto import sha256_hex
from somna.kit.time import utc_now
from somna.models import (
    ApiKey,
    Connection,
    MoodRating,
    Organization,
    SleepSession,
    UserPreferences,
    WebSession,
)
from tests.analytics.support import night, store
from tests.conftest import make_settings
from tests.support.server import app_client
from tests.web.support import PASSWORD, Seeded, csrf_of, sign_in

HTML = {"accept": "text/html"}


def signin_cookie(page: httpx.Response) -> str:
    """The sign-in cookie, sent back by hand: httpx keeps a Secure cookie off plain http."""
    header = next(
        value for value in page.headers.get_list("set-cookie") if "somna_signin=" in value
    )
    return header.split(";", 1)[0]


def person_pages(person_id: uuid.UUID) -> list[str]:
    return [
        f"/people/{person_id}",
        f"/people/{person_id}?days=90",
        f"/people/{person_id}/connections",
        f"/people/{person_id}/connections/whoop/disconnect",
        f"/people/{person_id}/settings",
    ]


STAFF_PAGES = ["/overview", "/people", "/people?sort=email&q=sleeper", "/sync-runs", "/exports"]
ADMIN_PAGES = ["/keys", "/settings"]


async def test_start_page_leads_to_sign_in_which_is_the_landing_page(
    client: httpx.AsyncClient,
) -> None:
    start = await client.get("/")
    assert start.status_code == 303
    assert start.headers["location"] == "/sign-in"
    page = await client.get("/sign-in")
    assert page.status_code == 200
    for text in ("Somna", __version__, 'href="/docs"', 'href="/redoc"', 'href="/health"'):
        assert text in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


async def test_sign_in_sets_a_strict_cookie_and_leads_to_the_overview(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    page = await client.get("/sign-in")
    response = await client.post(
        "/sign-in",
        data={"email": seeded.owner_email, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 303
    cookie = next(
        value for value in response.headers.get_list("set-cookie") if "somna_session=" in value
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http, no trusted proxy
    start = await client.get("/")
    assert start.headers["location"] == "/overview"


async def test_wrong_password_is_shown_on_the_page_without_a_session(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    page = await client.get("/sign-in")
    response = await client.post(
        "/sign-in",
        data={"email": seeded.owner_email, "password": "wrong", "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    assert "somna_session" not in client.cookies


@pytest.mark.parametrize("how", ["public_url", "trusted_proxy"])
async def test_cookie_is_secure_over_https(app: FastAPI, seeded: Seeded, how: str) -> None:
    headers: dict[str, str] = {}
    target: object = app
    if how == "public_url":
        app.state.settings.public_url = "https://sleep.example.com"
    else:
        # uvicorn sets the scheme from X-Forwarded-Proto only for trusted proxy addresses.
        target = ProxyHeadersMiddleware(app, trusted_hosts="127.0.0.1")  # type: ignore[arg-type]
        headers = {"x-forwarded-proto": "https"}
    async with app_client(app) as http:
        transport = httpx.ASGITransport(app=target, client=("127.0.0.1", 5000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://somna.test") as web:
            page = await web.get("/sign-in", headers=headers)
            response = await web.post(
                "/sign-in",
                headers={**headers, "cookie": signin_cookie(page)},
                data={"email": seeded.owner_email, "password": PASSWORD,
                      "csrf_token": csrf_of(page.text)},
            )  # fmt: skip
        del http
    cookie = next(
        value for value in response.headers.get_list("set-cookie") if "somna_session=" in value
    )
    assert "Secure" in cookie


async def test_forwarded_proto_from_an_untrusted_address_is_ignored(
    app: FastAPI, seeded: Seeded
) -> None:
    target = ProxyHeadersMiddleware(app, trusted_hosts="10.0.0.1")  # type: ignore[arg-type]
    headers = {"x-forwarded-proto": "https"}
    async with app_client(app):
        transport = httpx.ASGITransport(app=target, client=("127.0.0.1", 5000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://somna.test") as web:
            page = await web.get("/sign-in", headers=headers)
            response = await web.post(
                "/sign-in",
                headers={**headers, "cookie": signin_cookie(page)},
                data={"email": seeded.owner_email, "password": PASSWORD,
                      "csrf_token": csrf_of(page.text)},
            )  # fmt: skip
    cookie = next(
        value for value in response.headers.get_list("set-cookie") if "somna_session=" in value
    )
    assert "Secure" not in cookie


async def test_pages_need_a_session(client: httpx.AsyncClient, seeded: Seeded) -> None:
    for path in [*STAFF_PAGES, *ADMIN_PAGES, *person_pages(seeded.person.id)]:
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/sign-in?next=%2F"), path


async def test_owner_sees_every_page(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await sign_in(client, seeded.owner_email)
    for path in [*STAFF_PAGES, *ADMIN_PAGES, *person_pages(seeded.person.id)]:
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert "Traceback" not in response.text
    other = await client.get(f"/people/{seeded.other.id}")
    assert other.status_code == 200


async def test_another_organisations_person_is_the_404_page(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sign_in(client, seeded.admin_email)
    for path in person_pages(seeded.stranger.id):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "Page not found" in response.text
        assert seeded.stranger.email not in response.text
    nonsense = await client.get("/people/not-a-uuid")
    assert nonsense.status_code == 404
    unknown = await client.get("/no-such-page", headers=HTML)
    assert unknown.status_code == 404
    assert "Page not found" in unknown.text


async def test_analyst_reads_but_does_not_manage_keys(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sign_in(client, seeded.analyst_email)
    for path in [*STAFF_PAGES, *person_pages(seeded.person.id)[:3]]:
        assert (await client.get(path)).status_code == 200, path
    keys = await client.get("/keys")
    assert keys.status_code == 403
    assert "Not allowed" in keys.text
    assert "API keys" not in (await client.get("/overview")).text
    settings = await client.get("/settings")  # read only
    assert settings.status_code == 200
    assert "Only owners and admins change these." in settings.text
    refused = await client.post(
        "/settings", data={"timezone": "Asia/Tokyo", "csrf_token": csrf_of(settings.text)}
    )
    assert refused.status_code == 403


async def test_member_sees_only_their_own_person(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await sign_in(client, seeded.member_email)
    start = await client.get("/")
    assert start.headers["location"] == f"/people/{seeded.member_person.id}"
    for path in [*person_pages(seeded.member_person.id), "/sync-runs", "/exports"]:
        assert (await client.get(path)).status_code == 200, path
    for person in (seeded.person, seeded.other, seeded.stranger):
        for path in person_pages(person.id):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert person.email not in response.text
    for path in ["/overview", "/people", "/keys", "/settings"]:
        assert (await client.get(path)).status_code == 403, path
    runs = await client.get(f"/sync-runs?person={seeded.person.id}")
    assert runs.status_code == 404


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, seeded: Seeded, db_session: AsyncSession
) -> None:
    await sign_in(client, seeded.owner_email)
    form = {"name": "no token", "scopes": "sleep", "permissions": "read"}
    for data in (form, {**form, "csrf_token": "0" * 64}):
        response = await client.post("/keys", data=data)
        assert response.status_code == 403
        assert "did not come from this site" in response.text
    mood = await client.post(f"/people/{seeded.person.id}/mood", data={"score": "5"})
    assert mood.status_code == 403
    keys = await db_session.scalar(select(func.count()).select_from(ApiKey))
    assert keys == 0
    moods = await db_session.scalar(
        select(func.count()).select_from(MoodRating).where(MoodRating.note == "csrf")
    )
    assert moods == 0
    # The same form with the page's token goes through.
    token = csrf_of((await client.get("/keys")).text)
    created = await client.post("/keys", data={**form, "csrf_token": token})
    assert created.status_code == 201
    assert "shown only once" in created.text


async def test_sign_out_ends_the_session_on_the_server(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sign_in(client, seeded.owner_email)
    cookie = client.cookies["somna_session"]
    token = csrf_of((await client.get("/overview")).text)
    out = await client.post("/sign-out", data={"csrf_token": token})
    assert out.status_code == 303
    client.cookies.set("somna_session", cookie)  # replay the old cookie
    replay = await client.get("/overview")
    assert replay.status_code == 303
    assert replay.headers["location"].startswith("/sign-in")


async def test_revoking_the_refresh_family_ends_the_session(
    client: httpx.AsyncClient, seeded: Seeded, db_session: AsyncSession
) -> None:
    await sign_in(client, seeded.owner_email)
    assert (await client.get("/overview")).status_code == 200
    web_session = await db_session.scalar(
        select(WebSession).where(
            WebSession.token_hash == sha256_hex(client.cookies["somna_session"])
        )
    )
    assert web_session is not None
    await RefreshTokenRepository(db_session).revoke_family(web_session.refresh_family_id, utc_now())
    await db_session.commit()
    assert (await client.get("/overview")).status_code == 303


async def test_mood_form_adds_a_rating_and_reports_a_duplicate(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sign_in(client, seeded.member_email)
    path = f"/people/{seeded.member_person.id}"
    token = csrf_of((await client.get(path)).text)
    data = {"score": "6", "note": "fine", "csrf_token": token}
    saved = await client.post(f"{path}/mood", data=data)
    assert saved.status_code == 303
    page = await client.get(saved.headers["location"])
    assert "Mood saved." in page.text
    assert "<strong>6</strong>/10 · fine" in page.text
    again = await client.post(f"{path}/mood", data=data)
    page = await client.get(again.headers["location"])
    assert "exists" in page.text
    refused = await client.post(f"{path}/mood", data={**data, "score": "11"})
    assert refused.status_code == 422


async def test_settings_and_preferences_are_saved_through_the_services(
    client: httpx.AsyncClient, seeded: Seeded, db_session: AsyncSession
) -> None:
    await sign_in(client, seeded.owner_email)
    token = csrf_of((await client.get("/settings")).text)
    saved = await client.post(
        "/settings",
        data={"timezone": "America/New_York", "source_priority": "asleep,whoop",
              "csrf_token": token},
    )  # fmt: skip
    assert saved.headers["location"] == "/settings?saved=true"
    bad = await client.post("/settings", data={"timezone": "Mars/Base", "csrf_token": token})
    assert "error=" in bad.headers["location"]
    organization = await db_session.get(Organization, seeded.organization.id)
    assert organization is not None
    await db_session.refresh(organization)
    assert organization.settings["timezone"] == "America/New_York"
    assert organization.settings["source_priority"] == ["asleep", "whoop"]
    path = f"/people/{seeded.person.id}/settings"
    done = await client.post(
        path,
        data={"sleep_goal_hours": "7.5", "timezone": "", "source_priority": "whoop,asleep",
              "csrf_token": token},
    )  # fmt: skip
    assert done.headers["location"] == f"{path}?saved=true"
    preferences = await db_session.get(UserPreferences, seeded.person.id)
    assert preferences is not None
    assert preferences.sleep_goal_hours == 7.5
    assert preferences.source_priority == ["whoop", "asleep"]


async def test_person_page_shows_the_api_hypnogram_statistics(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sign_in(client, seeded.owner_email)
    page = await client.get(f"/people/{seeded.person.id}")
    login = await client.post(
        "/api/v1/auth/token", json={"username": seeded.owner_email, "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    latest = (
        await client.get(f"/api/v1/users/{seeded.person.id}/sleep?limit=1&include_naps=false",
                         headers=headers)
    ).json()["data"][0]  # fmt: skip
    detail = (
        await client.get(f"/api/v1/users/{seeded.person.id}/sleep/{latest['id']}", headers=headers)
    ).json()
    for stage, seconds in detail["statistics"]["stage_seconds"].items():
        if stage == "UNS":
            continue
        assert f'data-stage="{stage}" data-minutes="{round(seconds / 60, 2)}"' in page.text
    assert "Europe/Berlin" in page.text
    assert detail["statistics"] is not None


async def test_organisation_source_priority_decides_for_people_without_their_own(
    client: httpx.AsyncClient, seeded: Seeded, db_session: AsyncSession
) -> None:
    """``other`` has Asleep nights; the same nights from WHOOP make every night a tie that
    the organisation's default priority settles (through the API's own figures)."""
    today = utc_now().date()
    await store(
        db_session, seeded.other, [night("whoop", today - timedelta(days=k)) for k in range(5)]
    )
    await sign_in(client, seeded.owner_email)
    login = await client.post(
        "/api/v1/auth/token", json={"username": seeded.owner_email, "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    token = csrf_of((await client.get("/settings")).text)
    for priority, winner in (("asleep,whoop", "asleep"), ("whoop,asleep", "whoop")):
        saved = await client.post(
            "/settings",
            data={"timezone": "Europe/Berlin", "source_priority": priority, "csrf_token": token},
        )
        assert saved.status_code == 303
        score = await client.get(
            f"/api/v1/users/{seeded.other.id}/sleep-score?days=7", headers=headers
        )
        assert score.json()["sources_used"] == [winner]
        stats = await client.get(
            f"/api/v1/organizations/{seeded.organization.id}/statistics?days=7", headers=headers
        )
        row = next(r for r in stats.json()["rows"] if r["user_id"] == str(seeded.other.id))
        assert row["sources_used"] == [winner]


async def test_sync_now_queues_runs_that_the_page_polls(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sign_in(client, seeded.owner_email)
    page = await client.get("/sync-runs")
    assert "No sync runs yet" in page.text
    queued = await client.post("/sync-runs", data={"csrf_token": csrf_of(page.text)})
    assert queued.headers["location"] == "/sync-runs?queued=3"
    listing = await client.get(queued.headers["location"])
    assert "3 sync runs queued" in listing.text
    assert listing.text.count('data-status="queued"') == 3
    assert 'hx-trigger="every 1s"' in listing.text
    fragment = await client.get("/sync-runs/table")
    assert fragment.text.lstrip().startswith('<div id="sync-runs"')


async def test_exports_start_progress_and_download(
    app: FastAPI, client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sign_in(client, seeded.member_email)
    page = await client.get("/exports")
    assert "No exports yet" in page.text
    started = await client.post(
        "/exports", data={"format": ["json", "csv"], "csrf_token": csrf_of(page.text)}
    )
    assert started.headers["location"] == "/exports?started=true"
    running = await client.get("/exports")
    assert 'data-status="queued"' in running.text
    assert 'hx-get="/exports/table"' in running.text
    await app.state.job_runtime.run_until_idle()
    done = await client.get("/exports/table")
    assert 'data-status="succeeded"' in done.text
    assert "hx-get" not in done.text  # polling stops once nothing runs
    export_id = done.text.split('data-export-id="', 1)[1].split('"', 1)[0]
    archive = await client.get(f"/exports/{export_id}/download")
    assert archive.status_code == 200
    assert archive.headers["content-type"] == "application/zip"
    assert archive.content[:2] == b"PK"


async def test_reauthorization_required_offers_reconnect(
    client: httpx.AsyncClient, seeded: Seeded, db_session: AsyncSession
) -> None:
    connection = await db_session.scalar(
        select(Connection).where(Connection.person_id == seeded.person.id)
    )
    assert connection is not None
    connection.status = "reauthorization_required"
    await db_session.commit()
    await sign_in(client, seeded.owner_email)
    page = await client.get(f"/people/{seeded.person.id}/connections")
    assert 'data-status="reauthorization_required"' in page.text
    assert "WHOOP needs to be authorised again." in page.text
    assert ">Reconnect WHOOP</button>" in page.text


@pytest.mark.parametrize(("choice", "records_left"), [("keep", 1), ("delete", 0)])
async def test_disconnect_keeps_or_deletes_the_data_after_confirmation(
    client: httpx.AsyncClient,
    seeded: Seeded,
    db_session: AsyncSession,
    choice: str,
    records_left: int,
) -> None:
    person = seeded.member_person
    await sign_in(client, seeded.admin_email)
    confirm = await client.get(f"/people/{person.id}/connections/whoop/disconnect")
    assert "Delete every record this connection brought in" in confirm.text
    done = await client.post(
        f"/people/{person.id}/connections/whoop/disconnect",
        data={"data": choice, "csrf_token": csrf_of(confirm.text)},
    )
    assert done.status_code == 303
    page = await client.get(done.headers["location"])
    assert "WHOOP disconnected." in page.text
    records = await db_session.scalar(
        select(func.count()).select_from(SleepSession).where(SleepSession.person_id == person.id)
    )
    assert records == records_left


async def test_a_forged_session_cookie_is_limited_like_an_anonymous_caller(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, rate_limit_anonymous_per_minute=3)
    async with app_client(create_app(settings)) as http:
        http.cookies.set("somna_session", "forged")
        answers = [(await http.get("/overview")).status_code for _ in range(5)]
    assert answers[:3] == [303, 303, 303]
    assert answers[3:] == [429, 429]
