"""A covering index on recoveries by (person, local date) with the two values analytics reads.

The organisation statistics' recovery statement sums ln HRV and resting HR per (person,
provider) over the last 67 local dates; without an index on ``local_date`` it read the whole
table, raw payloads included. With every column it reads in the index it is an index-only
scan on both backends; a person's readings in a window (burnout, readiness) use it too.

Revision ID: 0012_recoveries_person_date
Revises: 0011_audit_log
Create Date: 2026-12-03 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_recoveries_person_date"
down_revision: str | None = "0011_audit_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_recoveries_person_id_local_date"
COLUMNS = ["person_id", "local_date", "provider", "hrv_rmssd_ms", "resting_hr_bpm"]


def upgrade() -> None:
    op.create_index(NAME, "recoveries", COLUMNS)


def downgrade() -> None:
    op.drop_index(NAME, table_name="recoveries")
