"""The person archive's ``audit_trail`` section: every recorded access to the person's data
in their organisation, oldest first, with the chain fields so a copy can be checked."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from somna.audit.service import person_trail
from somna.models import Person
from somna.privacy.archive import ArchiveRows, archive_section


@archive_section("audit_trail")
async def audit_trail(session: AsyncSession, who: Person) -> ArchiveRows:
    return await person_trail(session, who.organization_id, who.id)
