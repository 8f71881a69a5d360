"""Which connections a batch syncs, with who they belong to (for the bars and the summary)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from somna.connections.repository import ConnectionRepository

# Connections in these states are not synced, but the operator asked for them: say why.
STUCK_STATUSES = ("reauthorization_required", "error")


@dataclass(frozen=True)
class Target:
    """One connection to sync, with who it belongs to (for bars and the summary)."""

    connection_id: uuid.UUID
    person_id: uuid.UUID
    email: str
    provider: str
    status: str


async def sync_targets(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID | None = None,
    person_ids: Sequence[uuid.UUID] = (),
    provider: str | None = None,
) -> list[Target]:
    """Active and stuck connections matching, in one query: per person in the order given
    (everyone when none is), each person's oldest first."""
    rows = await ConnectionRepository(session).with_owners(
        organization_id=organization_id,
        person_ids=person_ids,
        provider=provider,
        statuses=("active", *STUCK_STATUSES),
    )
    if person_ids:
        # Stable: within a person, the query's oldest-first order stays.
        order = {person_id: index for index, person_id in enumerate(dict.fromkeys(person_ids))}
        rows.sort(key=lambda row: order[row[1].id])
    return [
        Target(connection.id, person.id, person.email, connection.provider, connection.status)
        for connection, person in rows
    ]
