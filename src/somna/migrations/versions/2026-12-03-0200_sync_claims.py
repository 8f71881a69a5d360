"""Sync runs are their connection's lock: owner, lease, budget waits, one executing run.

Revision ID: 0002_sync_claims
Revises: 0001_initial
Create Date: 2026-12-03 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_sync_claims"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
OLD_STATUSES = "status IN ('queued', 'running', 'succeeded', 'partial', 'failed', 'cancelled')"
NEW_STATUSES = (
    "status IN ('queued', 'running', 'waiting_for_budget', 'succeeded', 'partial', 'failed', "
    "'cancelled')"
)
HOLDING_WHERE = "status IN ('running', 'waiting_for_budget') AND connection_id IS NOT NULL"
QUEUED_INCREMENTAL_WHERE = (
    "status = 'queued' AND window_start IS NULL AND connection_id IS NOT NULL"
)
# Before the unique indexes exist, older duplicates (possible until now) are cancelled: the
# newest running run of a connection and its newest queued incremental run are kept.
_CANCEL_OLDER = """
UPDATE sync_runs SET status = 'cancelled', finished_at = CURRENT_TIMESTAMP
 WHERE connection_id IS NOT NULL AND {same} AND EXISTS (
       SELECT 1 FROM sync_runs AS newer
        WHERE newer.connection_id = sync_runs.connection_id AND {newer_same}
          AND (newer.created_at > sync_runs.created_at
               OR (newer.created_at = sync_runs.created_at AND newer.id > sync_runs.id)))
"""


def _cancel_older(same: str, newer_same: str) -> None:
    op.execute(_CANCEL_OLDER.format(same=same, newer_same=newer_same))


def upgrade() -> None:
    _cancel_older("status = 'running'", "newer.status = 'running'")
    _cancel_older(
        "status = 'queued' AND window_start IS NULL",
        "newer.status = 'queued' AND newer.window_start IS NULL",
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("leased_until", TIMESTAMP, nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", TIMESTAMP, nullable=True))
        batch_op.drop_constraint(op.f("ck_sync_runs_status_known"), type_="check")
        batch_op.create_check_constraint("status_known", NEW_STATUSES)
        batch_op.create_index(
            "uq_sync_runs_connection_holding",
            ["connection_id"],
            unique=True,
            sqlite_where=sa.text(HOLDING_WHERE),
            postgresql_where=sa.text(HOLDING_WHERE),
        )
        batch_op.create_index(
            "uq_sync_runs_connection_queued_incremental",
            ["connection_id"],
            unique=True,
            sqlite_where=sa.text(QUEUED_INCREMENTAL_WHERE),
            postgresql_where=sa.text(QUEUED_INCREMENTAL_WHERE),
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index("uq_sync_runs_connection_queued_incremental")
        batch_op.drop_index("uq_sync_runs_connection_holding")
    # A run waiting for budget still holds its connection: before, that was "running".
    op.execute("UPDATE sync_runs SET status = 'running' WHERE status = 'waiting_for_budget'")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sync_runs_status_known"), type_="check")
        batch_op.create_check_constraint("status_known", OLD_STATUSES)
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("leased_until")
        batch_op.drop_column("owner")
