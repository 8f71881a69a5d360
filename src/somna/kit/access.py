"""What an answer tells the access log about itself, on the request's scope: the people whose
data an organisation-wide answer holds, and a failure a route turned into a page instead of
raising. Endpoints of any layer set these; the audit recorder, above them all, reads them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from starlette.requests import Request

PEOPLE_SCOPE_KEY = "somna.audit.people"
FAILED_SCOPE_KEY = "somna.audit.failed"


def note_people(request: Request, person_ids: Iterable[uuid.UUID]) -> None:
    """Name the people whose data this (organisation-wide) answer holds: one audit row each."""
    request.scope[PEOPLE_SCOPE_KEY] = tuple(person_ids)


def note_failure(request: Request, status_code: int) -> None:
    """Say that the endpoint failed with ``status_code`` though no exception leaves it: the
    dashboard turns its errors into pages inside the route, where the audit dependency cannot
    see them raised."""
    request.scope[FAILED_SCOPE_KEY] = status_code
