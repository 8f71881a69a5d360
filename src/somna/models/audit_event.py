from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base

AUDIT_OUTCOMES = ("allowed", "denied")
AUDIT_ACTOR_TYPES = ("account", "api_key", "cli")
AUDIT_CHANNELS = ("api", "web", "cli")
# The ``prev_hash`` of the first row of every organisation's chain.
GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One read or write of personal data, or one administrative action: append-only.

    No foreign keys on purpose: the trail outlives what it names (a deleted person keeps their
    rows, with the person id only), and a cascade would be an UPDATE or DELETE that the
    PostgreSQL trigger refuses. ``seq`` numbers an organisation's rows gap-free; ``hash`` covers
    the canonical serialisation of the row and ``prev_hash`` (see ``somna.audit.chain``).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("organization_id", "seq"),
        CheckConstraint("outcome IN ('allowed', 'denied')", name="outcome_known"),
        CheckConstraint("actor_type IN ('account', 'api_key', 'cli')", name="actor_type_known"),
        CheckConstraint("channel IN ('api', 'web', 'cli')", name="channel_known"),
        Index("ix_audit_events_organization_id_occurred_at", "organization_id", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID]
    seq: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime]
    actor_type: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(80))
    route: Mapped[str | None] = mapped_column(String(200))
    resource_type: Mapped[str | None] = mapped_column(String(60))
    resource_id: Mapped[str | None] = mapped_column(String(200))
    person_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    client_address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(10))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The last link of an organisation's chain: the lock writers take, and the tail check.

    Every append locks this row first (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has one
    writer), so one organisation's rows get consecutive ``seq`` values in commit order, and
    ``verify`` can tell a removed last row from a chain that simply ended there.
    """

    __tablename__ = "audit_chain_heads"

    organization_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
