"""Keeps the answer of a request the guard claimed a key for, before the client sees it.

The answer is stored before it is sent, so a client whose connection dropped and who retries
finds the stored answer rather than a pending key.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from somna.idempotency.repository import IdempotencyKeyRepository
from somna.idempotency.service import SCOPE_KEY


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        scope.pop(SCOPE_KEY, None)
        start: Message | None = None
        chunks: list[bytes] = []

        async def keep_answer(message: Message) -> None:
            nonlocal start
            record_id: uuid.UUID | None = scope.get(SCOPE_KEY)
            if record_id is None:
                await send(message)
                return
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            await _settle(scope, record_id, start["status"], b"".join(chunks))
            scope.pop(SCOPE_KEY, None)
            await send(start)
            await send({"type": "http.response.body", "body": b"".join(chunks)})

        try:
            await self.app(scope, receive, keep_answer)
        except BaseException:
            record_id = scope.pop(SCOPE_KEY, None)
            if record_id is not None:
                await _settle(scope, record_id, 500, b"")
            raise


async def _settle(scope: Scope, record_id: uuid.UUID, status: int, body: bytes) -> None:
    """Store a successful answer; forget the key after a failure, so it may be retried."""
    sessionmaker: async_sessionmaker[AsyncSession] = scope["app"].state.sessionmaker
    async with sessionmaker() as session:
        keys = IdempotencyKeyRepository(session)
        if 200 <= status < 300:
            await keys.complete(record_id, status, body.decode("utf-8", "replace"))
        else:
            await keys.forget(record_id)
        await session.commit()
