"""The chain's canonical bytes are what the hash of every stored row was computed over: a
change to them (field, order, encoding) would make every existing chain fail ``verify``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from somna.audit.chain import row_hash


def test_a_known_row_keeps_its_hash() -> None:
    # Computed with the first implementation (json.dumps); a stored chain depends on it.
    values: dict[str, object] = {
        "organization_id": uuid.UUID("6f1c2a0e-4d7b-4a53-9a38-0c6c1d1e2f30"),
        "seq": 7,
        "occurred_at": datetime(2026, 12, 3, 18, 0, 0, 123456, tzinfo=UTC),
        "actor_type": "api_key",
        "actor_id": uuid.UUID("00000000-0000-4000-8000-000000000001"),
        "channel": "api",
        "action": "sleep.read",
        "route": "GET /api/v1/users/{user_id}/sleep",
        "resource_type": "sleep",
        "resource_id": None,
        "person_id": uuid.UUID("00000000-0000-4000-8000-000000000002"),
        "client_address": "127.0.0.1",
        "request_id": "ünïcode-id",
        "outcome": "allowed",
        "status_code": None,
        "prev_hash": "0" * 64,
    }
    assert row_hash(values) == KNOWN_HASH


KNOWN_HASH = "a618b93f528042860e7d35ef3b1fdeadfd1f8a11f115efae87a481749add67df"
