"""The one place requests are recorded: a dependency on every API route and dashboard page.

It runs around the endpoint and reads the principal the endpoint authenticated (left in the
request scope by ``get_principal`` or the dashboard's session check):

- a write that succeeded is chained in the request's own session, just before the request
  commits: the change and its audit row commit together or not at all;
- a read that succeeded, and any request refused with 403 or 404 (recorded ``denied``; the
  request's transaction rolls back), goes to the buffered ``AuditWriter`` as a
  ``RequestNote``: a few values off the scope and a list append, the row itself derived when
  the writer flushes (measured in ``benchmarks/auth.py``);
- requests that never authenticated (401: no organisation to chain to), and other failures
  (422, 409, 429, 5xx: nothing was read or changed), stay in the request log only.

An organisation-wide answer that holds several people's data names them with
``kit.access.note_people``: the writer then records one row per person.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from fastapi import Request

from somna.audit.notes import RequestNote
from somna.audit.repository import AuditRepository
from somna.audit.writer import AuditWriter
from somna.auth.dependencies import PRINCIPAL_SCOPE_KEY
from somna.auth.principal import Principal
from somna.db import SessionDep
from somna.errors import SomnaError
from somna.kit.access import FAILED_SCOPE_KEY, PEOPLE_SCOPE_KEY
from somna.kit.time import utc_now
from somna.state import app_state

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DENIED_STATUSES = frozenset({403, 404})


def note_for(
    request: Request, principal: Principal, *, channel: str, outcome: str, status_code: int | None
) -> RequestNote:
    scope = request.scope
    client = scope.get("client")
    state = scope.get("state")
    return RequestNote(
        principal=principal,
        channel=channel,
        outcome=outcome,
        status_code=status_code,
        method=scope["method"],
        route=scope.get("route"),
        path=scope["path"],
        path_params=scope.get("path_params", {}),
        query_string=scope.get("query_string", b""),
        client_address=str(client[0]) if client else "unknown",
        request_id=state.get("request_id") if state else None,
        occurred_at=utc_now(),
        people=scope.get(PEOPLE_SCOPE_KEY),
    )


PrincipalOf = Callable[[Request], Principal | None]


def api_principal(request: Request) -> Principal | None:
    principal: Principal | None = request.scope.get(PRINCIPAL_SCOPE_KEY)
    return principal


class RecordAccess:
    """The audit dependency; ``channel`` is ``api`` or ``web``, ``principal_of`` finds who the
    endpoint authenticated (the dashboard keeps it elsewhere than the API)."""

    def __init__(self, channel: str, principal_of: PrincipalOf = api_principal) -> None:
        self.channel = channel
        self.principal_of = principal_of

    async def __call__(self, request: Request, session: SessionDep) -> AsyncIterator[None]:
        settings = app_state(request).settings
        if not settings.audit_enabled:
            yield
            return
        try:
            yield
        except SomnaError as exc:
            self._failed(request, exc.status_code)
            raise
        failed: int | None = request.scope.get(FAILED_SCOPE_KEY)
        if failed is not None:
            self._failed(request, failed)
            return
        principal = self.principal_of(request)
        if principal is None:
            return
        note = note_for(request, principal, channel=self.channel, outcome="allowed",
                        status_code=None)  # fmt: skip
        if request.method in SAFE_METHODS:
            writer(request).record(note)
        else:
            await AuditRepository(session).append(note.drafts())

    def _failed(self, request: Request, status_code: int) -> None:
        """A refusal (403, 404) is recorded as denied, off the request path (its transaction
        rolls back); any other failure touched nothing and is left to the request log."""
        principal = self.principal_of(request)
        if principal is None or status_code not in DENIED_STATUSES:
            return
        note = note_for(request, principal, channel=self.channel, outcome="denied",
                        status_code=status_code)  # fmt: skip
        writer(request).record(note)


def writer(request: Request) -> AuditWriter:
    return app_state(request).service("audit_writer", AuditWriter)


record_api_access = RecordAccess("api")
