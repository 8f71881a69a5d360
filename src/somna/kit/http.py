"""HTTP helpers with no domain knowledge: a header by name whatever its case, the wait a
``Retry-After`` asks for, a request body read up to a size limit, and the one outgoing HTTP
transport (its TLS context shared)."""

from __future__ import annotations

import functools
import math
import ssl
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

import httpx
from starlette.requests import Request

from somna.kit.time import utc_now


def header(headers: Mapping[str, str], name: str) -> str | None:
    """``headers[name]`` in any case: httpx and Starlette headers ignore case, plain dicts
    (tests, stored webhook deliveries) do not."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((item for key, item in headers.items() if key.lower() == wanted), None)
    return value


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` (or ``X-RateLimit-Reset``) value in seconds, never negative: a number
    of seconds or an HTTP date; None when absent or unreadable. Of a repeated header joined
    with commas ("30, 30"), the first value counts; an HTTP date has a comma of its own."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    seconds = _number(text)
    if seconds is None:
        seconds = _seconds_until(text)
    if seconds is None and "," in text:
        seconds = _number(text.split(",")[0])
    return None if seconds is None else max(seconds, 0.0)


def _number(text: str) -> float | None:
    try:
        seconds = float(text)
    except ValueError:
        return None
    return None if math.isnan(seconds) else seconds


def _seconds_until(text: str) -> float | None:
    try:
        return (parsedate_to_datetime(text) - utc_now()).total_seconds()
    except (TypeError, ValueError):
        return None


class BodyTooLarge(Exception):
    """The body is over the limit; callers answer 413 in their own error shape."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"Request body exceeds {max_bytes} bytes.")
        self.max_bytes = max_bytes


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The raw body, refusing it as soon as it passes ``max_bytes``: by its declared length
    before reading, or while streaming when the length is missing or wrong."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Building one loads the CA bundle: 23 ms of CPU, measured, for every client of every sync
    # run. A context is made to be shared; certificates are still verified on every handshake.
    return httpx.create_ssl_context()


def new_transport() -> httpx.AsyncHTTPTransport:
    """The HTTP transport of a provider client: httpx's own, on the one shared TLS context."""
    return httpx.AsyncHTTPTransport(verify=_tls_context())
