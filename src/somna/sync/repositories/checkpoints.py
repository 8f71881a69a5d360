"""SQL of checkpoints: where each collection of a connection stands, one row per collection."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from somna.kit.repository import Repository
from somna.kit.time import utc_now
from somna.models import Connection, Person, SyncCheckpoint

_CHECKPOINTS = cast(Table, SyncCheckpoint.__table__)
_READ_CHECKPOINTS = select(
    _CHECKPOINTS.c.collection,
    _CHECKPOINTS.c.run_id,
    _CHECKPOINTS.c.window_start,
    _CHECKPOINTS.c.window_end,
    _CHECKPOINTS.c.next_token,
    _CHECKPOINTS.c.synced_until,
).where(_CHECKPOINTS.c.connection_id == bindparam("connection"))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A collection's checkpoint as a run plans with it."""

    run_id: uuid.UUID | None  # the run whose window is in progress (or just finished)
    window_start: datetime | None
    window_end: datetime | None
    next_token: str | None
    synced_until: datetime | None


NEVER_SYNCED = Checkpoint(None, None, None, None, None)


_CONNECTIONS = cast(Table, Connection.__table__)
_PEOPLE = cast(Table, Person.__table__)
_CHECKPOINT_COLUMNS = (
    "connection_id",
    "collection",
    "run_id",
    "window_start",
    "window_end",
    "next_token",
    "synced_until",
    "updated_at",
)


@functools.cache
def _save_checkpoint(dialect: str) -> Any:
    """The checkpoint upsert, written only while the connection is not revoked and its person
    not awaiting deletion, checked (and on PostgreSQL held ``FOR SHARE``) by the same
    statement."""
    params = {
        name: bindparam(name, type_=_CHECKPOINTS.c[name].type) for name in _CHECKPOINT_COLUMNS
    }
    source = (
        select(*params.values())
        .select_from(_CONNECTIONS.join(_PEOPLE, _PEOPLE.c.id == _CONNECTIONS.c.person_id))
        .where(
            _CONNECTIONS.c.id == params["connection_id"],
            _CONNECTIONS.c.status != "revoked",
            # A person whose deletion is scheduled gets no more records: the page stops.
            _PEOPLE.c.delete_after.is_(None),
        )
        .with_for_update(read=True, of=_CONNECTIONS)
    )
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_CHECKPOINTS)
    insert = insert.from_select(list(_CHECKPOINT_COLUMNS), source)
    stored, given = _CHECKPOINTS.c.synced_until, insert.excluded.synced_until
    return insert.on_conflict_do_update(
        index_elements=[_CHECKPOINTS.c.connection_id, _CHECKPOINTS.c.collection],
        set_={
            "run_id": insert.excluded.run_id,
            "window_start": insert.excluded.window_start,
            "window_end": insert.excluded.window_end,
            "next_token": insert.excluded.next_token,
            "updated_at": insert.excluded.updated_at,
            # The later of the two (SQLite compares its UTC text as PostgreSQL its timestamps).
            "synced_until": case(
                (given.is_(None), stored),
                (stored.is_(None), given),
                (given > stored, given),
                else_=stored,
            ),
        },
    )


class CheckpointRepository(Repository[SyncCheckpoint]):
    model = SyncCheckpoint

    async def read_all(self, connection_id: uuid.UUID) -> dict[str, Checkpoint]:
        """Where each collection of the connection stands (one absent: never synced)."""
        rows = await self.session.execute(_READ_CHECKPOINTS, {"connection": connection_id})
        return {row[0]: Checkpoint(*row[1:]) for row in rows}

    async def save(
        self,
        connection_id: uuid.UUID,
        collection: str,
        *,
        run_id: uuid.UUID,
        window: tuple[datetime, datetime] | None,
        next_token: str | None,
        synced_until: datetime | None,
    ) -> bool:
        """One statement for a page's checkpoint: the window in progress and its cursor
        (``window`` ``None``: finished), and ``synced_until`` moved forward, never back.

        ``False``, writing nothing, when the connection is revoked or gone, or its person is
        awaiting deletion. The same statement
        checks it: on PostgreSQL holding its row ``FOR SHARE`` to the commit (a disconnect
        waits, or is seen), on SQLite as the transaction's first write, which holds the one
        writer's lock from its start."""
        start, end = window if window is not None else (None, None)
        result: Any = await self.session.execute(
            _save_checkpoint(self.session.get_bind().dialect.name),
            {
                "connection_id": connection_id,
                "collection": collection,
                "run_id": run_id,
                "window_start": start,
                "window_end": end,
                "next_token": next_token,
                "synced_until": synced_until,
                "updated_at": utc_now(),
            },
        )
        return bool(result.rowcount)

    async def delete_for_connection(self, connection_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(SyncCheckpoint).where(SyncCheckpoint.connection_id == connection_id)
        )
