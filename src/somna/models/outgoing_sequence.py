from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base


class OutgoingSequence(Base):
    """The last ``sequence`` given to an outgoing event about a person.

    Taken by an upsert in the event's transaction: on PostgreSQL the row stays locked until
    that transaction ends (SQLite has one writer), so a person's sequence numbers follow the
    order their changes committed in, which is what a receiver needs to order deliveries.
    """

    __tablename__ = "outgoing_sequences"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    last_value: Mapped[int] = mapped_column(BigInteger, default=0)
