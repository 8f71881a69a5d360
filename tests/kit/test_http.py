"""The generic HTTP helpers: headers in any case, Retry-After values, bounded bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from somna.kit.http import BodyTooLarge, header, read_body, retry_after_seconds
from somna.kit.time import utc_now


def test_header_is_found_in_any_case_in_a_plain_dict() -> None:
    headers = {"x-whoop-signature": "abc", "X-Other": "1"}
    assert header(headers, "X-WHOOP-Signature") == "abc"
    assert header(headers, "x-other") == "1"
    assert header(headers, "X-Missing") is None


def test_header_prefers_the_exact_name() -> None:
    assert header({"X-Key": "exact", "x-key": "lower"}, "X-Key") == "exact"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("30", 30.0), (" 2.5 ", 2.5), ("-4", 0.0), ("7, 9", 7.0), ("nan", None), ("soon", None)],
)
def test_retry_after_reads_seconds(value: str, expected: float | None) -> None:
    assert retry_after_seconds(value) == expected


def test_retry_after_reads_an_http_date_as_the_seconds_until_it() -> None:
    later = format_datetime(utc_now() + timedelta(seconds=120), usegmt=True)
    seconds = retry_after_seconds(later)
    assert seconds is not None
    assert 100 < seconds <= 120
    earlier = format_datetime(utc_now() - timedelta(seconds=120), usegmt=True)
    assert retry_after_seconds(earlier) == 0.0


def test_retry_after_of_nothing_is_none() -> None:
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("  ") is None


def _echo_app(limit: int) -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> JSONResponse:
        try:
            body = await read_body(request, limit)
        except BodyTooLarge as exc:
            return JSONResponse({"refused": str(exc)}, status_code=413)
        return JSONResponse({"size": len(body)})

    return app


async def test_read_body_takes_a_body_up_to_the_limit_and_refuses_more() -> None:
    transport = httpx.ASGITransport(app=_echo_app(10))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.post("/echo", content=b"x" * 10)).json() == {"size": 10}
        refused = await client.post("/echo", content=b"x" * 11)
        assert refused.status_code == 413
        assert refused.json() == {"refused": "Request body exceeds 10 bytes."}


async def test_read_body_counts_a_streamed_body_without_a_length() -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(3):
            yield b"x" * 5

    transport = httpx.ASGITransport(app=_echo_app(10))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        refused = await client.post("/echo", content=chunks())
        assert refused.status_code == 413
