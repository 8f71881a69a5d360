"""The privacy lifecycle: scheduled deletion of a person, events tied to their person, and the
person archive as a kind of export.

Revision ID: 0010_privacy
Revises: 0009_outgoing_sequences
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_privacy"
down_revision: str | None = "0009_outgoing_sequences"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
KINDS = "kind IN ('records', 'person_archive')"

# Events written before this revision name their person only inside the payload; tie those of
# people who still exist to them, so that a later deletion removes them too.
_BACKFILL = {
    "postgresql": """
UPDATE outgoing_events SET person_id = people.id
  FROM people
 WHERE payload -> 'data' ->> 'person_id' = people.id::text
""",
    # SQLite stores UUIDs as 32 hex digits; the payload has the dashed form.
    "sqlite": """
UPDATE outgoing_events SET person_id = (
       SELECT people.id FROM people
        WHERE people.id = replace(json_extract(outgoing_events.payload, '$.data.person_id'),
                                  '-', ''))
 WHERE json_extract(payload, '$.data.person_id') IS NOT NULL
""",
}


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deletion_requested_at", TIMESTAMP, nullable=True))
        batch_op.add_column(sa.Column("delete_after", TIMESTAMP, nullable=True))
        batch_op.create_index(batch_op.f("ix_people_delete_after"), ["delete_after"])
    with op.batch_alter_table("outgoing_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outgoing_events_person_id"), ["person_id"])
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), nullable=False, server_default="records")
        )
        batch_op.create_check_constraint("kind_known", KINDS)
    statement = _BACKFILL.get(op.get_bind().dialect.name)
    if statement is not None:
        op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_exports_kind_known"), type_="check")
        batch_op.drop_column("kind")
    with op.batch_alter_table("outgoing_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outgoing_events_person_id"))
        batch_op.drop_column("person_id")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_delete_after"))
        batch_op.drop_column("delete_after")
        batch_op.drop_column("deletion_requested_at")
