"""Enrolling the cast through Somna's own HTTP API, as an integrator would: create each person
with the demo key, then connect them, WHOOP through the OAuth consent (the sandbox approves
and redirects the "browser" to Somna's callback), Asleep by linking the person's user id."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from somna.demo.cast import DemoPerson
from somna.demo.identity import DemoError
from somna.demo.world import DemoWorld

API = "/api/v1"
CALLBACK_PATH = f"{API}/oauth/whoop/callback"
PAGE_SIZE = 500
# A few people at once: the provider budget paces the calls that reach the sandboxes anyway.
ENROL_CONCURRENCY = 4


def api_error(what: str, response: httpx.Response) -> DemoError:
    try:
        body: Any = response.json()
        detail = body.get("detail", body) if isinstance(body, dict) else body
    except ValueError:
        detail = response.text[:300]
    return DemoError(f"{what}: HTTP {response.status_code}: {detail}")


class DemoClient:
    """Somna's API with the demo key; the "browser" follows the consent redirects."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.http = httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60.0
        )
        self.browser = httpx.AsyncClient(follow_redirects=True, timeout=60.0)

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.browser.aclose()

    async def people(self) -> dict[str, uuid.UUID]:
        """Everyone already in the organisation, by email."""
        found: dict[str, uuid.UUID] = {}
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE_SIZE}
            if cursor:
                params["cursor"] = cursor
            response = await self.http.get(f"{API}/users", params=params)
            if response.status_code != 200:
                raise api_error("listing people", response)
            body = response.json()
            found.update({item["email"]: uuid.UUID(item["id"]) for item in body["data"]})
            cursor = body.get("next_cursor")
            if not cursor:
                return found

    async def add_person(self, person: DemoPerson) -> uuid.UUID:
        payload = {"email": person.email, "metadata": person.metadata, "timezone": person.timezone}
        response = await self.http.post(f"{API}/users", json=payload)
        if response.status_code != 201:
            raise api_error(f"creating {person.email}", response)
        return uuid.UUID(response.json()["id"])

    async def connect_whoop(self, person_id: uuid.UUID, person: DemoPerson, member: int) -> None:
        response = await self.http.post(f"{API}/users/{person_id}/connections/whoop", json={})
        if response.status_code != 200:
            raise api_error(f"starting WHOOP consent for {person.email}", response)
        # The member signs in at the sandbox (login_hint), which approves and sends the
        # browser back to Somna's callback: the code exchange happens there.
        url = httpx.URL(response.json()["authorization_url"])
        consent = await self.browser.get(url.copy_merge_params({"login_hint": str(member)}))
        if consent.status_code != 200 or consent.url.path != CALLBACK_PATH:
            raise api_error(f"WHOOP consent for {person.email}", consent)

    async def connect_asleep(
        self, person_id: uuid.UUID, person: DemoPerson, asleep_user_id: str
    ) -> None:
        path = f"{API}/users/{person_id}/connections/asleep"
        response = await self.http.post(path, json={"asleep_user_id": asleep_user_id})
        if response.status_code == 409 and response.json().get("error") == "already_connected":
            # An earlier run linked the Asleep user of an earlier sandbox: link today's one.
            # The records keep their session ids, so they are updated, not duplicated.
            gone = await self.http.delete(path)
            if gone.status_code != 200:
                raise api_error(f"unlinking the old Asleep user of {person.email}", gone)
            response = await self.http.post(path, json={"asleep_user_id": asleep_user_id})
        if response.status_code not in (200, 201):
            raise api_error(f"linking Asleep for {person.email}", response)


async def enroll(
    client: DemoClient,
    world: DemoWorld,
    people: list[DemoPerson],
    on_done: Callable[[DemoPerson], None] | None = None,
) -> dict[int, uuid.UUID]:
    """Create (or find) and connect every person; returns their ids by cast index."""
    existing = await client.people()
    slots = asyncio.Semaphore(ENROL_CONCURRENCY)

    async def one(person: DemoPerson) -> uuid.UUID:
        async with slots:
            person_id = existing.get(person.email) or await client.add_person(person)
            if person.provider == "whoop":
                await client.connect_whoop(person_id, person, world.whoop_user_id(person))
            else:
                user_id = world.asleep_user_ids[person.index]
                await client.connect_asleep(person_id, person, user_id)
        if on_done is not None:
            on_done(person)
        return person_id

    ids = await asyncio.gather(*(one(person) for person in people))
    return {person.index: person_id for person, person_id in zip(people, ids, strict=True)}
