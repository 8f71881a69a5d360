"""Each error class, raised from real answers of the live app or a real socket."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from somna_client import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    SigningSecretRequired,
    Somna,
    SomnaError,
    UnprocessableEntityError,
)
from tests.support.auth import Org, TestKey, create_api_key, unique_email
from tests.support.server import free_port, serve_in_thread


def test_every_error_shares_the_root() -> None:
    for error in (APIStatusError, APIConnectionError, APITimeoutError, SigningSecretRequired):
        assert issubclass(error, SomnaError)
    assert not issubclass(SigningSecretRequired, APIStatusError)
    assert issubclass(APITimeoutError, APIConnectionError)


async def test_authentication_error_carries_the_code(live_url: str) -> None:
    with (
        Somna(live_url, api_key="somna_live_not-a-real-key", max_retries=0) as wrong,
        pytest.raises(AuthenticationError) as raised,
    ):
        wrong.users.list()
    error = raised.value
    assert error.status_code == 401
    assert error.code == "invalid_api_key"
    assert error.detail
    assert error.request_id


async def test_permission_denied_names_the_scopes(
    live_url: str, http: httpx.AsyncClient, org: Org
) -> None:
    reader = await create_api_key(http, org.owner.headers, scopes=["sleep"], permissions=["read"])
    with (
        Somna(live_url, api_key=reader.key) as client,
        pytest.raises(PermissionDeniedError) as raised,
    ):
        client.users.create(unique_email())
    assert raised.value.status_code == 403
    assert raised.value.required_scopes == ["users:write"]


def test_not_found_conflict_and_validation(client: Somna) -> None:
    with pytest.raises(NotFoundError) as missing:
        client.users.retrieve(str(uuid.uuid4()))
    assert missing.value.status_code == 404

    email = unique_email()
    client.users.create(email)
    with pytest.raises(ConflictError) as taken:
        client.users.create(email)
    assert taken.value.status_code == 409

    with pytest.raises(UnprocessableEntityError) as invalid:
        client.users.create("not an email")
    assert invalid.value.code == "validation_error"
    [problem] = invalid.value.errors
    assert problem["field"] == "email"
    assert problem["location"] == "body"
    assert problem["message"]


def test_signing_secret_required_before_anything_is_sent(live_url: str, key: TestKey) -> None:
    sent: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [sent.append]})
    with Somna(live_url, api_key=key.key, http_client=http) as unsigned:
        with pytest.raises(SigningSecretRequired):
            unsigned.keys.revoke(str(key.id))
        with pytest.raises(SigningSecretRequired):
            unsigned.users.delete(str(uuid.uuid4()))
        with pytest.raises(SigningSecretRequired):
            unsigned.exports.create()  # the whole organisation
        assert sent == []
        unsigned.keys.retrieve(str(key.id))  # not sensitive: sent as usual
    assert len(sent) == 1


def _failing_app(calls: list[str]) -> Starlette:
    async def boom(request: Request) -> JSONResponse:
        calls.append(request.headers.get("idempotency-key", ""))
        return JSONResponse({"error": "internal_error", "detail": "boom"}, status_code=500)

    return Starlette(routes=[Route("/api/v1/users", boom, methods=["GET", "POST"])])


def test_server_errors_are_retried_then_raised() -> None:
    calls: list[str] = []
    with (
        serve_in_thread(_failing_app(calls)) as url,
        Somna(url, api_key="k", max_retries=2) as c,
        pytest.raises(InternalServerError) as raised,
    ):
        c.users.create(unique_email())
    assert raised.value.status_code == 500
    assert raised.value.code == "internal_error"
    assert raised.value.detail == "boom"
    assert len(calls) == 3
    # One Idempotency-Key for the request, the same on every attempt.
    assert len(set(calls)) == 1
    assert calls[0]


def test_a_refused_connection_is_an_api_connection_error() -> None:
    with (
        Somna(f"http://127.0.0.1:{free_port()}", api_key="k", max_retries=0) as client,
        pytest.raises(APIConnectionError) as raised,
    ):
        client.users.list()
    assert not isinstance(raised.value, APITimeoutError)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A socket that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def test_a_silent_server_is_an_api_timeout_error(silent_server: str) -> None:
    with (
        Somna(silent_server, api_key="k", timeout=0.3, max_retries=0) as client,
        pytest.raises(APITimeoutError),
    ):
        client.users.list()
