"""Errors of the analytics package."""

from __future__ import annotations

from somna.errors import NotFound, Unprocessable


class InvalidPeriod(Unprocessable):
    """A date range that is reversed, too long, or a week or month that does not exist."""

    kind = "invalid_period"


class CohortNotFound(NotFound):
    """None of the requested people exists in the caller's organisation."""

    error_code = "users_not_found"
