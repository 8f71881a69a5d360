"""Errors of the records package."""

from __future__ import annotations

from somna.errors import NotFound


class RecordNotFound(NotFound):
    """No record of this collection with this id for this person."""

    error_code = "record_not_found"
