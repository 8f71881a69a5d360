"""The event types an endpoint can subscribe to (each documented in ``docs/webhooks.md``)."""

from __future__ import annotations

# Canonical collections (``somna.records``) and the event-type prefix of their records.
RECORD_EVENT_PREFIX = {
    "sleep": "sleep",
    "recovery": "recovery",
    "cycles": "cycle",
    "workouts": "workout",
    "body_measurements": "body_measurement",
}
RECORD_EVENT_TYPES = tuple(
    f"{prefix}.{change}"
    for prefix in RECORD_EVENT_PREFIX.values()
    for change in ("created", "updated", "deleted")
)
EXHAUSTED = "endpoint.delivery_exhausted"
PING = "ping"
PERSON_DELETED = "person.deleted"
EVENT_TYPES: tuple[str, ...] = (
    *RECORD_EVENT_TYPES,
    "sync.succeeded",
    "sync.failed",
    "backfill.completed",
    "connection.connected",
    "connection.reauthorization_required",
    "connection.revoked",
    "burnout.level_changed",
    "export.completed",
    PERSON_DELETED,
    EXHAUSTED,
)
ALL = "*"
# A sync page holds at most SOMNA_SYNC_PAGE_SIZE (<= 100) records of one collection: one event
# per change type per page, so a batch never exceeds this many records.
MAX_BATCH = 100


def subscribes(events: list[str], event_type: str) -> bool:
    """Whether an endpoint's subscription takes ``event_type``.

    ``*`` covers every type but ``endpoint.delivery_exhausted``, which goes only to endpoints
    that name it: otherwise two failing endpoints would report each other's exhaustion forever.
    """
    if event_type in events:
        return True
    return ALL in events and event_type != EXHAUSTED
