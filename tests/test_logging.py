"""No secret reaches a log: tracebacks carry no locals, and every record is redacted."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession
from structlog.stdlib import ProcessorFormatter

from somna.app import create_app
from somna.auth.dependencies import RequireSensitive
from somna.config import Settings
from somna.logging import REDACTED, configure_logging, redact_text
from tests.conftest import make_settings
from tests.support.auth import create_api_key, create_organization

PROBE = "/probe/sensitive-crash"


def _app(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.post(PROBE, dependencies=[Depends(RequireSensitive())])
    async def crash(request: Request) -> None:
        headers = dict(request.headers)  # a local that holds every credential of the request
        body = await request.body()
        logging.getLogger("somna.probe").debug("probe headers %r", headers)
        raise RuntimeError(f"could not handle {headers!r} with {body!r}")

    return app


@pytest.fixture(params=["console", "json"])
def captured(request: pytest.FixtureRequest) -> Iterator[tuple[str, io.StringIO]]:
    yield request.param, io.StringIO()
    configure_logging("WARNING")


@pytest.fixture
async def probe(
    database_url: str, tmp_path: Path, captured: tuple[str, io.StringIO]
) -> AsyncIterator[httpx.AsyncClient]:
    fmt, _ = captured
    settings = make_settings(database_url, tmp_path, log_level="DEBUG", log_format=fmt)
    app = _app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http


async def test_a_crash_in_a_signed_request_logs_no_key_secret_or_signature(
    probe: httpx.AsyncClient, captured: tuple[str, io.StringIO], db_session: AsyncSession
) -> None:
    _, stream = captured
    org = await create_organization(db_session, probe)
    key = await create_api_key(probe, org.owner.headers)
    root = logging.getLogger()
    [handler] = [h for h in root.handlers if isinstance(h.formatter, ProcessorFormatter)]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    body = f'{{"password": "hunter2-plain", "note": "{key.signing_secret}"}}'
    headers = key.signed("POST", PROBE, body)

    response = await probe.post(PROBE, content=body, headers=headers)

    assert response.status_code == 500
    logged = stream.getvalue()
    assert "request.unhandled_error" in logged
    assert "RuntimeError" in logged  # the traceback is there, only its secrets are not
    assert REDACTED in logged
    for secret in (key.key, key.signing_secret, headers["X-Signature"], org.owner.access_token):
        assert secret not in logged
    assert "hunter2-plain" not in logged
    assert "Traceback" in logged or '"frames"' in logged
    assert "locals" not in logged


def test_redaction_covers_the_shapes_secrets_take_in_text() -> None:
    text = (
        "Authorization: Bearer abc.def-ghi token=tok123 "
        "{'client_secret': 'cs-456', 'x-signature': 'sha256=" + "ab" * 32 + "'} "
        "(b'authorization', b'somna_live_AAAABBBBCCCC') password=pw789 "
        "https://x/cb?refresh_token=rt000&state=keep-me"
    )
    redacted = redact_text(text)
    for secret in ("abc.def-ghi", "tok123", "cs-456", "ab" * 32, "AAAABBBB", "pw789", "rt000"):
        assert secret not in redacted
    assert "keep-me" in redacted
