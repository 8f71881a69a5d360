"""The audit log: append-only, hash-chained events per organisation, and their chain heads.

On PostgreSQL a trigger refuses UPDATE and DELETE on ``audit_events``, whoever asks. TRUNCATE
and DROP are left to the database's privileges (the test harness empties tables with TRUNCATE),
and ``somna admin audit verify`` still sees rows gone behind the chain heads. On SQLite no code
path updates or deletes a row, and ``verify`` finds what was changed behind Somna's back.

Revision ID: 0011_audit_log
Revises: 0010_privacy
Create Date: 2026-12-03 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_audit_log"
down_revision: str | None = "0010_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSE_CHANGES = """
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
"""
_ALLOW_CHANGES = """
DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events;
DROP FUNCTION IF EXISTS audit_events_append_only();
"""


def upgrade() -> None:
    op.create_table(
        "audit_chain_heads",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_audit_chain_heads")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_type", sa.String(length=10), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=True),
        sa.Column("resource_type", sa.String(length=60), nullable=True),
        sa.Column("resource_id", sa.String(length=200), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "actor_type IN ('account', 'api_key', 'cli')",
            name=op.f("ck_audit_events_actor_type_known"),
        ),
        sa.CheckConstraint(
            "channel IN ('api', 'web', 'cli')", name=op.f("ck_audit_events_channel_known")
        ),
        sa.CheckConstraint(
            "outcome IN ('allowed', 'denied')", name=op.f("ck_audit_events_outcome_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint(
            "organization_id", "seq", name=op.f("uq_audit_events_organization_id_seq")
        ),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(
            "ix_audit_events_organization_id_occurred_at",
            ["organization_id", "occurred_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_audit_events_person_id"), ["person_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_REFUSE_CHANGES)


def downgrade() -> None:
    # Dropping the table is the one removal the trigger cannot see (DROP is not DML); the
    # trigger goes first anyway, so a downgrade leaves no function behind.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_ALLOW_CHANGES)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_person_id"))
        batch_op.drop_index("ix_audit_events_organization_id_occurred_at")
        batch_op.drop_index(batch_op.f("ix_audit_events_actor_id"))
    op.drop_table("audit_events")
    op.drop_table("audit_chain_heads")
