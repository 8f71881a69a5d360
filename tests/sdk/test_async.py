"""The async client: the same surface, awaited, with requests in flight together."""

from __future__ import annotations

import asyncio

from somna_client import AsyncSomna
from tests.support.auth import unique_email


async def test_concurrent_creates_and_reads(aclient: AsyncSomna) -> None:
    emails = [unique_email() for _ in range(12)]
    created = await asyncio.gather(*(aclient.users.create(email) for email in emails))
    assert sorted(person.email for person in created) == sorted(emails)
    assert len({person.id for person in created}) == len(emails)
    fetched = await asyncio.gather(*(aclient.users.retrieve(person.id) for person in created))
    assert [person.id for person in fetched] == [person.id for person in created]
    listed = [person.email async for person in aclient.users.list(limit=5)]
    assert sorted(listed) == sorted(emails)


async def test_the_client_closes_its_pool(live_url: str) -> None:
    async with AsyncSomna(live_url, api_key="unused") as client:
        assert (await client.server.health()).status
    assert client._http.is_closed
