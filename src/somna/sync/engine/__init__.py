"""Executing one sync run: per collection a window, pages fetched through the provider budget,
and their records committed (``sync_pages_per_commit`` pages at a time) together with the
checkpoint and the run's counters.

Three parts: ``run`` (claim, lease, and how the run ends), ``walk`` (windows, pages and
checkpoints) and ``ledger`` (every write of the run's counters).

A run is idempotent. Killed at any point, the next attempt of the same run resumes each
collection from its checkpoint (at worst the pages of one commit are fetched twice and
upserted again; a failing request commits the pages fetched before it first); a collection
already finished in this run is skipped. Errors are sorted three ways:

* waits (provider 429 beyond the retry budget, the pacer's ``BudgetExhausted``): ``RetryLater``,
  the worker slot is given back and the run, ``waiting_for_budget`` with its next attempt time,
  continues later. A wait never counts as an attempt and never fails a run;
* transient faults (5xx after retries, timeouts, torn bodies, database hiccups): noted on the
  run and re-raised so the job retries with backoff; on the last attempt the run fails;
* refusals that retrying cannot fix (a missing scope, a bad request): that collection is marked
  failed and the others go on (the run ends ``partial``); a refused refresh token or a spent
  quota ends the run at once.

The run row is its connection's lock. An executor (a job, a CLI process) claims it by
compare-and-set with its owner name and a lease it renews while it works; a partial unique
index keeps one run per connection running or waiting for budget. A run whose lease expired
lost its executor and is adopted; a live one is never taken (``ConnectionBusy``). Every
commit checks that the run is still its executor's and the connection still active, holding
the connection row so a disconnect cannot commit in between.
"""

from somna.sync.engine.context import ActiveRun, ProgressCallback, SyncProgress, SyncServices
from somna.sync.engine.errors import (
    PERSON_HIDDEN,
    ConnectionBusy,
    RunStopped,
    RunTakenOver,
)
from somna.sync.engine.run import MAX_RUN_ATTEMPTS, PROCESS_OWNER, RunExecutor, execute_run

__all__ = [
    "MAX_RUN_ATTEMPTS",
    "PERSON_HIDDEN",
    "PROCESS_OWNER",
    "ActiveRun",
    "ConnectionBusy",
    "ProgressCallback",
    "RunExecutor",
    "RunStopped",
    "RunTakenOver",
    "SyncProgress",
    "SyncServices",
    "execute_run",
]
