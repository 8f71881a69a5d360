"""An organisation to look at: an owner, an admin, an analyst, a member with their own
person, and people with 90 nights of staged sleep, moods and a WHOOP connection."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth.passwords import hash_password
from somna.models import Account, MoodRating, Organization, Person
from somna.orgs.service import create_organization
from tests.analytics.support import night, store

PASSWORD = "correct horse battery staple"
ZONE = "Europe/Berlin"


def staged_night(seed: int) -> str:
    """A plausible hypnogram of about eight hours: wake, five cycles of light, deep and REM
    with brief awakenings, a little wake at the end."""
    cycles = "".join(
        "L" * (70 + (seed + k) % 9) + "D" * (60 - 12 * k) + "L" * 30 + "R" * (25 + 10 * k)
        + ("W" * (2 + seed % 3) if k in (1, 3) else "")
        for k in range(5)
    )  # fmt: skip
    return "W" * (12 + seed % 5) + cycles + "W" * 8


@dataclass(frozen=True)
class Seeded:
    organization: Organization
    owner_email: str
    admin_email: str
    analyst_email: str
    member_email: str
    member_person: Person
    person: Person  # 90 nights with hypnograms
    other: Person  # a few nights only
    stranger: Person  # another organisation's person


async def _account(
    session: AsyncSession, organization: Organization, role: str, person: Person | None = None
) -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    session.add(
        Account(
            organization_id=organization.id,
            email=email,
            password_hash=await hash_password(PASSWORD),
            role=role,
            person_id=person.id if person else None,
        )
    )
    await session.flush()
    return email


async def _person(session: AsyncSession, organization: Organization, label: str) -> Person:
    person = Person(
        organization_id=organization.id,
        email=f"{label}-{uuid.uuid4().hex[:6]}@example.com",
        timezone=ZONE,
    )
    session.add(person)
    await session.flush()
    return person


async def seed(session: AsyncSession, today: date, *, nights: int = 90) -> Seeded:
    # Another organisation first: on an empty database it becomes the operator organisation,
    # so the organisation under test is an ordinary tenant.
    stranger_org = await create_organization(
        session, name=f"Else {uuid.uuid4().hex[:6]}",
        owner_email=f"else-{uuid.uuid4().hex[:8]}@example.com", owner_password=PASSWORD,
    )  # fmt: skip
    created = await create_organization(
        session, name=f"Web {uuid.uuid4().hex[:6]}",
        owner_email=f"owner-{uuid.uuid4().hex[:8]}@example.com", owner_password=PASSWORD,
        settings={"timezone": ZONE},
    )  # fmt: skip
    organization = created.organization
    person = await _person(session, organization, "sleeper")
    other = await _person(session, organization, "other")
    member_person = await _person(session, organization, "member")
    stranger = await _person(session, stranger_org.organization, "stranger")
    emails = {role: await _account(session, organization, role) for role in ("admin", "analyst")}
    member_email = await _account(session, organization, "member", member_person)
    zone = ZoneInfo(ZONE)
    for k in range(nights):
        session.add(
            MoodRating(
                person_id=person.id, local_date=today - timedelta(days=k),
                score=7 - (k % 3) if k > 6 else 3, note=None,
                recorded_at=datetime.combine(today - timedelta(days=k), datetime.min.time(), UTC),
            )
        ) if k < 30 else None  # fmt: skip
    await session.commit()
    records = [
        night("whoop", today - timedelta(days=k), bed=f"23:{(k * 7) % 60:02d}", zone=zone,
              hypnogram=staged_night(k))
        for k in range(nights)
    ]  # fmt: skip
    await store(session, person, records)
    await store(session, other, [night("asleep", today - timedelta(days=k)) for k in range(5)])
    await store(session, member_person, [night("whoop", today - timedelta(days=1))])
    return Seeded(
        organization, created.owner.email, emails["admin"], emails["analyst"], member_email,
        member_person, person, other, stranger,
    )  # fmt: skip


CSRF_PATTERN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    assert match is not None, "no CSRF token on the page"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> None:
    """Through the sign-in form, as a browser would; leaves the session cookie in ``client``."""
    page = await client.get("/sign-in")
    response = await client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 303, response.text
    assert "somna_session" in client.cookies
