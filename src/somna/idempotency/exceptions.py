from __future__ import annotations

from typing import Any

from somna.errors import BadRequest, Conflict, SomnaError

REPLAYED_HEADER = "Idempotent-Replayed"


class InvalidIdempotencyKey(BadRequest):
    error_code = "invalid_idempotency_key"


class IdempotencyKeyReused(Conflict):
    error_code = "idempotency_key_reused"


class IdempotencyKeyInProgress(Conflict):
    """The first request with this key is still running; retry shortly."""

    error_code = "idempotency_key_in_progress"

    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            headers={"Retry-After": "1"},
        )


class IdempotentReplay(SomnaError):
    """Not an error: the stored first answer, rendered again by the one error handler."""

    def __init__(self, status_code: int, body: Any) -> None:
        super().__init__("replayed", headers={REPLAYED_HEADER: "true"})
        self.status_code = status_code
        self.stored_body = body

    def body(self) -> Any:
        return self.stored_body
