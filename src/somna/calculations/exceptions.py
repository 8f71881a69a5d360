"""Errors of the calculations: a period they cannot be asked about is the caller's mistake."""

from __future__ import annotations

from somna.errors import Unprocessable


class InvalidPeriod(Unprocessable):
    """A date range that is reversed, too long, or a week or month that does not exist."""

    kind = "invalid_period"
