"""Errors of the records package."""

from __future__ import annotations

from somna.errors import NotFound


class RecordNotFound(NotFound):
    error_code = "record_not_found"
