"""Why a run stops or steps aside, and how its errors are written down."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from somna.errors import describe
from somna.kit.retry import RetryLater
from somna.kit.time import utc_now

# Why a run of a person awaiting deletion stops (docs/privacy.md): restoring them syncs again.
PERSON_HIDDEN = "the person is scheduled for deletion"


def error_entry(attempt: int, collection: str | None, exc: BaseException) -> dict[str, Any]:
    """An error as the run row keeps it."""
    retryable = bool(getattr(exc, "retryable", False)) or isinstance(exc, RetryLater)
    return {
        "at": utc_now().isoformat(),
        "attempt": attempt,
        "collection": collection,
        "error": describe(exc),
        "retryable": retryable,
    }


class RunStopped(Exception):
    """The connection was disconnected or deleted while the run went on."""


class ConnectionBusy(Exception):
    """Another live executor holds the connection (its run is running or waiting)."""

    def __init__(self, run_id: uuid.UUID | None, until: datetime | None) -> None:
        super().__init__("another sync of this connection is running")
        self.run_id = run_id
        self.until = until

    def retry_in(self, *, floor: float = 1.0, cap: float = 60.0) -> float:
        """Seconds until the holder's lease ends (when it could be adopted), bounded."""
        if self.until is None:
            return floor
        return min(cap, max(floor, (self.until - utc_now()).total_seconds()))


class RunTakenOver(Exception):
    """This executor's lease lapsed and another adopted the run: stop, write nothing."""


class CollectionRefused(Exception):
    """The provider refused a collection in a way retrying cannot fix (a missing scope, a bad
    request): that collection fails, the others go on."""

    def __init__(self, collection: str, error: Exception) -> None:
        super().__init__(f"{collection}: {describe(error)}")
        self.collection = collection
        self.error = error
