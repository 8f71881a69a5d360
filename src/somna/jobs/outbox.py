"""The transactional outbox: jobs are written in the caller's transaction and relayed to the
queue afterwards, so a job asked for by committed data is never lost.

``JobQueue.enqueue`` stages the job as a row of ``job_outbox`` in the caller's session. Once the
caller commits, the relay hands it to the queue at once (same process, after the commit); if
that fails (the database connection dropped, the queue refused), the row stays and the periodic
``jobs.outbox.relay`` task, or the next worker to start, delivers it. Each relay deletes the
rows it delivers in the same transaction as the delivery, so a job is delivered exactly once:
the embedded adapter inserts into ``jobs``, the Procrastinate one into ``procrastinate_jobs``,
both in the database the outbox lives in.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from somna.jobs.port import JobRequest
from somna.jobs.registry import registry
from somna.jobs.repository import OutboxRepository

if TYPE_CHECKING:
    from somna.jobs.port import JobQueue

log = structlog.get_logger(__name__)

RELAY_TASK = "jobs.outbox.relay"
RELAY_BATCH = 200


def encode(request: JobRequest) -> dict[str, Any]:
    """A request as the JSON the outbox row keeps."""
    data = dataclasses.asdict(request)
    data["run_at"] = request.run_at.isoformat() if request.run_at is not None else None
    return data


def decode(data: dict[str, Any]) -> JobRequest:
    values = dict(data)
    run_at = values.get("run_at")
    values["run_at"] = datetime.fromisoformat(run_at) if run_at else None
    return JobRequest(**values)


async def stage(session: AsyncSession, request: JobRequest) -> uuid.UUID:
    """Write ``request`` to the outbox in ``session``'s transaction."""
    return await OutboxRepository(session).stage(request.task, encode(request))


async def stage_task(
    session: AsyncSession, queue: JobQueue | None, task: str, args: dict[str, Any]
) -> None:
    """Queue a registered task in ``session``'s transaction, with its own key templates: by
    ``queue`` when there is one (handed over at commit), else through the outbox alone, for
    code that runs without a queue (the CLI's in-process sync), which the periodic relay
    hands over within a minute."""
    if queue is not None:
        await queue.enqueue(session, task, args)
        return
    spec = registry.get(task)
    request = JobRequest(
        task=task, args=args, lock_key=spec.lock_key(args), dedup_key=spec.dedup_key(args),
        priority=spec.priority, run_at=None, max_attempts=spec.max_attempts,
    )  # fmt: skip
    await stage(session, request)


async def relay(queue: JobQueue, ids: Sequence[uuid.UUID] | None = None) -> int:
    """Deliver waiting jobs (only ``ids``, or all of them) to ``queue``; returns how many.

    A failure rolls the batch back: its rows stay for the next relay, none is half-sent.
    """
    delivered = 0
    while True:
        async with queue.sessionmaker() as session, session.begin():
            taken = await OutboxRepository(session).take(RELAY_BATCH, ids)
            for data in taken:
                await queue.deliver_in(session, decode(data))
        delivered += len(taken)
        if ids is not None or len(taken) < RELAY_BATCH:
            break
    if delivered:
        log.debug("jobs.outbox_relayed", jobs=delivered)
    return delivered
