"""SQL for usage events: one bulk insert per request, and the publisher's aggregates."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, Table, TextClause, distinct, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from somna.kit.repository import Repository
from somna.models import ApiKey, UsageEvent

USAGE_EVENTS: Table = UsageEvent.__table__  # type: ignore[assignment]
CONFLICT_TARGET = ("organization_id", "package_name", "client_event_id")
POSTGRESQL = postgresql.dialect()  # type: ignore[no-untyped-call]


def _unnest_insert() -> tuple[TextClause, tuple[str, ...]]:
    """PostgreSQL: one array per column, unnested into rows. A 100-row batch binds 21
    arrays, not 2,100 values, and asyncpg encodes each array in one call."""
    columns = tuple(column.name for column in USAGE_EVENTS.columns)

    def array_type(name: str) -> str:
        # Strings go as text[]: a cast to varchar(n)[] would truncate silently, while an
        # assignment to the varchar(n) column refuses what is too long.
        kind = USAGE_EVENTS.c[name].type
        if isinstance(kind, String):
            return "text[]"
        return f"{kind.compile(dialect=POSTGRESQL)}[]"

    arrays = ", ".join(f"CAST(:{name} AS {array_type(name)})" for name in columns)
    statement = text(
        f"INSERT INTO usage_events ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(CONFLICT_TARGET)}) DO NOTHING RETURNING id"
    )
    return statement, columns


UNNEST_INSERT, UNNEST_COLUMNS = _unnest_insert()
Columns = dict[str, list[Any]]


class UsageEventRepository(Repository[UsageEvent]):
    model = UsageEvent

    async def insert_many(self, columns: Columns) -> set[uuid.UUID]:
        """Insert the rows given column by column (each with its ``id``) in one statement;
        the ids actually stored.

        A row whose ``client_event_id`` already exists for its organisation and package is
        skipped by ``ON CONFLICT DO NOTHING`` and missing from the answer: a duplicate. The
        caller removes repeats within the rows first (one statement cannot report them).
        """
        if not columns.get("id"):
            return set()
        if self.session.get_bind().dialect.name == "postgresql":
            arrays = {name: columns[name] for name in UNNEST_COLUMNS}
            # JSONB travels as text in the array; SQL NULL stays NULL.
            arrays["extra_data"] = [
                None if value is None else json.dumps(value) for value in arrays["extra_data"]
            ]
            result = await self.session.execute(UNNEST_INSERT, arrays)
            return set(result.scalars().all())
        names = list(columns)
        rows = [
            dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)
        ]
        statement = (
            sqlite.insert(USAGE_EVENTS)
            .on_conflict_do_nothing(index_elements=list(CONFLICT_TARGET))
            .returning(USAGE_EVENTS.c.id)
        )
        # Parameter sets with RETURNING become one multi-row INSERT ("insertmanyvalues").
        result = await self.session.execute(statement, rows)
        return set(result.scalars().all())

    async def find_by_client_ids(
        self, organization_id: uuid.UUID, package_name: str, client_ids: Sequence[str]
    ) -> dict[str, tuple[uuid.UUID, datetime]]:
        """``client_event_id -> (id, received_at)`` of events already stored."""
        statement = select(UsageEvent.client_event_id, UsageEvent.id, UsageEvent.received_at).where(
            UsageEvent.organization_id == organization_id,
            UsageEvent.package_name == package_name,
            UsageEvent.client_event_id.in_(list(client_ids)),
        )
        rows = (await self.session.execute(statement)).all()
        return {str(row[0]): (row[1], row[2]) for row in rows}

    async def key_package_names(self, organization_id: uuid.UUID) -> list[str]:
        """Package names the organisation's keys (in any state) are bound to."""
        statement = (
            select(ApiKey.package_name)
            .where(ApiKey.organization_id == organization_id, ApiKey.package_name.is_not(None))
            .distinct()
        )
        return [name for name in (await self.session.scalars(statement)).all() if name]

    def _group_expression(self, group_by: str) -> ColumnElement[Any]:
        if group_by != "day":
            column: ColumnElement[Any] = getattr(UsageEvent, group_by)
            return column
        if self.session.get_bind().dialect.name == "postgresql":
            return func.date(func.timezone("UTC", UsageEvent.event_timestamp))
        # SQLite keeps UTC text ("YYYY-MM-DD HH:MM:SS..."): its first ten characters are the day.
        return func.substr(UsageEvent.event_timestamp, 1, 10)

    async def usage(
        self,
        organization_id: uuid.UUID,
        package_name: str,
        start: datetime,
        end: datetime,
        group_by: str,
    ) -> tuple[int, int, list[tuple[str | None, int, int]]]:
        """Total events, distinct sessions, and ``(key, events, sessions)`` per group."""
        window = (
            UsageEvent.organization_id == organization_id,
            UsageEvent.package_name == package_name,
            UsageEvent.event_timestamp >= start,
            UsageEvent.event_timestamp < end,
        )
        totals = (
            await self.session.execute(
                select(func.count(), func.count(distinct(UsageEvent.session_id))).where(*window)
            )
        ).one()
        key = self._group_expression(group_by).label("key")
        grouped = select(
            key, func.count().label("events"), func.count(distinct(UsageEvent.session_id))
        ).where(*window)
        rows = (await self.session.execute(grouped.group_by(key))).all()
        groups = [
            (None if row[0] is None else str(row[0]), int(row[1]), int(row[2])) for row in rows
        ]
        return int(totals[0]), int(totals[1]), groups

    async def delete_received_before(self, before: datetime, *, limit: int) -> int:
        return await self.delete_some(UsageEvent.received_at < before, limit=limit)
