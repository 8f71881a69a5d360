"""Operations: the job outbox, the token-refresh lease, and indexes for pruning and hot paths.

Revision ID: 0003_ops_outbox
Revises: 0002_sync_claims
Create Date: 2026-12-03 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_ops_outbox"
down_revision: str | None = "0002_sync_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# (index, table, columns): foreign keys without a leading index, and what pruning filters on.
PLAIN_INDEXES = (
    ("ix_refresh_tokens_parent_id", "refresh_tokens", ["parent_id"]),
    ("ix_sync_runs_person_id", "sync_runs", ["person_id"]),
    ("ix_oauth_states_person_id", "oauth_states", ["person_id"]),
    ("ix_usage_events_api_key_id", "usage_events", ["api_key_id"]),
    ("ix_usage_events_received_at", "usage_events", ["received_at"]),
    ("ix_people_organization_id_created_at_id", "people", ["organization_id", "created_at", "id"]),
)


def upgrade() -> None:
    op.create_table(
        "job_outbox",
        sa.Column("task_name", sa.String(length=100), nullable=False),
        sa.Column("request", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_outbox")),
    )
    op.create_index("ix_job_outbox_created_at", "job_outbox", ["created_at"])
    with op.batch_alter_table("connections") as batch_op:
        batch_op.add_column(sa.Column("refresh_claimed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("refresh_claimed_until", TIMESTAMP, nullable=True))
    for name, table, columns in PLAIN_INDEXES:
        op.create_index(name, table, columns)
    op.drop_index("ix_jobs_status_run_at", table_name="jobs")
    op.create_index(
        "ix_jobs_claim_order", "jobs", ["status", sa.column("priority").desc(), "run_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_claim_order", table_name="jobs")
    op.create_index("ix_jobs_status_run_at", "jobs", ["status", "priority", "run_at"])
    for name, table, _columns in reversed(PLAIN_INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("connections") as batch_op:
        batch_op.drop_column("refresh_claimed_until")
        batch_op.drop_column("refresh_claimed_by")
    op.drop_index("ix_job_outbox_created_at", table_name="job_outbox")
    op.drop_table("job_outbox")
