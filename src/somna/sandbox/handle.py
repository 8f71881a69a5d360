"""What every sandbox handle shares: its server's lifecycle, its fault knobs and its clock."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, Self, TypeVar

from somna.sandbox.faults import FaultPlan
from somna.sandbox.runner import ThreadedServer


class ClockedWorld(Protocol):
    """A sandbox's state: guarded by ``lock``, on a clock that may be frozen and moved."""

    frozen_at: datetime | None
    clock_offset: timedelta

    @property
    def lock(self) -> AbstractContextManager[Any]: ...


WorldT = TypeVar("WorldT", bound=ClockedWorld)


class SandboxHandle(Generic[WorldT]):
    """Base of the sandbox handles; a subclass sets ``world``, ``faults`` and ``server``."""

    world: WorldT
    faults: FaultPlan
    server: ThreadedServer

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self.server.url

    def set_faults(self, **knobs: Any) -> None:
        self.faults.update(**knobs)

    def reset_faults(self) -> None:
        self.faults.reset()

    def freeze_clock(self, at: datetime) -> None:
        with self.world.lock:
            self.world.frozen_at = at
            self.world.clock_offset = timedelta(0)
