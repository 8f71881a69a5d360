"""The provider budget, a port that jobs and sync both use: one pacer per provider app,
shared by every process that calls it.

Each request first awaits ``pacer.acquire(provider, connection_key)``. Three rules decide when
it may go:

* **Spacing** (GCRA): requests of one provider app start at least ``window / limit`` apart
  (2 % wider, so network jitter cannot push the provider's own count over), which keeps every
  window of the provider at or under its limit. The slot is reserved first, then slept to, so
  waiters are served in order without polling.
* **Daily budget**: a rolling count in hourly buckets, read conservatively (the current bucket
  plus the previous 24), so the provider's 24-hour window is never exceeded.
* **Fair share**: a connection may take its next slot only ``n * spacing`` after its previous
  one, where ``n`` is the number of connections currently asking. Alone, a backfill runs at
  the full rate; once others ask, each gets an equal share, so no backfill starves them.

A 429 from the provider calls :meth:`Pacer.pause`, which pushes the shared schedule past the
announced reset: every worker in every process waits. Waits longer than
``pacer_max_wait_seconds`` raise :class:`BudgetExhausted` (a ``RetryLater``) so the job gives
its worker slot back instead of sleeping in it.

The memory adapter keeps the state in the process (embedded mode); the Redis adapter keeps it
in five keys per provider app and decides in one atomic Lua call, on Redis's clock.
"""

from somna.pacing.budget import Budget, Decision, pause_for, provider_budgets
from somna.pacing.factory import create_pacer
from somna.pacing.memory import MemoryPacer
from somna.pacing.port import BudgetExhausted, Pacer, PacerUnavailable
from somna.pacing.redis import RedisPacer
from somna.pacing.transport import PacedTransport

__all__ = [
    "Budget",
    "BudgetExhausted",
    "Decision",
    "MemoryPacer",
    "PacedTransport",
    "Pacer",
    "PacerUnavailable",
    "RedisPacer",
    "create_pacer",
    "pause_for",
    "provider_budgets",
]
