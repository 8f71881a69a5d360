"""Which connections a batch sync takes: one query however many people, in the order asked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from somna.batchsync.targets import sync_targets
from somna.models import Organization, Person
from tests.support.factories import make_connection, make_organization, make_person


@contextmanager
def counting(session: AsyncSession) -> Iterator[list[str]]:
    """The SQL statements ``session``'s engine runs inside the block."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = cast(AsyncEngine, session.bind).sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _people(session: AsyncSession, organization: Organization, count: int) -> list[Person]:
    people = []
    for _ in range(count):
        person = await make_person(session, organization)
        await make_connection(session, person, provider="whoop")
        await make_connection(session, person, provider="asleep")
        people.append(person)
    return people


async def test_one_query_however_many_people(db_session: AsyncSession) -> None:
    organization = await make_organization(db_session)
    await _people(db_session, organization, 2)
    await db_session.commit()
    with counting(db_session) as few:
        assert len(await sync_targets(db_session, organization_id=organization.id)) == 4
    await _people(db_session, organization, 6)
    await db_session.commit()
    with counting(db_session) as many:
        assert len(await sync_targets(db_session, organization_id=organization.id)) == 16
    assert len(few) == len(many) == 1


async def test_people_in_the_order_asked_stuck_included_revoked_and_strangers_not(
    db_session: AsyncSession,
) -> None:
    organization = await make_organization(db_session)
    first, second = await _people(db_session, organization, 2)
    stuck = await make_connection(db_session, await make_person(db_session, organization))
    stuck.status = "reauthorization_required"
    revoked = await make_connection(db_session, await make_person(db_session, organization))
    revoked.status = "revoked"
    (stranger,) = await _people(db_session, await make_organization(db_session), 1)
    await db_session.commit()

    asked = await sync_targets(
        db_session, organization_id=organization.id, person_ids=[second.id, first.id, second.id]
    )
    assert [(t.email, t.provider) for t in asked] == [
        (second.email, "whoop"), (second.email, "asleep"),
        (first.email, "whoop"), (first.email, "asleep"),
    ]  # fmt: skip
    everyone = await sync_targets(db_session, organization_id=organization.id, provider="whoop")
    assert {t.connection_id for t in everyone} >= {stuck.id}
    assert {t.status for t in everyone} == {"active", "reauthorization_required"}
    assert revoked.id not in {t.connection_id for t in everyone}
    assert stranger.id not in {t.person_id for t in everyone}
    assert len(everyone) == 3
