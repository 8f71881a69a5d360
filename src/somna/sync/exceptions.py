from __future__ import annotations

from somna.errors import NotFound, SomnaError


class SyncRunNotFound(NotFound):
    error_code = "sync_run_not_found"


class NothingToSync(SomnaError):
    """The person (or organisation) has no active connection to sync."""

    status_code, error_code = 409, "no_active_connection"
