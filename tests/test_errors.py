from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import BaseModel, Field
from structlog.stdlib import ProcessorFormatter

from somna.app import create_app
from somna.config import Settings
from somna.errors import NotFound


class _Payload(BaseModel):
    name: str
    hours: float = Field(ge=0, le=24)


def _app_with_probe_routes(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.get("/probe/missing")
    async def missing() -> None:
        raise NotFound("Person 42 does not exist.", extra={"resource": "person"})

    @app.post("/probe/validate")
    async def validate(payload: _Payload) -> dict[str, str]:
        return {"name": payload.name}

    @app.get("/probe/crash")
    async def crash() -> None:
        raise RuntimeError("boom with secret=hunter2")

    return app


@pytest.fixture
async def probe_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = _app_with_probe_routes(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http


async def test_domain_error_renders_code_detail_and_extra(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.get("/probe/missing")
    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "detail": "Person 42 does not exist.",
        "resource": "person",
    }


async def test_unknown_route_has_the_same_shape(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert isinstance(response.json()["detail"], str)


async def test_validation_error_names_each_field_without_input(
    probe_client: httpx.AsyncClient,
) -> None:
    response = await probe_client.post("/probe/validate", json={"hours": 30, "secret": "hunter2"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["errors"] == [
        {"field": "name", "location": "body", "message": "Field required", "type": "missing"},
        {
            "field": "hours",
            "location": "body",
            "message": "Input should be less than or equal to 24",
            "type": "less_than_equal",
        },
    ]
    assert body["detail"].startswith("Invalid request: `name` (body): Field required; `hours`")
    assert "30" not in json.dumps(body["errors"])  # the input is never echoed back


async def test_malformed_json_is_a_422_not_a_500(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/probe/validate", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    [entry] = body["errors"]
    assert entry["type"] == "json_invalid"
    assert entry["location"] == "body"
    assert "not valid JSON" in body["detail"]


async def test_unexpected_error_is_a_generic_500(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.get("/probe/crash")
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert "hunter2" not in response.text


async def test_request_id_is_returned_and_on_every_log_line(
    probe_client: httpx.AsyncClient,
) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    [handler] = [h for h in root.handlers if isinstance(h.formatter, ProcessorFormatter)]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    root.setLevel(logging.INFO)
    response = await probe_client.get("/health", headers={"X-Request-ID": "req-abc.1"})
    assert response.headers["X-Request-ID"] == "req-abc.1"
    generated = await probe_client.get("/health")
    assert len(generated.headers["X-Request-ID"]) == 32
    forged = await probe_client.get("/health", headers={"X-Request-ID": "x\nlevel=error"})
    assert forged.headers["X-Request-ID"] != "x\nlevel=error"
    lines = [line for line in stream.getvalue().splitlines() if "request.finished" in line]
    assert len(lines) == 3
    assert "req-abc.1" in lines[0]
    assert generated.headers["X-Request-ID"] in lines[1]


async def test_openapi_document_is_served(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.get("/openapi.json")
    assert response.status_code == 200
    assert "/health" in json.loads(response.text)["paths"]
    assert (await probe_client.get("/docs")).status_code == 200
