"""Errors of the analytics package."""

from __future__ import annotations

from somna.errors import Unprocessable


class InvalidPeriod(Unprocessable):
    """A date range that is reversed, too long, or a week or month that does not exist."""

    error_code = "invalid_period"
