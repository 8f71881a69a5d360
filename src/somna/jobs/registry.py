"""Task and periodic-schedule registry: which ``async def`` runs under which name and options.

A task is registered once, by name, with default options derived from its keyword arguments::

    @task("sync.connection", lock="conn:{connection_id}", dedup="sync:{connection_id}")
    async def sync_connection(ctx: JobContext, *, connection_id: str) -> None: ...

Both queue adapters run the same functions; nothing here knows which adapter is in use.
"""

from __future__ import annotations

import importlib
import inspect
import re
import string
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from croniter import croniter

if TYPE_CHECKING:
    from somna.jobs.port import JobContext

TaskFunction = Callable[..., Awaitable[None]]

# Modules whose import registers Somna's tasks; every worker and API process imports them, so
# a job deferred by one process can run in any other. Add a module here when it defines tasks.
TASK_MODULES: tuple[str, ...] = (
    "somna.jobs.tasks",
    "somna.exports.tasks",
    "somna.sync.tasks",
    "somna.webhooks.tasks",
    "somna.outgoing.tasks",
    "somna.housekeeping",
    "somna.privacy.tasks",
    "somna.analytics.tasks",
)

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


class TaskNotFound(LookupError):
    """A job names a task that no module registered."""


def _fields(template: str | None) -> set[str]:
    if template is None:
        return set()
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class TaskSpec:
    """A registered task and its default job options."""

    name: str
    function: TaskFunction
    lock: str | None = None
    dedup: str | None = None
    priority: int = 0
    max_attempts: int = 5

    def render(self, template: str | None, args: Mapping[str, Any]) -> str | None:
        """Fill a key template (``"conn:{connection_id}"``) from the job's arguments."""
        if template is None:
            return None
        return template.format_map(dict(args))

    def lock_key(self, args: Mapping[str, Any]) -> str | None:
        return self.render(self.lock, args)

    def dedup_key(self, args: Mapping[str, Any]) -> str | None:
        return self.render(self.dedup, args)

    async def run(self, context: JobContext, args: Mapping[str, Any]) -> None:
        await self.function(context, **args)


@dataclass(frozen=True)
class PeriodicSpec:
    """A task enqueued on a cron schedule (5 fields, or 6 with seconds last)."""

    name: str
    task: str
    cron: str
    args: Mapping[str, Any] = field(default_factory=dict)
    priority: int | None = None

    @property
    def dedup_key(self) -> str:
        # A periodic job never piles up behind itself: at most one of each is queued.
        return f"periodic:{self.name}"


class TaskRegistry:
    """Task names to functions, and the periodic schedules that enqueue them."""

    def __init__(self) -> None:
        self.tasks: dict[str, TaskSpec] = {}
        self.periodic_specs: dict[str, PeriodicSpec] = {}

    def task(
        self,
        name: str,
        *,
        lock: str | None = None,
        dedup: str | None = None,
        priority: int = 0,
        max_attempts: int = 5,
    ) -> Callable[[TaskFunction], TaskFunction]:
        """Register an ``async def fn(ctx, **kwargs)`` under ``name``."""
        if not _NAME.match(name):
            raise ValueError(f"task name {name!r} must be dotted lower-case words")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

        def decorator(function: TaskFunction) -> TaskFunction:
            if not inspect.iscoroutinefunction(function):
                raise TypeError(f"task {name!r} must be an async def function")
            parameters = set(inspect.signature(function).parameters)
            missing = (_fields(lock) | _fields(dedup)) - parameters
            if missing:
                raise ValueError(f"task {name!r}: key templates name unknown args {missing}")
            existing = self.tasks.get(name)
            if existing is not None and existing.function is not function:
                raise ValueError(f"task {name!r} is already registered")
            self.tasks[name] = TaskSpec(name, function, lock, dedup, priority, max_attempts)
            return function

        return decorator

    def periodic(
        self,
        name: str,
        *,
        task: str,
        cron: str,
        args: Mapping[str, Any] | None = None,
        priority: int | None = None,
    ) -> PeriodicSpec:
        """Enqueue ``task`` with ``args`` on the ``cron`` schedule, once per tick."""
        if not _NAME.match(name):
            raise ValueError(f"schedule name {name!r} must be dotted lower-case words")
        if not croniter.is_valid(cron):
            raise ValueError(f"schedule {name!r}: invalid cron expression {cron!r}")
        spec = PeriodicSpec(name, task, cron, dict(args or {}), priority)
        self.periodic_specs[name] = spec
        return spec

    def get(self, name: str) -> TaskSpec:
        try:
            return self.tasks[name]
        except KeyError:
            raise TaskNotFound(f"no task is registered as {name!r}") from None

    def check(self) -> None:
        """Every schedule names a registered task (run when a worker starts)."""
        for spec in self.periodic_specs.values():
            self.get(spec.task)


registry = TaskRegistry()
task = registry.task
periodic = registry.periodic


def load_task_modules(modules: tuple[str, ...] = TASK_MODULES) -> TaskRegistry:
    """Import every task module so the process-wide registry is complete."""
    for module in modules:
        importlib.import_module(module)
    registry.check()
    return registry
