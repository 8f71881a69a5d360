"""The provider budget on the wire: every HTTP request a provider client sends for a sync
waits for its slot in the shared pacer, and every answer may pause the whole app."""

from __future__ import annotations

import httpx

from somna.kit.http import new_transport
from somna.pacing.port import Pacer


class PacedTransport(httpx.AsyncBaseTransport):
    """Wraps a transport: ``pacer.acquire`` before each request (retries included, since the
    provider counts them too), ``pacer.note_response`` after it, so a 429 or a spent window
    holds every worker of every process until the announced reset."""

    def __init__(
        self,
        pacer: Pacer,
        provider: str,
        connection_key: str,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.pacer = pacer
        self.provider = provider
        self.connection_key = connection_key
        self._inner = inner if inner is not None else new_transport()
        self.waited_seconds = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.waited_seconds += await self.pacer.acquire(self.provider, self.connection_key)
        response = await self._inner.handle_async_request(request)
        await self.pacer.note_response(self.provider, response.status_code, response.headers)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
