"""OAuth state: single use, bound to one person and provider, ten minutes; on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from somna.connections.oauth_state import consume_state, issue_state
from somna.kit.crypto import sha256_hex
from somna.kit.time import utc_now
from somna.models import OAuthState
from somna.providers.exceptions import InvalidOAuthState
from tests.support.factories import make_organization, make_person


async def test_state_round_trip_then_refused_on_reuse(db_session: AsyncSession) -> None:
    org = await make_organization(db_session)
    person = await make_person(db_session, org)
    state = await issue_state(
        db_session, person_id=person.id, provider="whoop", return_to="https://app.example/done"
    )
    await db_session.commit()
    assert len(state) >= 8
    stored = await db_session.get(OAuthState, (await _only_state(db_session)).id)
    assert stored is not None
    assert stored.state_hash == sha256_hex(state)  # the clear state is never stored
    consumed = await consume_state(db_session, state=state, provider="whoop", person_id=person.id)
    await db_session.commit()
    assert consumed.person_id == person.id
    assert consumed.return_to == "https://app.example/done"
    with pytest.raises(InvalidOAuthState):
        await consume_state(db_session, state=state, provider="whoop")


async def test_wrong_expired_and_foreign_states_are_refused(db_session: AsyncSession) -> None:
    org = await make_organization(db_session)
    person, other = await make_person(db_session, org), await make_person(db_session, org)
    state = await issue_state(db_session, person_id=person.id, provider="whoop")
    await db_session.commit()
    for attempt in ("", "short", state[:-1] + ("A" if state[-1] != "A" else "B")):
        with pytest.raises(InvalidOAuthState):
            await consume_state(db_session, state=attempt, provider="whoop")
    with pytest.raises(InvalidOAuthState):
        await consume_state(db_session, state=state, provider="asleep")
    with pytest.raises(InvalidOAuthState):
        await consume_state(
            db_session,
            state=state,
            provider="whoop",
            now=utc_now() + timedelta(minutes=10, seconds=1),
        )
    with pytest.raises(InvalidOAuthState):
        await consume_state(db_session, state=state, provider="whoop", person_id=other.id)
    # None of the refusals used it up: its own person still can.
    consumed = await consume_state(db_session, state=state, provider="whoop", person_id=person.id)
    assert consumed.person_id == person.id


async def test_a_state_lives_ten_minutes(db_session: AsyncSession) -> None:
    org = await make_organization(db_session)
    person = await make_person(db_session, org)
    start = utc_now()
    state = await issue_state(db_session, person_id=person.id, provider="whoop", now=start)
    await db_session.commit()
    consumed = await consume_state(
        db_session, state=state, provider="whoop", now=start + timedelta(minutes=9, seconds=59)
    )
    assert consumed.person_id == person.id


async def _only_state(session: AsyncSession) -> OAuthState:
    from sqlalchemy import select

    return (await session.scalars(select(OAuthState))).one()
