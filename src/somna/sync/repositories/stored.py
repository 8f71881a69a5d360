"""SQL of the stored records a sync plans with and reconciles: pending scores, deletions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from somna.models import Recovery
from somna.records.repository import COLLECTION_MODELS

# The column a collection's records are placed in time by (what provider windows filter on).
TIME_COLUMNS = {
    "sleep": "start_at",
    "cycles": "start_at",
    "workouts": "start_at",
    "recovery": "recorded_at",
}
# Collections whose records have a start and an end, so a fully listed window proves that a
# stored record missing from the listing was deleted at the provider.
RECONCILABLE = ("sleep", "workouts", "cycles")


class StoredRecords:
    """Reads and deletes of stored records that planning and reconciliation need."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def oldest_pending(
        self, connection_id: uuid.UUID, collection: str, since: datetime
    ) -> datetime | None:
        column_name = TIME_COLUMNS.get(collection)
        if column_name is None:
            return None
        model = COLLECTION_MODELS[collection]
        column = getattr(model, column_name)
        statement = select(func.min(column)).where(
            model.connection_id == connection_id,
            model.score_state == "PENDING_SCORE",
            column >= since,
        )
        value: datetime | None = await self.session.scalar(statement)
        return value

    async def ids_within(
        self, connection_id: uuid.UUID, collection: str, start: datetime, end: datetime
    ) -> set[str]:
        """Ids of stored records lying wholly inside ``[start, end]``."""
        model = COLLECTION_MODELS[collection]
        statement = select(model.provider_record_id).where(
            model.connection_id == connection_id,
            model.start_at >= start,
            model.end_at.is_not(None),
            model.end_at <= end,
        )
        return set(await self.session.scalars(statement))

    async def delete_recoveries_of_sleeps(
        self, connection_id: uuid.UUID, sleep_ids: Sequence[str]
    ) -> list[tuple[uuid.UUID, str]]:
        """WHOOP names a recovery by its sleep; a deleted sleep takes its recovery along.
        Returns the ``(id, provider_record_id)`` of the recoveries deleted."""
        if not sleep_ids:
            return []
        statement = (
            delete(Recovery)
            .where(
                Recovery.connection_id == connection_id,
                Recovery.sleep_record_id.in_(list(sleep_ids)),
            )
            .returning(Recovery.id, Recovery.provider_record_id)
        )
        return [(row.id, row.provider_record_id) for row in await self.session.execute(statement)]

    async def count_for_connection(self, connection_id: uuid.UUID) -> int:
        total = 0
        for model in COLLECTION_MODELS.values():
            statement = select(func.count()).where(model.connection_id == connection_id)
            total += int(await self.session.scalar(statement) or 0)
        return total
