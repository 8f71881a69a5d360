"""Initial schema: tenants, identity, people, connections, records, analytics, sync, jobs.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-24 00:59:38.678524
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Static copies of the portable types, so this released migration never changes with the models.
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("task_name", sa.String(length=100), nullable=False),
        sa.Column(
            "args",
            JSON,
            nullable=False,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_at", TIMESTAMP, nullable=False),
        sa.Column("lock_key", sa.String(length=200), nullable=True),
        sa.Column("dedup_key", sa.String(length=200), nullable=True),
        sa.Column("leased_until", TIMESTAMP, nullable=True),
        sa.Column("worker_id", sa.String(length=100), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed')",
            name=op.f("ck_jobs_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_jobs_status_run_at", ["status", "priority", "run_at"], unique=False
        )
        batch_op.create_index(
            "uq_jobs_dedup_key_queued",
            ["dedup_key"],
            unique=True,
            sqlite_where=sa.text("status = 'queued' AND dedup_key IS NOT NULL"),
            postgresql_where=sa.text("status = 'queued' AND dedup_key IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_jobs_lock_key_running",
            ["lock_key"],
            unique=True,
            sqlite_where=sa.text("status = 'running' AND lock_key IS NOT NULL"),
            postgresql_where=sa.text("status = 'running' AND lock_key IS NOT NULL"),
        )

    op.create_table(
        "job_schedules",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("cron", sa.String(length=100), nullable=False),
        sa.Column("next_run_at", TIMESTAMP, nullable=False),
        sa.Column("last_run_at", TIMESTAMP, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_schedules")),
    )

    op.create_table(
        "organizations",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("is_operator", sa.Boolean(), nullable=False),
        sa.Column(
            "settings",
            JSON,
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("slug", name=op.f("uq_organizations_slug")),
    )
    op.create_table(
        "webhook_events",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("provider_user_id", sa.String(length=200), nullable=True),
        sa.Column("record_id", sa.String(length=200), nullable=True),
        sa.Column("collection", sa.String(length=32), nullable=True),
        sa.Column(
            "payload",
            JSON,
            nullable=False,
        ),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("processed_at", TIMESTAMP, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint(
            "provider", "event_id", name=op.f("uq_webhook_events_provider_event_id")
        ),
    )
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_events_processed_at", ["processed_at"], unique=False)

    op.create_table(
        "people",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "metadata",
            JSON,
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_people_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint(
            "organization_id", "email", name=op.f("uq_people_organization_id_email")
        ),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_people_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "accounts",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("last_login_at", TIMESTAMP, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "role != 'member' OR person_id IS NOT NULL", name=op.f("ck_accounts_member_has_person")
        ),
        sa.CheckConstraint(
            "role IN ('owner', 'admin', 'analyst', 'member')", name=op.f("ck_accounts_role_known")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_accounts_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_accounts_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_accounts_email")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_accounts_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_accounts_person_id"), ["person_id"], unique=False)

    op.create_table(
        "burnout_scores",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("as_of_date", sa.Date(), nullable=False),
        sa.Column("risk_score", sa.Double(), nullable=True),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column(
            "factors",
            JSON,
            nullable=False,
        ),
        sa.Column(
            "missing",
            JSON,
            nullable=False,
        ),
        sa.Column("model_version", sa.String(length=20), nullable=False),
        sa.Column("computed_at", TIMESTAMP, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "level IN ('low', 'moderate', 'high', 'insufficient_data')",
            name=op.f("ck_burnout_scores_level_known"),
        ),
        sa.CheckConstraint(
            "risk_score IS NULL OR (risk_score >= 0 AND risk_score <= 100)",
            name=op.f("ck_burnout_scores_risk_range"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_burnout_scores_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_burnout_scores")),
        sa.UniqueConstraint(
            "person_id",
            "as_of_date",
            "model_version",
            name=op.f("uq_burnout_scores_person_id_as_of_date_model_version"),
        ),
    )
    op.create_table(
        "connections",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_user_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column(
            "scopes",
            JSON,
            nullable=False,
        ),
        sa.Column("access_token_encrypted", sa.Text(), nullable=True),
        sa.Column("refresh_token_encrypted", sa.Text(), nullable=True),
        sa.Column("token_expires_at", TIMESTAMP, nullable=True),
        sa.Column("last_sync_at", TIMESTAMP, nullable=True),
        sa.Column("next_sync_at", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'active', 'reauthorization_required', 'error', 'revoked')",
            name=op.f("ck_connections_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_connections_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_connections_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint(
            "person_id", "provider", name=op.f("uq_connections_person_id_provider")
        ),
    )
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connections_next_sync_at"), ["next_sync_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_connections_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_connections_provider_user_id"), ["provider_user_id"], unique=False
        )

    op.create_table(
        "insights",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "evidence",
            JSON,
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "context",
            JSON,
            nullable=False,
        ),
        sa.Column("generator", sa.String(length=64), nullable=False),
        sa.Column("data_version", sa.String(length=64), nullable=True),
        sa.Column("generated_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_insights_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insights")),
    )
    with op.batch_alter_table("insights", schema=None) as batch_op:
        batch_op.create_index(
            "ix_insights_person_id_generated_at", ["person_id", "generated_at"], unique=False
        )

    op.create_table(
        "mood_ratings",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("score >= 1 AND score <= 10", name=op.f("ck_mood_ratings_score_range")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_mood_ratings_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mood_ratings")),
    )
    with op.batch_alter_table("mood_ratings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mood_ratings_person_id_local_date", ["person_id", "local_date"], unique=False
        )

    op.create_table(
        "exports",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("formats", JSON, nullable=False),
        sa.Column("user_ids", JSON, nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("files", JSON, nullable=False),
        sa.Column("counts", JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'expired')",
            name=op.f("ck_exports_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_exports_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_exports_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports")),
    )
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exports_organization_id_created_at",
            ["organization_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_exports_person_id"), ["person_id"], unique=False)

    op.create_table(
        "oauth_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("return_to", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_oauth_states_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_oauth_states_state_hash")),
    )
    op.create_table(
        "user_preferences",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("sleep_goal_hours", sa.Double(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column(
            "source_priority",
            JSON,
            nullable=True,
        ),
        sa.Column(
            "extra",
            JSON,
            nullable=False,
        ),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "sleep_goal_hours > 0 AND sleep_goal_hours <= 16",
            name=op.f("ck_user_preferences_sleep_goal_hours_range"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_user_preferences_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_user_preferences")),
    )
    op.create_table(
        "api_keys",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_account_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=40), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column(
            "permissions",
            JSON,
            nullable=False,
        ),
        sa.Column(
            "scopes",
            JSON,
            nullable=False,
        ),
        sa.Column("signing_secret_encrypted", sa.Text(), nullable=False),
        sa.Column(
            "allowed_ips",
            JSON,
            nullable=True,
        ),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True),
        sa.Column("package_name", sa.String(length=200), nullable=True),
        sa.Column("events_per_hour", sa.Integer(), nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.Column("rotated_to_id", sa.Uuid(), nullable=True),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.Column(
            "extra",
            JSON,
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "events_per_hour IS NULL OR events_per_hour > 0",
            name=op.f("ck_api_keys_events_per_hour_positive"),
        ),
        sa.CheckConstraint(
            "rate_limit_per_minute IS NULL OR rate_limit_per_minute > 0",
            name=op.f("ck_api_keys_rate_limit_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_api_keys_created_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_api_keys_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rotated_to_id"],
            ["api_keys.id"],
            name=op.f("fk_api_keys_rotated_to_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_keys_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "body_measurements",
        sa.Column("measured_at", TIMESTAMP, nullable=False),
        sa.Column("height_meters", sa.Double(), nullable=True),
        sa.Column("weight_kilograms", sa.Double(), nullable=True),
        sa.Column("max_heart_rate", sa.Integer(), nullable=True),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_record_id", sa.String(length=200), nullable=False),
        sa.Column("score_state", sa.String(length=20), nullable=True),
        sa.Column("provider_updated_at", TIMESTAMP, nullable=True),
        sa.Column(
            "raw",
            JSON,
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "height_meters IS NULL OR height_meters > 0",
            name=op.f("ck_body_measurements_height_positive"),
        ),
        sa.CheckConstraint(
            "weight_kilograms IS NULL OR weight_kilograms > 0",
            name=op.f("ck_body_measurements_weight_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_body_measurements_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_body_measurements_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_body_measurements")),
        sa.UniqueConstraint(
            "connection_id",
            "provider_record_id",
            name=op.f("uq_body_measurements_connection_id_provider_record_id"),
        ),
    )
    with op.batch_alter_table("body_measurements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_body_measurements_person_id_measured_at", ["person_id", "measured_at"], unique=False
        )

    op.create_table(
        "cycles",
        sa.Column("start_at", TIMESTAMP, nullable=False),
        sa.Column("end_at", TIMESTAMP, nullable=True),
        sa.Column("timezone_offset_minutes", sa.Integer(), nullable=True),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("strain", sa.Double(), nullable=True),
        sa.Column("kilojoules", sa.Double(), nullable=True),
        sa.Column("average_heart_rate", sa.Double(), nullable=True),
        sa.Column("max_heart_rate", sa.Double(), nullable=True),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_record_id", sa.String(length=200), nullable=False),
        sa.Column("score_state", sa.String(length=20), nullable=True),
        sa.Column("provider_updated_at", TIMESTAMP, nullable=True),
        sa.Column(
            "raw",
            JSON,
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "end_at IS NULL OR end_at >= start_at", name=op.f("ck_cycles_ends_after_start")
        ),
        sa.CheckConstraint(
            "kilojoules IS NULL OR kilojoules >= 0", name=op.f("ck_cycles_kilojoules_non_negative")
        ),
        sa.CheckConstraint(
            "strain IS NULL OR (strain >= 0 AND strain <= 21)", name=op.f("ck_cycles_strain_range")
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_cycles_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_cycles_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycles")),
        sa.UniqueConstraint(
            "connection_id",
            "provider_record_id",
            name=op.f("uq_cycles_connection_id_provider_record_id"),
        ),
    )
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cycles_person_id_start_at", ["person_id", "start_at"], unique=False
        )

    op.create_table(
        "recoveries",
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("cycle_record_id", sa.String(length=200), nullable=True),
        sa.Column("sleep_record_id", sa.String(length=200), nullable=True),
        sa.Column("recovery_score", sa.Double(), nullable=True),
        sa.Column("hrv_rmssd_ms", sa.Double(), nullable=True),
        sa.Column("resting_hr_bpm", sa.Double(), nullable=True),
        sa.Column("spo2_pct", sa.Double(), nullable=True),
        sa.Column("skin_temp_celsius", sa.Double(), nullable=True),
        sa.Column("user_calibrating", sa.Boolean(), nullable=True),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_record_id", sa.String(length=200), nullable=False),
        sa.Column("score_state", sa.String(length=20), nullable=True),
        sa.Column("provider_updated_at", TIMESTAMP, nullable=True),
        sa.Column(
            "raw",
            JSON,
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "hrv_rmssd_ms IS NULL OR hrv_rmssd_ms >= 0", name=op.f("ck_recoveries_hrv_non_negative")
        ),
        sa.CheckConstraint(
            "recovery_score IS NULL OR (recovery_score >= 0 AND recovery_score <= 100)",
            name=op.f("ck_recoveries_recovery_score_range"),
        ),
        sa.CheckConstraint(
            "resting_hr_bpm IS NULL OR resting_hr_bpm >= 0",
            name=op.f("ck_recoveries_rhr_non_negative"),
        ),
        sa.CheckConstraint(
            "spo2_pct IS NULL OR (spo2_pct >= 0 AND spo2_pct <= 100)",
            name=op.f("ck_recoveries_spo2_range"),
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_recoveries_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_recoveries_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recoveries")),
        sa.UniqueConstraint(
            "connection_id",
            "provider_record_id",
            name=op.f("uq_recoveries_connection_id_provider_record_id"),
        ),
    )
    with op.batch_alter_table("recoveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_recoveries_person_id_recorded_at", ["person_id", "recorded_at"], unique=False
        )

    op.create_table(
        "refresh_tokens",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("issued_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("rotated_at", TIMESTAMP, nullable=True),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_refresh_tokens_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refresh_tokens_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_refresh_tokens_family_id"), ["family_id"], unique=False
        )

    op.create_table(
        "sleep_sessions",
        sa.Column("start_at", TIMESTAMP, nullable=False),
        sa.Column("end_at", TIMESTAMP, nullable=False),
        sa.Column("timezone_offset_minutes", sa.Integer(), nullable=True),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("is_nap", sa.Boolean(), nullable=False),
        sa.Column("in_bed_seconds", sa.Integer(), nullable=True),
        sa.Column("asleep_seconds", sa.Integer(), nullable=True),
        sa.Column("awake_seconds", sa.Integer(), nullable=True),
        sa.Column("light_seconds", sa.Integer(), nullable=True),
        sa.Column("deep_seconds", sa.Integer(), nullable=True),
        sa.Column("rem_seconds", sa.Integer(), nullable=True),
        sa.Column("latency_seconds", sa.Integer(), nullable=True),
        sa.Column("waso_count", sa.Integer(), nullable=True),
        sa.Column("waso_seconds", sa.Integer(), nullable=True),
        sa.Column("disturbance_count", sa.Integer(), nullable=True),
        sa.Column("cycle_count", sa.Integer(), nullable=True),
        sa.Column("efficiency_pct", sa.Double(), nullable=True),
        sa.Column("performance_pct", sa.Double(), nullable=True),
        sa.Column("consistency_pct", sa.Double(), nullable=True),
        sa.Column("respiratory_rate", sa.Double(), nullable=True),
        sa.Column("hypnogram", sa.Text(), nullable=True),
        sa.Column("hypnogram_epoch_seconds", sa.Integer(), nullable=True),
        sa.Column("source_label", sa.String(length=64), nullable=True),
        sa.Column("night_sleep_seconds", sa.Integer(), nullable=True),
        sa.Column("night_efficiency_pct", sa.Double(), nullable=True),
        sa.Column("night_midpoint_minutes", sa.Double(), nullable=True),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_record_id", sa.String(length=200), nullable=False),
        sa.Column("score_state", sa.String(length=20), nullable=True),
        sa.Column("provider_updated_at", TIMESTAMP, nullable=True),
        sa.Column(
            "raw",
            JSON,
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "asleep_seconds IS NULL OR asleep_seconds >= 0",
            name=op.f("ck_sleep_sessions_asleep_seconds_non_negative"),
        ),
        sa.CheckConstraint(
            "awake_seconds IS NULL OR awake_seconds >= 0",
            name=op.f("ck_sleep_sessions_awake_seconds_non_negative"),
        ),
        sa.CheckConstraint(
            "consistency_pct IS NULL OR (consistency_pct >= 0 AND consistency_pct <= 100)",
            name=op.f("ck_sleep_sessions_consistency_pct_range"),
        ),
        sa.CheckConstraint(
            "cycle_count IS NULL OR cycle_count >= 0",
            name=op.f("ck_sleep_sessions_cycle_count_non_negative"),
        ),
        sa.CheckConstraint(
            "deep_seconds IS NULL OR deep_seconds >= 0",
            name=op.f("ck_sleep_sessions_deep_seconds_non_negative"),
        ),
        sa.CheckConstraint(
            "disturbance_count IS NULL OR disturbance_count >= 0",
            name=op.f("ck_sleep_sessions_disturbance_count_non_negative"),
        ),
        sa.CheckConstraint(
            "efficiency_pct IS NULL OR (efficiency_pct >= 0 AND efficiency_pct <= 100)",
            name=op.f("ck_sleep_sessions_efficiency_pct_range"),
        ),
        sa.CheckConstraint("end_at >= start_at", name=op.f("ck_sleep_sessions_ends_after_start")),
        sa.CheckConstraint(
            "hypnogram_epoch_seconds IS NULL OR hypnogram_epoch_seconds > 0",
            name=op.f("ck_sleep_sessions_epoch_positive"),
        ),
        sa.CheckConstraint(
            "in_bed_seconds IS NULL OR in_bed_seconds >= 0",
            name=op.f("ck_sleep_sessions_in_bed_seconds_non_negative"),
        ),
        sa.CheckConstraint(
            "latency_seconds IS NULL OR latency_seconds >= 0",
            name=op.f("ck_sleep_sessions_latency_seconds_non_negative"),
        ),
        sa.CheckConstraint(
            "light_seconds IS NULL OR light_seconds >= 0",
            name=op.f("ck_sleep_sessions_light_seconds_non_negative"),
        ),
        sa.CheckConstraint(
            "performance_pct IS NULL OR (performance_pct >= 0 AND performance_pct <= 100)",
            name=op.f("ck_sleep_sessions_performance_pct_range"),
        ),
        sa.CheckConstraint(
            "rem_seconds IS NULL OR rem_seconds >= 0",
            name=op.f("ck_sleep_sessions_rem_seconds_non_negative"),
        ),
        sa.CheckConstraint(
            "waso_count IS NULL OR waso_count >= 0",
            name=op.f("ck_sleep_sessions_waso_count_non_negative"),
        ),
        sa.CheckConstraint(
            "waso_seconds IS NULL OR waso_seconds >= 0",
            name=op.f("ck_sleep_sessions_waso_seconds_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_sleep_sessions_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_sleep_sessions_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sleep_sessions")),
        sa.UniqueConstraint(
            "connection_id",
            "provider_record_id",
            name=op.f("uq_sleep_sessions_connection_id_provider_record_id"),
        ),
    )
    with op.batch_alter_table("sleep_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sleep_sessions_person_id_local_date", ["person_id", "local_date"], unique=False
        )
        batch_op.create_index(
            "ix_sleep_sessions_person_id_start_at", ["person_id", "start_at"], unique=False
        )
        batch_op.create_index(
            "ix_sleep_sessions_counted_nights",
            [
                "person_id",
                "local_date",
                "provider",
                "night_sleep_seconds",
                "night_efficiency_pct",
                "night_midpoint_minutes",
            ],
            unique=False,
            sqlite_where=sa.text("counted = 1 AND is_nap = 0"),
            postgresql_where=sa.text("counted AND NOT is_nap"),
        )

    op.create_table(
        "sync_checkpoints",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("collection", sa.String(length=32), nullable=False),
        sa.Column("synced_until", TIMESTAMP, nullable=True),
        sa.Column("window_start", TIMESTAMP, nullable=True),
        sa.Column("window_end", TIMESTAMP, nullable=True),
        sa.Column("next_token", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_sync_checkpoints_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "collection", name=op.f("pk_sync_checkpoints")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("window_start", TIMESTAMP, nullable=True),
        sa.Column("window_end", TIMESTAMP, nullable=True),
        sa.Column(
            "counts",
            JSON,
            nullable=False,
        ),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "errors",
            JSON,
            nullable=False,
        ),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'partial', 'failed', 'cancelled')",
            name=op.f("ck_sync_runs_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_sync_runs_connection_id_connections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_sync_runs_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_sync_runs_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_runs_connection_id_created_at", ["connection_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_sync_runs_organization_id_created_at",
            ["organization_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "workouts",
        sa.Column("start_at", TIMESTAMP, nullable=False),
        sa.Column("end_at", TIMESTAMP, nullable=False),
        sa.Column("timezone_offset_minutes", sa.Integer(), nullable=True),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("sport_name", sa.String(length=100), nullable=True),
        sa.Column("strain", sa.Double(), nullable=True),
        sa.Column("average_heart_rate", sa.Double(), nullable=True),
        sa.Column("max_heart_rate", sa.Double(), nullable=True),
        sa.Column("kilojoules", sa.Double(), nullable=True),
        sa.Column("distance_meters", sa.Double(), nullable=True),
        sa.Column("altitude_gain_meters", sa.Double(), nullable=True),
        sa.Column(
            "zone_durations_seconds",
            JSON,
            nullable=True,
        ),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_record_id", sa.String(length=200), nullable=False),
        sa.Column("score_state", sa.String(length=20), nullable=True),
        sa.Column("provider_updated_at", TIMESTAMP, nullable=True),
        sa.Column(
            "raw",
            JSON,
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "distance_meters IS NULL OR distance_meters >= 0",
            name=op.f("ck_workouts_distance_non_negative"),
        ),
        sa.CheckConstraint("end_at >= start_at", name=op.f("ck_workouts_ends_after_start")),
        sa.CheckConstraint(
            "strain IS NULL OR (strain >= 0 AND strain <= 21)",
            name=op.f("ck_workouts_strain_range"),
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_workouts_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_workouts_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workouts")),
        sa.UniqueConstraint(
            "connection_id",
            "provider_record_id",
            name=op.f("uq_workouts_connection_id_provider_record_id"),
        ),
    )
    with op.batch_alter_table("workouts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_workouts_person_id_start_at", ["person_id", "start_at"], unique=False
        )

    op.create_table(
        "usage_events",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("api_key_id", sa.Uuid(), nullable=True),
        sa.Column("client_event_id", sa.String(length=100), nullable=True),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("package_name", sa.String(length=200), nullable=False),
        sa.Column("package_version", sa.String(length=100), nullable=False),
        sa.Column("python_version", sa.String(length=40), nullable=False),
        sa.Column("python_implementation", sa.String(length=40), nullable=True),
        sa.Column("os_type", sa.String(length=40), nullable=False),
        sa.Column("os_version", sa.String(length=100), nullable=True),
        sa.Column("os_release", sa.String(length=100), nullable=True),
        sa.Column("architecture", sa.String(length=40), nullable=True),
        sa.Column("installation_method", sa.String(length=40), nullable=True),
        sa.Column("virtual_env", sa.Boolean(), nullable=True),
        sa.Column("virtual_env_type", sa.String(length=40), nullable=True),
        sa.Column("cpu_count", sa.Integer(), nullable=True),
        sa.Column("total_memory_gb", sa.Double(), nullable=True),
        sa.Column("entry_point", sa.String(length=200), nullable=True),
        sa.Column(
            "extra_data",
            JSON,
            nullable=True,
        ),
        sa.Column("event_timestamp", TIMESTAMP, nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "cpu_count IS NULL OR cpu_count >= 0",
            name=op.f("ck_usage_events_cpu_count_non_negative"),
        ),
        sa.CheckConstraint(
            "total_memory_gb IS NULL OR total_memory_gb >= 0",
            name=op.f("ck_usage_events_memory_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_usage_events_api_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_usage_events_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_events")),
        sa.UniqueConstraint(
            "organization_id",
            "package_name",
            "client_event_id",
            name=op.f("uq_usage_events_organization_id_package_name_client_event_id"),
        ),
    )
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_usage_events_organization_id_package_name_event_timestamp",
            ["organization_id", "package_name", "event_timestamp"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_events_organization_id_package_name_event_timestamp")

    op.drop_table("usage_events")
    with op.batch_alter_table("workouts", schema=None) as batch_op:
        batch_op.drop_index("ix_workouts_person_id_start_at")

    op.drop_table("workouts")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_runs_organization_id_created_at")
        batch_op.drop_index("ix_sync_runs_connection_id_created_at")

    op.drop_table("sync_runs")
    op.drop_table("sync_checkpoints")
    with op.batch_alter_table("sleep_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sleep_sessions_counted_nights")
        batch_op.drop_index("ix_sleep_sessions_person_id_start_at")
        batch_op.drop_index("ix_sleep_sessions_person_id_local_date")

    op.drop_table("sleep_sessions")
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_family_id"))
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_account_id"))

    op.drop_table("refresh_tokens")
    with op.batch_alter_table("recoveries", schema=None) as batch_op:
        batch_op.drop_index("ix_recoveries_person_id_recorded_at")

    op.drop_table("recoveries")
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.drop_index("ix_cycles_person_id_start_at")

    op.drop_table("cycles")
    with op.batch_alter_table("body_measurements", schema=None) as batch_op:
        batch_op.drop_index("ix_body_measurements_person_id_measured_at")

    op.drop_table("body_measurements")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_organization_id"))

    op.drop_table("api_keys")
    op.drop_table("user_preferences")
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exports_person_id"))
        batch_op.drop_index("ix_exports_organization_id_created_at")

    op.drop_table("exports")
    op.drop_table("oauth_states")
    with op.batch_alter_table("mood_ratings", schema=None) as batch_op:
        batch_op.drop_index("ix_mood_ratings_person_id_local_date")

    op.drop_table("mood_ratings")
    with op.batch_alter_table("insights", schema=None) as batch_op:
        batch_op.drop_index("ix_insights_person_id_generated_at")

    op.drop_table("insights")
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connections_provider_user_id"))
        batch_op.drop_index(batch_op.f("ix_connections_organization_id"))
        batch_op.drop_index(batch_op.f("ix_connections_next_sync_at"))

    op.drop_table("connections")
    op.drop_table("burnout_scores")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_person_id"))
        batch_op.drop_index(batch_op.f("ix_accounts_organization_id"))

    op.drop_table("accounts")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_organization_id"))

    op.drop_table("people")
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_events_processed_at")

    op.drop_table("webhook_events")
    op.drop_table("organizations")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_jobs_lock_key_running",
            sqlite_where=sa.text("status = 'running' AND lock_key IS NOT NULL"),
            postgresql_where=sa.text("status = 'running' AND lock_key IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_jobs_dedup_key_queued",
            sqlite_where=sa.text("status = 'queued' AND dedup_key IS NOT NULL"),
            postgresql_where=sa.text("status = 'queued' AND dedup_key IS NOT NULL"),
        )
        batch_op.drop_index("ix_jobs_status_run_at")

    op.drop_table("jobs")
    op.drop_table("job_schedules")
