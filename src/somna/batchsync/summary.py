"""What a batch sync did: a line per connection (from the runs as stored) and the totals."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.sync.repositories import SyncRunRepository

if TYPE_CHECKING:
    from somna.batchsync.targets import Target
    from somna.sync.batch import SyncOutcome

BUSY = "busy"  # the reason a connection another sync held was skipped (as the service says)
COLLECTIONS = ("sleep", "recovery", "cycles", "workouts", "body_measurements")


@dataclass
class RunLine:
    """What one connection's run did."""

    person_id: uuid.UUID
    email: str
    provider: str
    status: str
    run_id: uuid.UUID | None = None
    records: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    requests: int = 0
    retries: int = 0
    error: str | None = None

    @property
    def busy(self) -> bool:
        return self.status == "skipped" and self.error == BUSY

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": str(self.run_id) if self.run_id else None,
            "user_id": str(self.person_id),
            "email": self.email,
            "provider": self.provider,
            "status": self.status,
            "records": self.records,
            "pages": self.pages,
            "requests": self.requests,
            "retries": self.retries,
            "error": self.error,
        }


@dataclass
class BatchSummary:
    lines: list[RunLine]
    seconds: float

    @property
    def failures(self) -> list[RunLine]:
        return [line for line in self.lines if line.status != "succeeded" and not line.busy]

    @property
    def busy(self) -> list[RunLine]:
        """Connections skipped because another sync held them: not a failure."""
        return [line for line in self.lines if line.busy]

    @property
    def people(self) -> int:
        return len({line.person_id for line in self.lines})

    def records(self) -> dict[str, int]:
        totals: Counter[str] = Counter({name: 0 for name in COLLECTIONS})
        for line in self.lines:
            totals.update(line.records)
        return dict(totals)

    def total(self, attribute: str) -> int:
        return sum(int(getattr(line, attribute)) for line in self.lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "people": self.people,
            "connections": len(self.lines),
            "succeeded": len(self.lines) - len(self.failures) - len(self.busy),
            "failed": len(self.failures),
            "skipped": [
                {"email": line.email, "provider": line.provider, "reason": BUSY}
                for line in self.busy
            ],
            "records": self.records(),
            "pages": self.total("pages"),
            "requests": self.total("requests"),
            "retries": self.total("retries"),
            "seconds": round(self.seconds, 2),
            "failures": [
                {
                    "email": line.email,
                    "provider": line.provider,
                    "status": line.status,
                    "error": line.error,
                }
                for line in self.failures
            ],
            "runs": [line.as_json() for line in self.lines],
        }


async def collect_summary(
    sessionmaker: async_sessionmaker[AsyncSession],
    targets: list[Target],
    outcomes: list[SyncOutcome],
    seconds: float,
) -> BatchSummary:
    """The runs' counters as stored (what the API shows), in the targets' order."""
    by_connection = {outcome.connection_id: outcome for outcome in outcomes}
    lines: list[RunLine] = []
    async with sessionmaker() as session:
        runs = SyncRunRepository(session)
        for target in targets:
            outcome = by_connection.get(target.connection_id)
            if outcome is None:
                reason = (
                    "the provider refused the stored authorization: connect again"
                    if target.status == "reauthorization_required"
                    else f"connection is {target.status.replace('_', ' ')}"
                )
                lines.append(
                    RunLine(target.person_id, target.email, target.provider, "skipped", None,
                            error=reason)
                )  # fmt: skip
                continue
            run = await runs.get_unscoped(outcome.run_id) if outcome.run_id else None
            counts = run.counts if run is not None else {}
            lines.append(
                RunLine(
                    person_id=target.person_id,
                    email=target.email,
                    provider=target.provider,
                    status=outcome.status,
                    run_id=outcome.run_id,
                    records={
                        name: int(value.get("records", 0))
                        for name, value in counts.items()
                        if isinstance(value, dict)
                    },
                    pages=run.pages if run is not None else 0,
                    requests=run.requests if run is not None else 0,
                    retries=run.retries if run is not None else 0,
                    error=outcome.error,
                )
            )
    return BatchSummary(lines, seconds)
