"""The pacer port: ``acquire`` before each provider request, ``note_response`` after it."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping

import structlog

from somna.kit.retry import RetryLater
from somna.pacing.budget import MAX_PAUSE_SECONDS, Budget, Decision, pause_for

log = structlog.get_logger(__name__)


class BudgetExhausted(RetryLater):
    """The provider's budget has no slot within the allowed wait: run the job later."""


class PacerUnavailable(RetryLater):
    """The shared pacer (Redis) does not answer: send nothing, retry the job later."""


class Pacer(ABC):
    """The port: ``acquire`` before each provider request, ``note_response`` after it."""

    def __init__(self, budgets: Mapping[str, Budget], *, max_wait: float) -> None:
        self.budgets = dict(budgets)
        self.max_wait = max_wait

    def budget(self, provider: str) -> Budget:
        try:
            return self.budgets[provider]
        except KeyError:
            raise LookupError(f"no budget is configured for provider {provider!r}") from None

    async def acquire(self, provider: str, connection_key: str) -> float:
        """Wait for this request's slot; returns the seconds waited.

        Raises :class:`BudgetExhausted` when no slot comes within ``max_wait`` (nothing is
        reserved then) and :class:`PacerUnavailable` when the shared state cannot be reached.
        """
        budget = self.budget(provider)
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            remaining = self.max_wait - (loop.time() - started)
            decision = await self._decide(budget, connection_key, max(remaining, 0.0))
            if decision.granted:
                if decision.wait > 0:
                    await asyncio.sleep(decision.wait)
                    # A 429 may have come in while this slot was being slept to: it wins.
                    if await self._paused_for(budget) > 0:
                        continue
                return loop.time() - started
            if decision.final or decision.wait > remaining:
                raise BudgetExhausted(
                    decision.wait, f"{provider} budget has no slot within {self.max_wait:.0f} s"
                )
            await asyncio.sleep(decision.wait)

    async def pause(self, provider: str, seconds: float) -> None:
        """Hold every request of this provider app for ``seconds`` (a 429's reset)."""
        seconds = min(max(seconds, 0.0), MAX_PAUSE_SECONDS)
        await self._pause(self.budget(provider), seconds)
        log.warning("pacer.paused", provider=provider, seconds=round(seconds, 3))

    async def note_response(
        self, provider: str, status_code: int, headers: Mapping[str, str]
    ) -> float | None:
        """Pause everyone when a response says the app's window is spent; returns the pause."""
        seconds = pause_for(status_code, headers)
        if seconds is not None and seconds > 0:
            await self.pause(provider, seconds)
        return seconds

    @abstractmethod
    async def _decide(self, budget: Budget, connection_key: str, max_wait: float) -> Decision: ...

    @abstractmethod
    async def _pause(self, budget: Budget, seconds: float) -> None: ...

    @abstractmethod
    async def _paused_for(self, budget: Budget) -> float:
        """Seconds left of a pause in force, or 0."""

    async def aclose(self) -> None:
        return None
