"""Reads by id name their scope: a caller's id never crosses into another organisation."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth.repository import AccountRepository
from somna.orgs.repository import OrganizationRepository
from somna.people.repository import PersonRepository
from tests.support.factories import make_organization, make_person


async def test_get_in_organization_finds_only_the_tenants_own_rows(
    db_session: AsyncSession,
) -> None:
    ours = await make_organization(db_session)
    theirs = await make_organization(db_session)
    person = await make_person(db_session, theirs)
    people = PersonRepository(db_session)
    assert await people.get_in_organization(theirs.id, person.id) is person
    assert await people.get_in_organization(ours.id, person.id) is None
    # A job or an operator may still load it, by a name that says so.
    assert await people.get_unscoped(person.id) is person


async def test_get_in_organization_refuses_a_table_without_tenants(
    db_session: AsyncSession,
) -> None:
    organization = await make_organization(db_session)
    with pytest.raises(TypeError, match="belong to no organisation"):
        await OrganizationRepository(db_session).get_in_organization(
            organization.id, organization.id
        )
    assert await OrganizationRepository(db_session).get_tenant(organization.id) is organization


def test_repositories_have_no_plain_get() -> None:
    assert not hasattr(AccountRepository, "get")
    assert not hasattr(PersonRepository, "get")
