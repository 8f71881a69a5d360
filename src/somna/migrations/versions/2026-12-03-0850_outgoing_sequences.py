"""Outgoing webhooks: a sequence per person, so receivers can order the events they get, and
an index on the events' age for housekeeping.

Revision ID: 0009_outgoing_sequences
Revises: 0008_outgoing_webhooks
Create Date: 2026-12-03 08:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_outgoing_sequences"
down_revision: str | None = "0008_outgoing_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outgoing_sequences",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("last_value", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_outgoing_sequences_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_outgoing_sequences")),
    )
    op.create_index("ix_outgoing_events_created_at", "outgoing_events", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_outgoing_events_created_at", table_name="outgoing_events")
    op.drop_table("outgoing_sequences")
