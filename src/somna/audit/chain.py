"""The hash chain, as pure functions: a row's canonical bytes and its hash.

A row's hash is SHA-256 over the previous row's hash and the canonical JSON of every recorded
field (sorted keys, no spaces, UUIDs as dashed text, times as UTC ISO 8601 with microseconds).
Editing any field, or removing a row, breaks the link to the next one.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from somna.kit.time import utc_now

# The fields a hash covers, in the model's names; ``id``, ``hash`` itself excluded.
HASHED_FIELDS = (
    "organization_id",
    "seq",
    "occurred_at",
    "actor_type",
    "actor_id",
    "channel",
    "action",
    "route",
    "resource_type",
    "resource_id",
    "person_id",
    "client_address",
    "request_id",
    "outcome",
    "status_code",
    "prev_hash",
)


@dataclass(frozen=True, slots=True)
class AuditDraft:
    """An event before it is chained: everything but ``seq`` and the hashes."""

    organization_id: uuid.UUID
    actor_type: str
    actor_id: uuid.UUID | None
    channel: str
    action: str
    outcome: str = "allowed"
    route: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    person_id: uuid.UUID | None = None
    client_address: str | None = None
    request_id: str | None = None
    status_code: int | None = None
    occurred_at: datetime = field(default_factory=utc_now)

    def drafts(self) -> list[AuditDraft]:
        """Itself: a draft is buffered like a request note (``somna.audit.notes``)."""
        return [self]


def _canonical_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        # Both backends keep microseconds; the offset is normalised so SQLite's naive text and
        # PostgreSQL's timestamptz hash alike.
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def canonical(values: dict[str, Any]) -> bytes:
    """The bytes a row's hash covers."""
    document = {name: _canonical_value(values.get(name)) for name in HASHED_FIELDS}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def row_hash(values: dict[str, Any]) -> str:
    """The hash of a row whose ``values`` include ``seq`` and ``prev_hash``."""
    digest = hashlib.sha256(str(values["prev_hash"]).encode())
    digest.update(b"\n")
    digest.update(canonical(values))
    return digest.hexdigest()
