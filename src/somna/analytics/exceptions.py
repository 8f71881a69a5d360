"""Errors of the analytics package."""

from __future__ import annotations

from somna.errors import NotFound


class CohortNotFound(NotFound):
    """None of the requested people exists in the caller's organisation."""

    error_code = "users_not_found"
