"""Syncing now (``sync``) and the runs it starts (``sync_runs``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from somna_client._base_client import AsyncAPIClient, SyncAPIClient
from somna_client._operations import (
    C,
    PageSpec,
    Resource,
    Spec,
    api_path,
    body,
    model,
    operation,
    paged,
    person_path,
    query,
)
from somna_client._polling import DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT, apoll, poll
from somna_client.models import SyncRunBatch, SyncRunRead

FINAL_RUN_STATES = frozenset({"succeeded", "partial", "failed", "cancelled"})


def _request(
    provider: str | None, start_date: date | str | None, end_date: date | str | None
) -> dict[str, Any] | None:
    return body(provider=provider, start_date=start_date, end_date=end_date) or None


@operation("POST", "/users/{user_id}/sync")
def _trigger(
    user_id: str,
    *,
    provider: str | None = None,
    start_date: date | str | None = None,
    end_date: date | str | None = None,
) -> Spec[SyncRunBatch]:
    """Sync a person's connections now (one run each); omit the dates for an incremental sync."""
    return Spec(
        "POST",
        person_path(user_id, "/sync"),
        model(SyncRunBatch),
        json=_request(provider, start_date, end_date),
        creates=True,
    )


@operation("POST", "/sync")
def _trigger_all(
    *,
    provider: str | None = None,
    start_date: date | str | None = None,
    end_date: date | str | None = None,
) -> Spec[SyncRunBatch]:
    """Sync every connection of the organisation now."""
    return Spec(
        "POST",
        api_path("/sync"),
        model(SyncRunBatch),
        json=_request(provider, start_date, end_date),
        creates=True,
    )


class Sync(Resource[C]):
    trigger = _trigger
    trigger_all = _trigger_all


@paged("GET", "/sync-runs")
def _list(
    *,
    user_id: str | None = None,
    provider: str | None = None,
    status: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> PageSpec[SyncRunRead]:
    """Sync runs, newest first, optionally for one person, provider or status."""
    params = query(user_id=user_id, provider=provider, status=status, limit=limit, cursor=cursor)
    return PageSpec(Spec("GET", api_path("/sync-runs"), dict, params=params), model(SyncRunRead))


@operation("GET", "/sync-runs/{run_id}")
def _retrieve(run_id: str) -> Spec[SyncRunRead]:
    """One sync run with its counts and errors."""
    return Spec("GET", api_path("/sync-runs/{id}", id=run_id), model(SyncRunRead))


class SyncRuns(Resource[C]):
    list = _list
    retrieve = _retrieve


class SyncRunsResource(SyncRuns[SyncAPIClient]):
    def wait(
        self,
        run_id: str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_progress: Callable[[SyncRunRead], Any] | None = None,
    ) -> SyncRunRead:
        """Poll until the run finishes (succeeded, partial, failed or cancelled);
        ``on_progress`` gets each state seen."""
        return poll(
            lambda: self.retrieve(run_id),
            FINAL_RUN_STATES,
            timeout=timeout,
            interval=poll_interval,
            on_progress=on_progress,
        )


class AsyncSyncRunsResource(SyncRuns[AsyncAPIClient]):
    async def wait(
        self,
        run_id: str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,  # noqa: ASYNC109
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_progress: Callable[[SyncRunRead], Any] | None = None,
    ) -> SyncRunRead:
        """Poll until the run finishes; ``on_progress`` may be a coroutine function."""
        return await apoll(
            lambda: self.retrieve(run_id),
            FINAL_RUN_STATES,
            timeout=timeout,
            interval=poll_interval,
            on_progress=on_progress,
        )
