"""Background jobs: the port domain code imports, whichever adapter runs underneath.

Write a task once::

    from somna.jobs import JobContext, task

    @task("sync.connection", lock="conn:{connection_id}", dedup="sync:{connection_id}")
    async def sync_connection(ctx: JobContext, *, connection_id: str) -> None: ...

and enqueue it with the caller's session, so it is sent only if the caller commits::

    await queue.enqueue(session, "sync.connection", {"connection_id": str(conn.id)})

The adapter (the embedded ``jobs`` table or Procrastinate) is chosen by settings only. Nothing
outside this package imports Procrastinate.
"""

from somna.jobs.port import (
    Deferred,
    JobContext,
    JobInfo,
    JobQueue,
    RetryLater,
    WorkerServices,
    after_commit,
    backoff_seconds,
)
from somna.jobs.registry import (
    TASK_MODULES,
    PeriodicSpec,
    TaskNotFound,
    TaskRegistry,
    TaskSpec,
    periodic,
    registry,
    task,
)

__all__ = [
    "TASK_MODULES",
    "Deferred",
    "JobContext",
    "JobInfo",
    "JobQueue",
    "PeriodicSpec",
    "RetryLater",
    "TaskNotFound",
    "TaskRegistry",
    "TaskSpec",
    "WorkerServices",
    "after_commit",
    "backoff_seconds",
    "periodic",
    "registry",
    "task",
]
