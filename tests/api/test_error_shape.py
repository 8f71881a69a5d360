"""Every route of the OpenAPI document, walked with the common mistakes: each answer is the
one error shape, and the document declares it."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.auth import create_organization, create_person

# The contract is the HTTP layer's, the same on both databases: SQLite keeps the walk quick.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

CODE = re.compile(r"^[a-z][a-z_]*$")
KLYNE = "/api/analytics"  # keeps the bodies of the document it follows
# Routes a caller of ours does not call with a bearer token: providers and browsers do.
NOT_BEARER = {"/api/v1/webhooks/whoop", "/api/v1/webhooks/asleep", "/api/v1/oauth/whoop/callback"}
PUBLIC = {"/api/v1/auth/token", "/api/v1/auth/refresh", "/api/v1/auth/logout", "/api/v1"}


def assert_error_shape(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.request.url, response.text)
    body: dict[str, Any] = response.json()
    assert CODE.match(body["error"]), body
    assert isinstance(body["detail"], str), body
    assert body["detail"], body
    if status == 422:
        assert body["error"] == "validation_error"
        assert body["errors"], body
        for entry in body["errors"]:
            assert set(entry) == {"field", "location", "message", "type"}, entry
            assert entry["location"] in {"body", "query", "path", "header"}, entry
    return body


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    found: list[tuple[str, str, dict[str, Any]]] = []
    for path, item in app.openapi()["paths"].items():
        if path.startswith(KLYNE) or not path.startswith("/api/v1"):
            continue
        found.extend((method.upper(), path, operation) for method, operation in item.items())
    return found


def fill(path: str, ids: dict[str, str]) -> str:
    """Path parameters: a real id where one is given, else an unknown one."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        if name == "provider":
            return "whoop"
        if name in {"package_name", "file_path"}:
            return "unknown"
        return ids.get(name, str(uuid.uuid4()))

    return re.sub(r"\{([^}]+)\}", value, path)


def query_names(operation: dict[str, Any]) -> set[str]:
    return {param["name"] for param in operation.get("parameters", []) if param["in"] == "query"}


def required_body_fields(app: FastAPI, operation: dict[str, Any]) -> list[str]:
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = body.get("schema", {})
    if "$ref" in schema:
        schema = app.openapi()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return list(schema.get("required", []))


@pytest.fixture
async def owner(client: httpx.AsyncClient, db_session: AsyncSession) -> dict[str, Any]:
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
    return {
        "headers": org.owner.headers,
        "ids": {"user_id": str(person.id), "organization_id": str(org.id)},
    }


async def test_the_document_declares_the_one_error_shape(app: FastAPI) -> None:
    document = app.openapi()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert {"error", "detail", "errors"} <= set(schemas["ValidationErrorOut"]["properties"])
    assert {"retry_after", "reset_time"} <= set(schemas["RateLimitedOut"]["properties"])
    operation_ids = []
    for method, path, operation in operations(app):
        operation_ids.append(operation["operationId"])
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            ref = response["content"]["application/json"]["schema"]["$ref"]
            expected = {"422": "ValidationErrorOut", "429": "RateLimitedOut"}.get(
                status, "ErrorOut"
            )
            assert ref.endswith(f"/{expected}"), (method, path, status)
        declared = set(operation["responses"])
        assert {"422", "429"} <= declared, (method, path)
        if operation.get("security"):
            assert {"401", "403"} <= declared, (method, path)
        if "{" in path:
            assert "404" in declared, (method, path)
        if "requestBody" in operation:
            assert "415" in declared, (method, path)
    assert len(operation_ids) == len(set(operation_ids))
    assert {"get_user", "me_list_sleep"} <= set(operation_ids)


async def test_a_wrong_token_is_401_everywhere(app: FastAPI, client: httpx.AsyncClient) -> None:
    wrong = {"Authorization": "Bearer not-a-token"}
    for method, path, operation in operations(app):
        if not operation.get("security") or path in NOT_BEARER:
            continue
        response = await client.request(method, fill(path, {}), headers=wrong)
        body = assert_error_shape(response, 401)
        assert body["error"] == "invalid_token", (method, path)


async def test_an_unknown_id_is_404_everywhere(
    app: FastAPI, client: httpx.AsyncClient, owner: dict[str, Any]
) -> None:
    for method, path, _operation in operations(app):
        if "{" not in path or path in NOT_BEARER:
            continue
        response = await client.request(method, fill(path, {}), headers=owner["headers"])
        body = assert_error_shape(response, 404)
        assert body["error"].endswith("not_found"), (method, path, body)


async def test_an_unknown_query_parameter_is_named_everywhere(
    app: FastAPI, client: httpx.AsyncClient, owner: dict[str, Any]
) -> None:
    for method, path, _operation in operations(app):
        if path == "/api/v1/oauth/whoop/callback":
            continue  # the provider's redirect carries parameters of its own
        url = fill(path, owner["ids"])
        response = await client.request(
            method, url, params={"colour": "blue"}, headers=owner["headers"]
        )
        body = assert_error_shape(response, 422)
        assert body["errors"][0]["field"] == "colour", (method, path)
        assert body["errors"][0]["type"] == "unknown_parameter"


async def test_a_body_that_is_not_json_is_415_everywhere(
    app: FastAPI, client: httpx.AsyncClient, owner: dict[str, Any]
) -> None:
    checked = 0
    for method, path, operation in operations(app):
        if "requestBody" not in operation or path in NOT_BEARER:
            continue
        response = await client.request(
            method,
            fill(path, owner["ids"]),
            content=b"score=5",
            headers={**owner["headers"], "Content-Type": "application/x-www-form-urlencoded"},
        )
        body = assert_error_shape(response, 415)
        assert body["error"] == "unsupported_media_type"
        assert "application/json" in body["detail"]
        checked += 1
    assert checked > 10


async def test_a_missing_field_is_named_everywhere(
    app: FastAPI, client: httpx.AsyncClient, owner: dict[str, Any]
) -> None:
    checked = 0
    for method, path, operation in operations(app):
        required = required_body_fields(app, operation)
        if not required or path in NOT_BEARER or path.startswith("/api/v1/me/"):
            continue
        response = await client.request(
            method, fill(path, owner["ids"]), json={}, headers=owner["headers"]
        )
        body = assert_error_shape(response, 422)
        missing = {e["field"] for e in body["errors"] if e["type"] == "missing"}
        assert missing == set(required), (method, path, body)
        checked += 1
    assert checked >= 5


async def test_reversed_dates_are_a_validation_error_everywhere(
    app: FastAPI, client: httpx.AsyncClient, owner: dict[str, Any]
) -> None:
    checked = 0
    later, earlier = "2026-03-05", "2026-03-01"
    for method, path, operation in operations(app):
        if path.startswith("/api/v1/me/"):
            continue  # the same routes as /users/{user_id}/..., for member accounts
        url = fill(path, owner["ids"])
        if {"start_date", "end_date"} <= query_names(operation):
            response = await client.request(
                method,
                url,
                params={"start_date": later, "end_date": earlier},
                headers=owner["headers"],
            )
        elif method == "POST" and path.endswith(("/sync", "/exports")):
            response = await client.request(
                method,
                url,
                json={"start_date": later, "end_date": earlier},
                headers=owner["headers"],
            )
        else:
            continue
        body = assert_error_shape(response, 422)
        [entry] = body["errors"]
        assert (entry["field"], entry["type"]) == ("end_date", "reversed_period"), (method, path)
        checked += 1
    assert checked >= 10


async def test_domain_checks_use_the_validation_shape(
    client: httpx.AsyncClient, owner: dict[str, Any]
) -> None:
    headers = owner["headers"]
    bogus = await client.post(
        "/api/v1/developer/keys", json={"name": "x", "scopes": ["bogus"]}, headers=headers
    )
    [entry] = assert_error_shape(bogus, 422)["errors"]
    assert (entry["field"], entry["location"]) == ("scopes", "body")
    assert "bogus" in entry["message"]
    person = owner["ids"]["user_id"]
    too_long = await client.get(
        f"/api/v1/users/{person}/stats/average",
        params={"start_date": "2025-01-01", "end_date": "2026-01-01"},
        headers=headers,
    )
    body = assert_error_shape(too_long, 422)
    assert body["max_days"] == 100
    assert body["errors"][0]["field"] == "end_date"
    assert "at most 100" in body["errors"][0]["message"]
    week = await client.get(
        f"/api/v1/users/{person}/reports/weekly", params={"week": "2026-W60"}, headers=headers
    )
    assert assert_error_shape(week, 422)["errors"][0]["field"] == "week"
